/** The sandbox's state: counted and recorded requests, and reset(). */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { KEY, PID, call, jobBody, jobsPath, sleep, waitUntil, expectSocketError, useSandbox } from '../support/sandbox-http';

describe('playment sandbox', function () {
  let sb: Sandbox;
  const { createJob, createBatch } = useSandbox((s) => (sb = s));

  describe('state', () => {
    it('counts every request, records route/status/headers and redacts the key', async () => {
      await createJob('st-1');
      await call(sb.url, 'GET', `/v1/projects/${PID}/details`, { key: null });
      await call(sb.url, 'GET', '/nowhere');
      assert.equal(sb.state.requestCount, 3);
      const [created, unauthorised, missing] = sb.state.requests;
      assert.deepEqual(
        [created.route, created.status, created.apiKeyPresent, created.method, created.path],
        ['job.create', 200, true, 'POST', `/v1/projects/${PID}/jobs`],
      );
      assert.equal(created.headers['x-api-key'], '[redacted]');
      assert.ok(!JSON.stringify(sb.state.requests).includes(KEY), 'the key value is never recorded');
      assert.deepEqual([unauthorised.route, unauthorised.status, unauthorised.apiKeyPresent], ['project.details', 401, false]);
      assert.deepEqual([missing.route, missing.status], [null, 404]);
      assert.equal(sb.state.routeCounts['job.create'], 1);
    });

    it('reset() forgets jobs, batches, requests and faults', async () => {
      await createJob('gone');
      await createBatch('gone');
      sb.injectFault({ route: '*', mode: 'status', count: Infinity });
      sb.state.reset();
      assert.equal(sb.state.jobs().length, 0);
      assert.equal(sb.state.batches(PID).length, 1);
      assert.equal(sb.state.requestCount, 0);
      assert.equal(sb.state.requests.length, 0);
      assert.equal((await call(sb.url, 'GET', `/v1/projects/${PID}/details`)).status, 200);
    });

    it('reset() drops requests still waiting on a delay fault: nothing from before a reset lands after it', async () => {
      sb.injectFault({ route: 'job.create', mode: 'delay', delayMs: 300 });
      const pending = call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('before-reset') });
      await waitUntil(() => sb.state.requests.length === 1);
      sb.state.reset();
      await expectSocketError(pending);
      await sleep(400);
      assert.equal(sb.state.jobs().length, 0, 'the delayed create did not store a job after the reset');
      assert.equal(sb.state.duplicateReferenceIdAttempts, 0);
    });
  });
});
