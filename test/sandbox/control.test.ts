/** The sandbox's control endpoint over HTTP: faults, state and reset. */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { PID, call, jobBody, jobsPath, assertError, useSandbox } from '../support/sandbox-http';

describe('playment sandbox', function () {
  let sb: Sandbox;
  const { createJob, createBatch } = useSandbox((s) => (sb = s));

  describe('control endpoint', () => {
    it('adds, applies and clears faults over HTTP without a key and without being counted', async () => {
      const added = await call(sb.url, 'POST', '/_sandbox/faults', {
        key: null,
        body: { route: 'job.create', mode: 'status', status: 502 },
      });
      assert.equal(added.status, 200);
      assert.deepEqual(added.json, { queued: 1 });
      assertError(await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('c-1') }), 502, 'api_error');

      await call(sb.url, 'POST', '/_sandbox/faults', { key: null, body: { route: '*', mode: 'status', status: 503, count: 'Infinity' } });
      assert.equal((await call(sb.url, 'GET', `/v1/projects/${PID}/details`)).status, 503);
      const cleared = await call(sb.url, 'DELETE', '/_sandbox/faults', { key: null });
      assert.deepEqual(cleared.json, { cleared: 1 });
      assert.equal((await call(sb.url, 'GET', `/v1/projects/${PID}/details`)).status, 200);

      const bad = await call(sb.url, 'POST', '/_sandbox/faults', { key: null, body: { route: 'job.create', mode: 'boom' } });
      assertError(bad, 400, 'GE_0001', ['mode']);
      assert.equal(sb.state.requestCount, 3, 'only the three API requests count');
    });

    it('reports counts and resets', async () => {
      await createJob('c-2');
      await createJob('c-3');
      await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('c-3') });
      await createBatch('c-batch');
      const state = await call(sb.url, 'GET', '/_sandbox/state', { key: null });
      assert.equal(state.status, 200);
      assert.equal(state.json.requestCount, 4);
      assert.equal(state.json.jobs, 2);
      assert.equal(state.json.batches, 3, 'two default batches + one created');
      assert.equal(state.json.duplicateReferenceIds, 1);

      const reset = await call(sb.url, 'POST', '/_sandbox/reset', { key: null });
      assert.equal(reset.status, 200);
      const after = (await call(sb.url, 'GET', '/_sandbox/state', { key: null })).json;
      assert.deepEqual([after.requestCount, after.jobs, after.batches, after.duplicateReferenceIds], [0, 0, 2, 0]);
      assertError(await call(sb.url, 'PUT', '/_sandbox/state', { key: null }), 405, 'method_not_allowed');
      assertError(await call(sb.url, 'GET', '/_sandbox/nothing', { key: null }), 404, 'not_found');
      assert.equal(sb.state.requestCount, 0);
    });
  });
});
