/**
 * Backlogs of real size: the account's default queue holds a file of 10,000 frame lists, and
 * queued jobs leave in the order they arrived.
 */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { NUMERIC_SETTINGS } from '../../src/nodes/common/limits';
import { SUBMIT_NODE, assertEachEndedOnce, inject, loadFlow, useSandboxRuntime } from '../support/harness';

/**
 * 3,000 keeps the suite quick (10,000 takes about 35 s here and passes as well); the old default
 * queue (1,000) refused two thirds of this burst.
 */
const BURST = 3_000;

describe('submit: backlogs', function () {
  this.timeout(180_000);
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  it(`the default queue takes a burst of ${BURST.toLocaleString('en-US')} sequences: none refused, each ends once`, async () => {
    assert.ok(NUMERIC_SETTINGS['playment-config'].maxQueue.default >= 10_000, 'a file of 10,000 frame lists fits');
    // No maxQueue in the config node: its default applies. No rate limit, so the test is quick;
    // the messages still arrive together, before the first request is answered.
    const rec = await loadFlow(sandbox, [SUBMIT_NODE], { config: { rateLimit: 0, maxConcurrent: 64 } });
    const ids = new Set<string>();
    for (let i = 0; i < BURST; i++) {
      const _msgid = `b${i}`;
      ids.add(_msgid);
      inject({ _msgid, payload: [`https://cdn.example.com/burst/${i}/frame_0001.jpg`] });
    }
    await assertEachEndedOnce(rec, ids, 150_000, 100);
    const codes = new Set(rec.caught.map((m) => m.error.code));
    assert.equal(rec.caught.length, 0, `errors: ${[...codes].join(', ')}`);
    assert.equal(sandbox.state.jobs().length, BURST);
  });
});

describe('submit: the queue drains in order at the configured rate', function () {
  this.timeout(60_000);
  let sandbox!: Sandbox;
  // The sandbox refuses more than 50 requests in any second with 429; the client is set to 25.
  useSandboxRuntime({ rateLimitPerSecond: 50 }, (s) => (sandbox = s));

  it('queued jobs leave in arrival order, never faster than the rate limit', async () => {
    const rec = await loadFlow(sandbox, [SUBMIT_NODE], { config: { rateLimit: 25, maxConcurrent: 1, maxRetries: 0 } });
    const count = 40;
    const ids = new Set<string>();
    for (let i = 0; i < count; i++) {
      const _msgid = `o${i}`;
      ids.add(_msgid);
      inject({ _msgid, payload: [`https://cdn.example.com/order/${i}/frame_0001.jpg`] });
    }
    await assertEachEndedOnce(rec, ids, 30_000, 50);
    assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.slice(0, 2).map((m) => m.error)));
    const jobOf = new Map(rec.outputs.map((m) => [m._msgid, m.job_id]));
    const sent = sandbox.state.requests.filter((r) => r.route === 'job.create').map((r) => r.jobId);
    assert.deepEqual(
      sent,
      [...ids].map((id) => jobOf.get(id)),
      'requests in the order the messages arrived',
    );
    assert.equal(sandbox.state.requests.filter((r) => r.status === 429).length, 0, 'never above the rate');
  });
});
