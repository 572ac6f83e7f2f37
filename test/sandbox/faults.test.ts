/** Sandbox fault injection: statuses, delays, resets, malformed and truncated answers. */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { PID, call, jobBody, jobsPath, assertError, waitUntil, expectSocketError, useSandbox } from '../support/sandbox-http';

describe('playment sandbox', function () {
  let sb: Sandbox;
  useSandbox((s) => (sb = s));

  describe('fault injection', () => {
    it('status: answers the injected status with api_error / FS_0000 and Retry-After, then recovers', async () => {
      sb.injectFault({ route: 'job.create', mode: 'status', status: 503, retryAfter: '2' });
      const failed = await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('f-1') });
      assertError(failed, 503, 'api_error');
      assert.equal(failed.headers['retry-after'], '2');
      assert.equal(sb.state.jobs().length, 0, 'nothing stored');
      assert.equal((await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('f-1') })).status, 200);

      const date = new Date(Date.now() + 3000).toUTCString();
      sb.injectFault({ route: 'job.get', mode: 'status', status: 500, retryAfter: date });
      const server = await call(sb.url, 'GET', `${jobsPath('v1')}/00000000-0000-4000-8000-000000000000`);
      assertError(server, 500, 'FS_0000');
      assert.equal(server.headers['retry-after'], date);
    });

    it('delay: waits, then handles normally', async () => {
      sb.injectFault({ route: 'project.details', mode: 'delay', delayMs: 150 });
      const started = Date.now();
      const res = await call(sb.url, 'GET', `/v1/projects/${PID}/details`);
      assert.ok(Date.now() - started >= 130, 'answered after the delay');
      assert.equal(res.status, 200);
    });

    it('delay-answer: handles at once (the job is stored), then holds the answer', async () => {
      sb.injectFault({ route: 'job.create', mode: 'delay-answer', delayMs: 300 });
      let answered = false;
      const pending = call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('da-1') }).finally(() => (answered = true));
      await waitUntil(() => sb.state.jobs().length === 1);
      assert.equal(answered, false, 'stored before the answer left');
      const res = await pending;
      assert.equal(res.status, 200);
      assert.equal(res.json.data.job_id, sb.state.jobs()[0].jobId);
      assert.equal(sb.state.requests[0].fault, 'delay-answer');
      assert.throws(() => sb.injectFault({ route: 'job.get', mode: 'delay-answer', delayMs: 2 ** 31 }), /delayMs/);
    });

    it('reset-before: the socket is destroyed and nothing is stored', async () => {
      sb.injectFault({ route: 'job.create', mode: 'reset-before' });
      await expectSocketError(call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('rb-1') }));
      assert.equal(sb.state.jobsByReferenceId(PID, 'rb-1').length, 0);
      assert.equal((await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('rb-1') })).status, 200);
    });

    it('reset-after: the job IS stored although the client got a socket error', async () => {
      sb.injectFault({ route: 'job.create', mode: 'reset-after' });
      await expectSocketError(call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('ra-1') }));
      assert.equal(sb.state.jobsByReferenceId(PID, 'ra-1').length, 1);
      // A blind retry now conflicts.
      assertError(await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('ra-1') }), 400, 'FS_0001', ['ra-1']);
      const recorded = sb.state.requests.find((r) => r.fault === 'reset-after');
      assert.equal(recorded?.status, 0);

      sb.injectFault({ route: 'batch.create', mode: 'reset-after' });
      await expectSocketError(call(sb.url, 'POST', `/v1/projects/${PID}/batch`, { body: { name: 'uncertain' } }));
      assert.ok(sb.state.batches(PID).some((b) => b.name === 'uncertain'));
    });

    it('malformed: 200 with an HTML page, then with truncated JSON', async () => {
      sb.injectFault({ route: 'job.create', mode: 'malformed', count: 2 });
      const html = await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('m-1') });
      assert.equal(html.status, 200);
      assert.equal(html.text, '<html>bad gateway</html>');
      const truncated = await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('m-1') });
      assert.equal(truncated.status, 200);
      assert.throws(() => JSON.parse(truncated.text));
      assert.equal(sb.state.jobs().length, 0, 'malformed answers do not handle the request');
      assert.equal((await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('m-1') })).status, 200);
    });

    it('truncated: the job IS stored, then 200 with half the body, then 200 with an empty body', async () => {
      sb.injectFault({ route: 'job.create', mode: 'truncated', count: 2 });
      const half = await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('t-1') });
      assert.equal(half.status, 200);
      assert.throws(() => JSON.parse(half.text));
      assert.ok(half.text.startsWith('{"success":true'), half.text);
      const empty = await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('t-2') });
      assert.equal(empty.status, 200);
      assert.equal(empty.text, '');
      const stored = ['t-1', 't-2'].map((ref) => sb.state.jobsByReferenceId(PID, ref));
      assert.deepEqual(
        stored.map((jobs) => jobs.length),
        [1, 1],
        'both jobs stored',
      );
      const recorded = sb.state.requests.filter((r) => r.fault === 'truncated');
      assert.deepEqual(
        recorded.map((r) => [r.status, r.jobId]),
        stored.map((jobs) => [200, jobs[0].jobId]),
      );
      assertError(await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('t-1') }), 400, 'FS_0001', ['t-1']);
    });

    it('applies faults FIFO to matching routes; count N is consumed by N requests; "*" matches all', async () => {
      sb.injectFault({ route: 'job.get', mode: 'status', status: 502 });
      sb.injectFault({ route: '*', mode: 'status', status: 503, count: 2 });
      const details = `/v1/projects/${PID}/details`;
      const getJob = `${jobsPath('v1')}/00000000-0000-4000-8000-000000000000`;
      assert.equal((await call(sb.url, 'GET', details)).status, 503, 'job.get fault skipped, * applies');
      assert.equal((await call(sb.url, 'GET', getJob)).status, 502, 'first matching fault wins');
      assert.equal((await call(sb.url, 'GET', getJob)).status, 503);
      assert.equal((await call(sb.url, 'GET', getJob)).status, 400, 'faults used up');
      assert.equal((await call(sb.url, 'GET', details)).status, 200);
    });

    it('count Infinity lasts until clearFaults()', async () => {
      sb.injectFault({ route: 'batch.jobs', mode: 'status', status: 429, count: Infinity });
      const list = `/v1/projects/${PID}/batch/${sb.state.batches(PID)[0].batchId}`;
      for (let i = 0; i < 5; i++) assertError(await call(sb.url, 'GET', list), 429, 'api_error');
      sb.clearFaults();
      assert.equal((await call(sb.url, 'GET', list)).status, 200);
    });

    it('rejects invalid fault specs', () => {
      assert.throws(() => sb.injectFault({ route: 'job.create', mode: 'explode' as 'status' }), TypeError);
      assert.throws(() => sb.injectFault({ route: 'nope' as 'job.get', mode: 'status' }), TypeError);
      assert.throws(() => sb.injectFault({ route: 'job.get', mode: 'delay' }), TypeError);
      assert.throws(() => sb.injectFault({ route: 'job.get', mode: 'status', count: 0 }), TypeError);
    });

    it('faulted requests are counted and recorded', async () => {
      sb.injectFault({ route: 'attachment', mode: 'status', status: 502 });
      await call(sb.url, 'GET', '/v1/attachments?url=x');
      assert.equal(sb.state.requestCount, 1);
      assert.equal(sb.state.requests[0].fault, 'status');
      assert.equal(sb.state.requests[0].status, 502);
      assert.equal(sb.state.routeCounts.attachment, 1);
    });
  });
});
