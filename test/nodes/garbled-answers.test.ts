/**
 * A 2xx answer to a job creation that cannot be read (a proxy cut it short, or sent it empty,
 * after the job was stored) leaves the outcome unknown: the node resends with the same reference
 * id or looks the job up, and the message ends with the real job id and `recovered: true`. Never
 * two jobs.
 */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { PROJECT, SUBMIT_NODE, frames, inject, loadFlow, useSandboxRuntime } from '../support/harness';

describe('submit: garbled answers to a job creation', function () {
  this.timeout(30_000);
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  function creates() {
    return sandbox.state.requests.filter((r) => r.route === 'job.create');
  }

  it('a 200 cut short, then an empty 200, after the job was stored: resent, FS_0001, recovered with the stored job id', async () => {
    const rec = await loadFlow(sandbox, [SUBMIT_NODE], { config: { maxRetries: 2, maxConcurrent: 2 } });
    // Both first attempts are sent at once and take the fault; their resends come after an answer.
    sandbox.injectFault({ route: 'job.create', mode: 'truncated', count: 2 });
    inject({ payload: frames(3, 'https://cdn.example.com/garbled-1') });
    inject({ payload: frames(3, 'https://cdn.example.com/garbled-2') });
    await rec.settled(2);
    assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
    for (const out of rec.outputs) {
      const stored = sandbox.state.jobsByReferenceId(PROJECT, out.reference_id);
      assert.equal(stored.length, 1, 'one job');
      assert.equal(out.job_id, stored[0].jobId);
      assert.equal(out.payload.recovered, true);
      assert.equal(out.payload.existing, undefined);
    }
    assert.deepEqual(
      creates().map((r) => [r.status, r.errorCode ?? r.fault]),
      [
        [200, 'truncated'],
        [200, 'truncated'],
        [400, 'FS_0001'],
        [400, 'FS_0001'],
      ],
    );
  });

  it('without retries the stored job is looked up by reference id (one listing read)', async () => {
    const rec = await loadFlow(sandbox, [SUBMIT_NODE], { config: { maxRetries: 0 } });
    sandbox.injectFault({ route: 'job.create', mode: 'truncated', count: 1 });
    inject({ payload: frames(2, 'https://cdn.example.com/garbled-no-retry') });
    await rec.settled(1);
    assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
    const stored = sandbox.state.jobs();
    assert.equal(stored.length, 1);
    assert.equal(rec.outputs[0].job_id, stored[0].jobId);
    assert.equal(rec.outputs[0].payload.recovered, true);
    assert.equal(creates().length, 1, 'not resent');
    assert.equal(sandbox.state.requests.filter((r) => r.route === 'batch.jobs').length, 1);
  });

  it('a garbled 200 with nothing stored is resent and creates the job once', async () => {
    const rec = await loadFlow(sandbox, [SUBMIT_NODE], { config: { maxRetries: 2 } });
    sandbox.injectFault({ route: 'job.create', mode: 'malformed', count: 1 });
    inject({ payload: frames(2, 'https://cdn.example.com/garbled-unstored') });
    await rec.settled(1);
    assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
    assert.equal(sandbox.state.jobs().length, 1);
    assert.equal(rec.outputs[0].job_id, sandbox.state.jobs()[0].jobId);
    assert.equal(rec.outputs[0].payload.recovered, undefined, 'the resend created it');
  });

  it('a garbled 200 that stored nothing, without retries: BAD_RESPONSE says the job is not listed and a resend is safe', async () => {
    const rec = await loadFlow(sandbox, [SUBMIT_NODE], { config: { maxRetries: 0 } });
    sandbox.injectFault({ route: 'job.create', mode: 'malformed', count: 1 });
    inject({ payload: frames(2, 'https://cdn.example.com/garbled-lost') });
    await rec.settled(1);
    assert.equal(rec.caught.length, 1);
    const caught = rec.caught[0];
    assert.equal(caught.error.code, 'BAD_RESPONSE');
    assert.equal(caught.statusCode, 200);
    assert.match(
      caught.error.message,
      /no job with reference id nr-[0-9a-f]{32} is listed in the project's default batch: resending the message is safe/,
    );
    assert.equal(sandbox.state.jobs().length, 0);
    // The Catch flow's resend: the same message, the same reference id.
    inject({ payload: frames(2, 'https://cdn.example.com/garbled-lost') });
    await rec.settled(2);
    assert.equal(rec.outputs[0].reference_id, caught.reference_id);
    assert.equal(sandbox.state.jobs().length, 1);
  });

  it('a bulk message with one answer cut short: every sequence sent on once, that one recovered', async () => {
    const rec = await loadFlow(sandbox, [SUBMIT_NODE], { config: { maxRetries: 2, maxConcurrent: 1 } });
    sandbox.injectFault({ route: 'job.create', mode: 'truncated', count: 1 });
    inject({ payload: [0, 1, 2].map((i) => ({ frames: frames(2, `https://cdn.example.com/garbled-bulk/${i}`) })) });
    await rec.settled(3);
    assert.equal(rec.caught.length, 0);
    assert.deepEqual(
      rec.outputs.map((m) => m.payload.recovered === true),
      [true, false, false],
    );
    assert.equal(sandbox.state.jobs().length, 3);
    assert.deepEqual(new Set(rec.outputs.map((m) => m.job_id)), new Set(sandbox.state.jobs().map((j) => j.jobId)));
  });
});
