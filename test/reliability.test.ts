/**
 * Injected faults through a real flow: every message ends exactly once, the sandbox holds each
 * reference id at most once, and lost answers are recovered, not billed twice.
 */
import assert from 'node:assert/strict';
import type { FaultSpec, Sandbox } from '../src/sandbox/server';
import {
  API_KEY,
  PROJECT,
  SUBMIT_NODE,
  assertEachEndedOnce,
  everythingVisible,
  frames,
  helper,
  inject,
  loadFlow,
  useSandboxRuntime,
} from './support/harness';
import { waitFor } from './support/wait';

const SUBMIT = SUBMIT_NODE;
const MESSAGES = 100;

describe('reliability under injected faults', function () {
  this.timeout(120_000);
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  // Only the delay cases let attempts time out (0.4 s against 0.7 s). The others allow 20 s: a
  // short timeout could also expire on an answer already sent when a loaded machine stalls this
  // process, which would turn an answered attempt into a recovered one.
  // recovered: true = some outputs are recovered, false = none, undefined = either (a request
  // handled late stores its job before or after the resend, as the backoff's jitter decides).
  const SHORT = 0.4;
  const LONG = 20;
  const matrix: Array<[string, FaultSpec, { recovered?: boolean; requestTimeout: number }]> = [
    ['HTTP 500', { route: 'job.create', mode: 'status', status: 500, count: 30 }, { recovered: false, requestTimeout: LONG }],
    ['HTTP 502', { route: 'job.create', mode: 'status', status: 502, count: 30 }, { recovered: false, requestTimeout: LONG }],
    ['HTTP 503', { route: 'job.create', mode: 'status', status: 503, count: 30 }, { recovered: false, requestTimeout: LONG }],
    [
      'HTTP 429 with Retry-After',
      { route: 'job.create', mode: 'status', status: 429, retryAfter: '0', count: 30 },
      { recovered: false, requestTimeout: LONG },
    ],
    ['requests handled after the timeout', { route: 'job.create', mode: 'delay', delayMs: 700, count: 10 }, { requestTimeout: SHORT }],
    [
      'slow answers past the timeout',
      { route: 'job.create', mode: 'delay-answer', delayMs: 700, count: 10 },
      { recovered: true, requestTimeout: SHORT },
    ],
    [
      'connection reset before handling',
      { route: 'job.create', mode: 'reset-before', count: 30 },
      { recovered: false, requestTimeout: LONG },
    ],
    [
      'connection reset after the job was stored',
      { route: 'job.create', mode: 'reset-after', count: 30 },
      { recovered: true, requestTimeout: LONG },
    ],
    // A garbled 200 leaves the outcome unknown: the create is resent with the same reference id.
    [
      'malformed 200 answers, nothing stored',
      { route: 'job.create', mode: 'malformed', count: 10 },
      { recovered: false, requestTimeout: LONG },
    ],
    [
      '200 answers cut short after the job was stored',
      { route: 'job.create', mode: 'truncated', count: 10 },
      { recovered: true, requestTimeout: LONG },
    ],
  ];

  for (const [name, fault, expect] of matrix) {
    it(`${name}: ${MESSAGES} messages each end once, no sequence stored twice`, async () => {
      const rec = await loadFlow(sandbox, [SUBMIT], {
        config: { maxRetries: 6, maxConcurrent: 8, requestTimeout: expect.requestTimeout },
      });
      sandbox.injectFault(fault);
      const ids = new Set<string>();
      for (let i = 0; i < MESSAGES; i++) {
        const _msgid = `m${i}`;
        ids.add(_msgid);
        inject({ _msgid, payload: frames(5, `https://cdn.example.com/${i}`) });
      }
      await assertEachEndedOnce(rec, ids, 100_000, 200);

      // Every output names a job the sandbox really holds, under its reference id.
      for (const out of rec.outputs) {
        const stored = sandbox.state.jobsByReferenceId(PROJECT, out.reference_id);
        assert.equal(stored.length, 1);
        assert.equal(stored[0].jobId, out.job_id);
      }
      // One job per sequence and per output: a sequence submitted again (under a new reference
      // id, or with the sandbox's duplicate check gone) would add a job.
      const jobs = sandbox.state.jobs();
      assert.equal(new Set(jobs.map((j) => j.frames.map((f) => f.src).join(' '))).size, jobs.length, 'a sequence was stored twice');
      assert.equal(jobs.length, rec.outputs.length, 'stored jobs = outputs');
      const recovered = rec.outputs.filter((m) => m.payload.recovered === true);
      const creates = sandbox.state.requests.filter((r) => r.route === 'job.create');
      // A cut-short 200 stored its job, but its answer was lost like a reset one.
      const answeredOk = creates.filter((r) => r.status === 200 && r.jobId !== undefined && r.fault !== 'truncated').length;
      const duplicateAnswers = creates.filter((r) => r.errorCode === 'FS_0001').length;
      if (expect.requestTimeout === LONG) {
        // No attempt times out here, so every answer reaches the client: one success answer per
        // output not recovered, one duplicate answer per recovered one. A create sent again after
        // its success would add a duplicate answer.
        assert.equal(answeredOk, rec.outputs.length - recovered.length, 'one success answer per sequence');
        assert.equal(duplicateAnswers, recovered.length, 'FS_0001 answers only for recoveries');
      } else {
        // Timed-out attempts are handled late, and their answers (200 or FS_0001) go nowhere.
        assert.ok(answeredOk >= rec.outputs.length - recovered.length);
        assert.ok(duplicateAnswers >= recovered.length);
      }
      if (expect.recovered === true) assert.ok(recovered.length > 0, 'lost answers were recovered and flagged');
      if (expect.recovered === false) assert.equal(recovered.length, 0);
      assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.slice(0, 3).map((m) => m.error)));
      if (fault.mode === 'truncated') assert.equal(recovered.length, fault.count, 'each cut-short answer recovered');
      assert.ok(!everythingVisible(rec, ['n1', 'cfg']).includes(API_KEY), 'the key leaked');
    });
  }

  it('a lost answer whose job cannot be found ends with DUPLICATE_UNRESOLVED', async () => {
    // Someone else used the reference id in another batch: after an uncertain first attempt the
    // duplicate answer cannot be ours, and the job is not where ours would be.
    const seed = await loadFlow(sandbox, [
      { id: 'b1', type: 'playment-create-batch', batchName: 'elsewhere', batchNameType: 'str', wires: [['ch']] },
      { id: 'ch', type: 'change', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'frames', tot: 'msg' }], wires: [['n0']] },
      { ...SUBMIT, id: 'n0', referenceId: 'shared-ref', referenceIdType: 'str', wires: [['out']] },
    ]);
    inject({ frames: frames(2) }, 'b1');
    await seed.settled(1);
    assert.equal(seed.outputs.length, 1, JSON.stringify(seed.caught.map((m) => m.error)));
    await helper.unload();

    const rec = await loadFlow(sandbox, [{ ...SUBMIT, referenceId: 'shared-ref', referenceIdType: 'str' }], { config: { maxRetries: 3 } });
    sandbox.injectFault({ route: 'job.create', mode: 'status', status: 502, count: 1 });
    inject({ payload: frames(3) });
    await rec.settled(1);
    assert.equal(rec.caught.length, 1);
    assert.equal(rec.caught[0].error.code, 'DUPLICATE_UNRESOLVED');
    assert.match(rec.caught[0].error.message, /shared-ref/);
    assert.equal(sandbox.state.jobsByReferenceId(PROJECT, 'shared-ref').length, 1);
  });

  it('a resent batch creation whose first answer was lost resolves the batch by name', async () => {
    const rec = await loadFlow(sandbox, [{ id: 'n1', type: 'playment-create-batch', reuseExisting: false, wires: [['out']] }], {
      config: { maxRetries: 3, requestTimeout: 0.4 },
    });
    sandbox.injectFault({ route: 'batch.create', mode: 'reset-after', count: 1 });
    inject({ payload: 'lost-answer-batch' });
    await rec.settled(1);
    assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
    assert.equal(rec.outputs[0].payload.recovered, true);
    const stored = sandbox.state.batches(PROJECT).filter((b) => b.name === 'lost-answer-batch');
    assert.equal(stored.length, 1);
    assert.equal(stored[0].batchId, rec.outputs[0].batch_id);
  });

  it('honours Retry-After: the resend waits at least as long as asked', async () => {
    const rec = await loadFlow(sandbox, [SUBMIT]);
    sandbox.injectFault({ route: 'job.create', mode: 'status', status: 429, retryAfter: '1', count: 1 });
    inject({ payload: frames(2) });
    await rec.settled(1);
    assert.equal(rec.caught.length, 0);
    const attempts = sandbox.state.requests.filter((r) => r.route === 'job.create');
    assert.deepEqual(
      attempts.map((r) => r.status),
      [429, 200],
    );
    assert.ok(attempts[1].receivedAtMs - attempts[0].receivedAtMs >= 1000, 'resent after Retry-After');
  });

  it('honours Retry-After given as an HTTP date', async () => {
    const rec = await loadFlow(sandbox, [SUBMIT]);
    const when = new Date(Date.now() + 2000).toUTCString();
    sandbox.injectFault({ route: 'job.create', mode: 'status', status: 503, retryAfter: when, count: 1 });
    inject({ payload: frames(2) });
    await rec.settled(1);
    const attempts = sandbox.state.requests.filter((r) => r.route === 'job.create');
    assert.deepEqual(
      attempts.map((r) => r.status),
      [503, 200],
    );
    // HTTP dates have whole seconds: at least the next second boundary.
    assert.ok(attempts[1].receivedAtMs >= Date.parse(when) - 1000);
  });

  it('never retries other 4xx answers', async () => {
    const rec = await loadFlow(sandbox, [SUBMIT], { config: { maxRetries: 4 } });
    sandbox.injectFault({ route: 'job.create', mode: 'status', status: 404, count: 1 });
    inject({ payload: frames(2) });
    await rec.settled(1);
    assert.equal(rec.caught[0].error.code, 'api_error');
    assert.equal(rec.caught[0].statusCode, 404);
    assert.equal(sandbox.state.routeCounts['job.create'], 1);
  });

  it('QUEUE_FULL when more messages arrive than the queue holds, none dropped', async () => {
    const rec = await loadFlow(sandbox, [SUBMIT], { config: { rateLimit: 20, maxConcurrent: 1, maxQueue: 10 } });
    for (let i = 0; i < 40; i++) inject({ _msgid: `q${i}`, payload: frames(1, `https://cdn.example.com/q${i}`) });
    await rec.settled(40, 30_000);
    const full = rec.caught.filter((m) => m.error.code === 'QUEUE_FULL');
    assert.ok(full.length >= 25, `${full.length} QUEUE_FULL`);
    assert.equal(rec.outputs.length + rec.caught.length, 40);
    assert.equal(sandbox.state.routeCounts['job.create'], rec.outputs.length);
  });

  it('a burst meeting a full queue is refused with QUEUE_FULL before planning (bad input is not even read)', async () => {
    // One request in flight, two queued behind a slow rate: the queue (2) is full.
    const rec = await loadFlow(sandbox, [SUBMIT], { config: { rateLimit: 0.2, maxConcurrent: 1, maxQueue: 2 } });
    const limiter = helper.getNode('cfg').client.limiter;
    // One burst, as an inject of many messages at once: three valid ones fill the queue, then
    // messages whose planning would fail with INVALID_INPUT and valid ones both meet a full queue.
    for (let i = 0; i < 3; i++) inject({ _msgid: `ok${i}`, payload: frames(1, `https://cdn.example.com/burst${i}`) });
    for (let i = 0; i < 50; i++) inject({ _msgid: `bad${i}`, payload: ['not a url'] });
    for (let i = 0; i < 20; i++) inject({ _msgid: `late${i}`, payload: frames(2, `https://cdn.example.com/late${i}`) });
    await rec.settled(71, 10_000);
    assert.equal(limiter.full, true);
    assert.equal(limiter.queued, 2);
    // The limiter's own refusal, for comparison (a full queue refuses without side effects).
    const fromLimiter = await limiter.acquire().then(
      () => assert.fail('the queue should be full'),
      (e: Error) => e,
    );
    assert.equal(rec.caught.length, 70);
    for (const m of rec.caught) {
      assert.equal(m.error.code, 'QUEUE_FULL', `${m._msgid}: ${m.error.code} ${m.error.message}`);
      // A Catch node shows the error as `PlaymentError: <message>`.
      assert.equal(m.error.message, String(fromLimiter));
    }
    assert.deepEqual(
      rec.outputs.map((m) => m._msgid),
      ['ok0'],
    );
    assert.equal(sandbox.state.routeCounts['job.create'], 1);
    assert.equal(helper.getNode('n1').status.lastCall.args[0].fill, 'blue', 'two still queued');
  });

  it('a redeploy with 50 requests in flight ends all 50, with no close timeout', async function () {
    await loadFlow(sandbox, [SUBMIT], { config: { maxConcurrent: 50, requestTimeout: 30 } });
    sandbox.injectFault({ route: 'job.create', mode: 'delay', delayMs: 20_000, count: 50 });
    for (let i = 0; i < 60; i++) inject({ _msgid: `d${i}`, payload: frames(1, `https://cdn.example.com/d${i}`) });
    // Wait until 50 are at the sandbox; 10 more wait in the queue.
    await waitFor('50 requests at the sandbox', () => sandbox.state.routeCounts['job.create'] >= 50, 10_000, 20);
    // The Catch node stops with the flow: read the errors the node reported with done(err).
    // Stop the flows as a redeploy does (helper.unload would drop the spies first).
    const node = helper.getNode('n1');
    const t0 = Date.now();
    await helper.clearFlows();
    const closeMs = Date.now() - t0;
    const reported: Array<{ err: any; msg: any }> = node.error.args.map(([err, msg]: [any, any]) => ({ err, msg }));
    assert.equal(reported.length, 60);
    assert.equal(new Set(reported.map((r: any) => r.msg._msgid)).size, 60, 'each message ended once');
    assert.ok(reported.every((r: any) => r.err.code === 'ABORTED'));
    // In-flight ones may exist at Playment; they say so and keep their reference id for a safe resend.
    const inFlight = reported.filter((r: any) => /may already exist/.test(r.err.message));
    assert.equal(inFlight.length, 50);
    assert.ok(inFlight.every((r: any) => r.msg.reference_id && r.err.message.includes(r.msg.reference_id)));
    assert.equal(reported.filter((r: any) => /nothing was sent/.test(r.err.message)).length, 10);
    assert.ok(closeMs < 14_000, `close took ${closeMs} ms`);
    const logs = JSON.stringify(helper.log().args);
    assert.ok(!logs.includes('Close timed out'), 'no close timeout');
  });
});
