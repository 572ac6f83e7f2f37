/**
 * The life of one call: a slot, an attempt, the retry policy and the deadline. The attempts are
 * scripted (each one answers with the next outcome), so every decision is seen without a server.
 */
import assert from 'node:assert/strict';
import { PlaymentError } from '../../src/api/errors';
import { RequestLimiter, type LimiterChange } from '../../src/api/limiter';
import { useMockClock } from '../support/mock-clock';
import { RequestLoop, asAborted, type Attempt, type CallOptions, type LoopSettings } from '../../src/api/request-loop';

type Outcome = unknown | PlaymentError;

/** An attempt that answers with `outcomes` in turn (a PlaymentError is thrown) and records its arguments. */
function scripted(outcomes: Outcome[]) {
  const timeouts: number[] = [];
  const attempt: Attempt = async (_signals, timeoutMs) => {
    timeouts.push(timeoutMs);
    const next = outcomes.shift();
    if (next instanceof Error) throw next;
    return next;
  };
  return {
    attempt,
    timeouts,
    get count() {
      return timeouts.length;
    },
  };
}

const err = (code: string, init: Partial<ConstructorParameters<typeof PlaymentError>[0]> = {}) =>
  new PlaymentError({ code, message: `${code} happened`, ...init });

describe('request loop: one call, its retries and its deadline', () => {
  let debug: string[];
  let trace: string[];
  let changes: LimiterChange[];
  let closing: AbortController;

  beforeEach(() => {
    debug = [];
    trace = [];
    changes = [];
    closing = new AbortController();
  });

  function loop(overrides: Partial<LoopSettings> = {}) {
    const limiter = new RequestLimiter({ ratePerSecond: 0, maxConcurrent: 4, maxQueue: 1, onChange: (c) => changes.push(c) });
    const settings: LoopSettings = {
      limiter,
      retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 },
      timeoutMs: 30_000,
      deadlineMs: 60_000,
      log: { debug: (t) => debug.push(t), trace: (t) => trace.push(t) },
      closing: closing.signal,
      aborting: new AbortController().signal,
      ...overrides,
    };
    return { loop: new RequestLoop(settings), limiter: settings.limiter };
  }

  async function run(outcomes: Outcome[], opts: { idempotent?: boolean; call?: CallOptions; settings?: Partial<LoopSettings> } = {}) {
    const script = scripted(outcomes);
    const { loop: l, limiter } = loop(opts.settings);
    const result = l
      .run({
        route: 'job.create',
        target: 'POST /v1/projects/p/jobs',
        call: opts.call ?? {},
        idempotent: opts.idempotent ?? false,
        attempt: script.attempt,
      })
      .then(
        (data) => ({ data, error: undefined }),
        (e: PlaymentError) => ({ data: undefined, error: e }),
      );
    return { ...(await result), script, limiter };
  }

  it('returns the data of the first answer that succeeds, after retrying retryable failures', async () => {
    const { data, script, limiter } = await run([err('HTTP_ERROR', { statusCode: 503, retryable: true }), { job_id: 'j1' }]);
    assert.deepEqual(data, { job_id: 'j1' });
    assert.equal(script.count, 2);
    assert.equal(limiter.inFlight, 0, 'every slot given back');
    assert.equal(trace.length, 2);
    assert.match(trace[0], /^job\.create POST \/v1\/projects\/p\/jobs: attempt 1 ended with 503 HTTP_ERROR in \d+ ms$/);
    assert.match(trace[1], /^job\.create POST \/v1\/projects\/p\/jobs: attempt 2 answered ok \(2xx\) in \d+ ms$/);
    assert.match(debug[0], /^job\.create POST \/v1\/projects\/p\/jobs: retry 1 of 2 in \d+ ms after 503 HTTP_ERROR$/);
  });

  it('a final failure ends the call at once', async () => {
    const { error, script } = await run([err('FS_0003', { statusCode: 400 })], { idempotent: true });
    assert.equal(error?.code, 'FS_0003');
    assert.equal(error?.mayExist, undefined);
    assert.equal(script.count, 1);
    assert.deepEqual(debug, []);
  });

  it('gives up after maxRetries retries, and says so', async () => {
    const failing = () => err('NETWORK', { retryable: true });
    const { error, script } = await run([failing(), failing(), failing(), { never: 'reached' }], { idempotent: true });
    assert.equal(error?.code, 'NETWORK');
    assert.equal(script.count, 3);
    assert.equal(debug.at(-1), 'job.create POST /v1/projects/p/jobs: not retried after NETWORK (attempt 3): all 2 retries used');
  });

  it('a garbled answer to a create is sent again; to a read it is final', async () => {
    const garbled = () => err('BAD_RESPONSE', { statusCode: 200 });
    const create = await run([garbled(), { job_id: 'j1' }]);
    assert.deepEqual(create.data, { job_id: 'j1' });
    assert.equal(create.script.count, 2);
    const read = await run([garbled(), { job_id: 'j1' }], { idempotent: true });
    assert.equal(read.error?.code, 'BAD_RESPONSE');
    assert.equal(read.script.count, 1);
  });

  it('a create whose attempt may have been stored fails with mayExist; a read never', async () => {
    for (const code of ['TIMEOUT', 'NETWORK', 'HTTP_ERROR', 'BAD_RESPONSE', 'FS_0000', 'FS_0008', 'api_error']) {
      const lost = await run([err(code, { retryable: true }), err('FS_0003', { statusCode: 400 })]);
      assert.deepEqual([lost.error?.code, lost.error?.mayExist], ['FS_0003', true], code);
      const read = await run([err(code, { retryable: true }), err('FS_0003', { statusCode: 400 })], { idempotent: true });
      assert.deepEqual([read.error?.code, read.error?.mayExist], ['FS_0003', undefined], code);
    }
  });

  it('a create refused with 429, or with a final code, was not stored: no mayExist', async () => {
    const throttled = await run([
      err('HTTP_ERROR', { statusCode: 429, retryable: true, retryAfter: '0' }),
      err('FS_0003', { statusCode: 400 }),
    ]);
    assert.deepEqual([throttled.error?.code, throttled.error?.mayExist], ['FS_0003', undefined]);
    const refused = await run([err('FS_0005', { statusCode: 400 })]);
    assert.equal(refused.error?.mayExist, undefined);
  });

  it('a 429 slows the account down; other failures do not', async () => {
    await run([err('HTTP_ERROR', { statusCode: 503, retryable: true }), {}]);
    assert.equal(changes.length, 0);
    await run([err('HTTP_ERROR', { statusCode: 429, retryable: true, retryAfter: '0' }), {}]);
    assert.equal(changes.length, 1);
    assert.deepEqual([changes[0].kind, changes[0].retryAfterMs], ['throttled', 0]);
  });

  it('a Retry-After beyond the deadline ends the call with RATE_LIMITED, saying how long was asked and left', async () => {
    const { error, script } = await run(
      [err('HTTP_ERROR', { statusCode: 503, retryable: true, retryAfter: '120', referenceId: 'r1' }), {}],
      {
        settings: { deadlineMs: 60_000 },
      },
    );
    assert.equal(script.count, 1);
    assert.deepEqual(
      [error?.code, error?.statusCode, error?.apiCode, error?.retryAfter, error?.referenceId, error?.mayExist],
      ['RATE_LIMITED', 503, 'HTTP_ERROR', '120', 'r1', true],
    );
    assert.match(
      error!.message,
      /^the API answered 503 and asked to wait 120 s before retrying \(Retry-After\), more than the \d+ s left of this call's 60 s deadline; nothing more was sent$/,
    );
    assert.ok((error!.cause as PlaymentError).code === 'HTTP_ERROR');
    assert.match(debug.at(-1)!, /not retried after 503 HTTP_ERROR \(attempt 1\): Retry-After 120000 ms is beyond the deadline$/);
  });

  it('a Retry-After within the deadline is waited (up to the backoff ceiling) and logged', async () => {
    const { data } = await run([err('HTTP_ERROR', { statusCode: 503, retryable: true, retryAfter: '1' }), { ok: 1 }]);
    assert.deepEqual(data, { ok: 1 });
    assert.match(debug[0], /: retry 1 of 2 in 2 ms after 503 HTTP_ERROR, Retry-After 1000 ms$/);
  });

  it('a backoff beyond the deadline ends the call with the error it has', async () => {
    // A deadline of 0: whatever the backoff, no time is left for it.
    const { error, script } = await run([err('NETWORK', { retryable: true }), {}], { settings: { deadlineMs: 0 }, idempotent: true });
    assert.equal(script.count, 1);
    assert.equal(error?.code, 'NETWORK');
    assert.match(debug.at(-1)!, /: not retried after NETWORK \(attempt 1\): the \d+ ms wait is beyond the deadline$/);
  });

  it("each attempt gets the attempt timeout, or what is left of the call's deadline when that is less", async () => {
    const { script } = await run([err('NETWORK', { retryable: true }), {}], {
      settings: { timeoutMs: 30_000, deadlineMs: 60_000 },
      idempotent: true,
    });
    assert.equal(script.timeouts[0], 30_000);
    const short = await run([{}], { settings: { timeoutMs: 30_000, deadlineMs: 5_000 }, idempotent: true });
    assert.ok(short.script.timeouts[0] <= 5_000 && short.script.timeouts[0] >= 1, String(short.script.timeouts[0]));
  });

  it('onStart is called once, when the first attempt leaves the queue', async () => {
    let started = 0;
    await run([err('NETWORK', { retryable: true }), {}], { call: { onStart: () => started++ }, idempotent: true });
    assert.equal(started, 1);
  });

  it('a call cancelled while queued ends with ABORTED; nothing sent, so no mayExist', async () => {
    const { error, script } = await run([{}], { call: { cancel: AbortSignal.abort() } });
    assert.equal(error?.code, 'ABORTED');
    assert.equal(error?.mayExist, undefined);
    assert.equal(script.count, 0);
  });

  it('a create cancelled while it backs off ends with ABORTED and mayExist', async () => {
    const cancel = new AbortController();
    const { error, script } = await run([err('HTTP_ERROR', { statusCode: 400, retryable: true }), {}], {
      call: { cancel: cancel.signal },
      settings: {
        retry: { maxRetries: 2, baseDelayMs: 60_000, maxDelayMs: 60_000 },
        log: {
          // Cancelled as soon as the retry is announced.
          debug: () => cancel.abort(),
          trace: () => undefined,
        },
      },
    });
    assert.equal(script.count, 1);
    assert.deepEqual([error?.code, error?.mayExist], ['ABORTED', true]);
    assert.match(error!.message, /^job\.create aborted: the node was closed$/);
  });

  it('a create cancelled while it backs off after a 429 ends with mayExist (it was sent); a read without', async () => {
    for (const idempotent of [false, true]) {
      const cancel = new AbortController();
      const { error, script } = await run([err('HTTP_ERROR', { statusCode: 429, retryable: true, retryAfter: '0' }), {}], {
        idempotent,
        call: { cancel: cancel.signal },
        settings: {
          retry: { maxRetries: 2, baseDelayMs: 60_000, maxDelayMs: 60_000 },
          log: { debug: () => cancel.abort(), trace: () => undefined },
        },
      });
      assert.equal(script.count, 1);
      assert.deepEqual([error?.code, error?.mayExist], ['ABORTED', idempotent ? undefined : true], `idempotent: ${idempotent}`);
    }
  });

  it('a create whose retry finds the limiter closed ends with ABORTED and mayExist; a read without', async () => {
    for (const idempotent of [false, true]) {
      const limiter = new RequestLimiter({ ratePerSecond: 0, maxConcurrent: 1, maxQueue: 10 });
      const closed = err('ABORTED', { message: 'the Playment config node was closed' });
      const { error, script } = await run([err('HTTP_ERROR', { statusCode: 429, retryable: true, retryAfter: '0' }), {}], {
        idempotent,
        settings: {
          limiter,
          // Closed as the retry is announced: the backoff ends, the slot for the retry is refused.
          log: { debug: () => limiter.close(closed), trace: () => undefined },
        },
      });
      assert.equal(script.count, 1);
      assert.deepEqual([error?.code, error?.mayExist], ['ABORTED', idempotent ? undefined : true], `idempotent: ${idempotent}`);
      assert.equal(error?.message, 'job.create aborted: the Playment config node was closed');
    }
  });

  it('a retry is never refused by a full queue; a new call is', async () => {
    const { loop: l, limiter } = loop({ limiter: new RequestLimiter({ ratePerSecond: 0, maxConcurrent: 1, maxQueue: 1 }) });
    const held = await limiter.acquire();
    const queued = limiter.acquire();
    const script = scripted([{}]);
    await assert.rejects(
      l.run({ route: 'job.get', target: 'GET /x', call: {}, idempotent: true, attempt: script.attempt }),
      (e: PlaymentError) => e.code === 'QUEUE_FULL',
    );
    const admitted = l.run({ route: 'job.get', target: 'GET /x', call: { admitted: true }, idempotent: true, attempt: script.attempt });
    held.release('ok');
    (await queued).release('ok');
    assert.deepEqual(await admitted, {});
  });

  it('an attempt aborted by the client ends the call with ABORTED, mayExist for a create', async () => {
    const aborted = err('ABORTED', { message: 'the Playment config node was closed' });
    const { error, script } = await run([aborted, {}]);
    assert.equal(script.count, 1);
    assert.deepEqual([error?.code, error?.mayExist], ['ABORTED', true]);
    assert.equal(error?.message, 'job.create aborted: the Playment config node was closed');
  });
});

describe('asAborted', () => {
  it('keeps other errors of ours as they are', () => {
    const other = err('NETWORK');
    assert.equal(asAborted(other, 'job.get'), other);
  });

  it('makes a copy per call of an ABORTED reason, naming the route, with the reason as cause', () => {
    const reason = err('ABORTED', { message: 'the Playment config node was closed' });
    const copy = asAborted(reason, 'job.get');
    assert.notEqual(copy, reason);
    assert.deepEqual([copy.code, copy.message, copy.cause], ['ABORTED', 'job.get aborted: the Playment config node was closed', reason]);
  });

  it('an abort reason that is not ours says the node was closed', () => {
    const reason = new DOMException('This operation was aborted', 'AbortError');
    const copy = asAborted(reason, 'batch.jobs');
    assert.deepEqual([copy.code, copy.message, copy.cause], ['ABORTED', 'batch.jobs aborted: the node was closed', reason]);
  });
});

describe('request loop on a mocked clock', () => {
  useMockClock(0);

  it('a Retry-After exactly as long as what is left of the deadline leaves no time for the retry: RATE_LIMITED', async () => {
    const limiter = new RequestLimiter({ ratePerSecond: 0, maxConcurrent: 1, maxQueue: 10 });
    const loop = new RequestLoop({
      limiter,
      retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 },
      timeoutMs: 30_000,
      deadlineMs: 5_000,
      log: { debug: () => undefined, trace: () => undefined },
      closing: new AbortController().signal,
      aborting: new AbortController().signal,
    });
    const script = scripted([err('HTTP_ERROR', { statusCode: 503, retryable: true, retryAfter: '5' }), {}]);
    await assert.rejects(
      loop.run({ route: 'job.get', target: 'GET /x', call: {}, idempotent: true, attempt: script.attempt }),
      (e: PlaymentError) => e.code === 'RATE_LIMITED',
    );
    assert.equal(script.count, 1);
  });
});
