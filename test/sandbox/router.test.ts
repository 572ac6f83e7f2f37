/** Sandbox routing: the API key, known projects, unknown routes and methods. */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { KEY, PID, call, jobBody, jobsPath, assertError, useSandbox } from '../support/sandbox-http';

describe('playment sandbox', function () {
  let sb: Sandbox;
  const { startExtra } = useSandbox((s) => (sb = s));

  describe('auth, projects and routing', () => {
    const routes = (): [string, string, unknown?][] => [
      ['POST', jobsPath('v0'), jobBody('a')],
      ['POST', jobsPath('v1'), jobBody('a')],
      ['POST', `/v1/project/${PID}/batch`, { name: 'n' }],
      ['POST', `/v1/projects/${PID}/batch`, { name: 'n' }],
      ['GET', `${jobsPath('v0')}/00000000-0000-4000-8000-000000000000`],
      ['GET', `${jobsPath('v1')}/00000000-0000-4000-8000-000000000000`],
      ['GET', `/v0/projects/${PID}/batch/00000000-0000-4000-8000-000000000000`],
      ['GET', `/v1/projects/${PID}/batch/00000000-0000-4000-8000-000000000000`],
      ['GET', `/v0/projects/${PID}/details`],
      ['GET', `/v1/projects/${PID}/details`],
      ['GET', `/v1/attachments?url=x`],
    ];

    it('401 auth-failure on every API route without a valid x-api-key', async () => {
      for (const [method, p, body] of routes()) {
        assertError(await call(sb.url, method, p, { body, key: null }), 401, 'auth-failure');
        assertError(await call(sb.url, method, p, { body, key: 'wrong' }), 401, 'auth-failure');
      }
      assert.equal(sb.state.jobs().length, 0);
    });

    it('accepts any of several configured keys', async () => {
      const multi = await startExtra({ apiKeys: ['k1', 'k2'] });
      assert.equal((await call(multi.url, 'GET', `/v1/projects/${PID}/details`, { key: 'k2' })).status, 200);
      assertError(await call(multi.url, 'GET', `/v1/projects/${PID}/details`, { key: KEY }), 401, 'auth-failure');
    });

    it('403 unauthorized for an unknown project', async () => {
      for (const [method, p, body] of routes()) {
        if (p.startsWith('/v1/attachments')) continue;
        const res = await call(sb.url, method, p.replace(PID, 'secret-project'), { body });
        assertError(res, 403, 'unauthorized', ['secret-project']);
      }
    });

    it('404 not_found for unknown routes, 405 for a wrong method', async () => {
      for (const p of [
        '/',
        '/v2/projects/x/jobs',
        `/v0/project/${PID}/batch`,
        `/v0/projects/${PID}/batch`,
        '/v0/attachments',
        `/v1/projects/${PID}/nope`,
      ]) {
        const method = p.endsWith('/batch') ? 'POST' : 'GET';
        assertError(await call(sb.url, method, p), 404, 'not_found');
      }
      const res = await call(sb.url, 'GET', jobsPath('v1'));
      assertError(res, 405, 'method_not_allowed');
      assert.equal(res.headers.allow, 'POST');
      assertError(await call(sb.url, 'DELETE', `/v1/projects/${PID}/details`), 405, 'method_not_allowed');
    });
  });
});
