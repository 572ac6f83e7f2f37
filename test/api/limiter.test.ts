/**
 * The account limiter and the client's waits after a 429, on a mocked clock: node:test's mock
 * timers drive setTimeout and Date, so spacing and pauses are counted in grants, not measured.
 */
import assert from 'node:assert/strict';
import { mock } from 'node:test';
import { useMockClock, type MockClock } from '../support/mock-clock';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent, Dispatcher } from 'undici';
import { RequestLimiter, type LimiterChange, type Slot } from '../../src/api/limiter';
import { PlaymentClient } from '../../src/api/client';
import { PlaymentError } from '../../src/api/errors';
import { DEFAULT_RETRY_POLICY, retryAfterMs } from '../../src/api/retry';
import { MAX_TIMER_DELAY_MS } from '../../src/api/timer-delay';

/** Lets promise callbacks and pending I/O callbacks run; mocked timers do not move. */
async function turn(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** Waits (in real time, by event-loop turns) until `ready` holds. */
async function until(what: string, ready: () => boolean): Promise<void> {
  const giveUp = performance.now() + 10_000;
  while (!ready()) {
    if (performance.now() > giveUp) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** The mock clock of the suite that runs (each describe that needs one sets it up). */
let clock: MockClock;
const CLOCK_START = Date.parse('2026-11-29T10:00:00Z');

describe('the account limiter', () => {
  describe('queue and concurrency', () => {
    it('keeps to the concurrency limit and refuses beyond the queue limit', async () => {
      const limiter = new RequestLimiter({ ratePerSecond: 0, maxConcurrent: 2, maxQueue: 3 });
      const slots = await Promise.all([limiter.acquire(), limiter.acquire()]);
      const waiting = [limiter.acquire(), limiter.acquire(), limiter.acquire()];
      assert.equal(limiter.inFlight, 2);
      assert.equal(limiter.queued, 3);
      await assert.rejects(limiter.acquire(), (e: PlaymentError) => e.code === 'QUEUE_FULL');
      // A retry is never turned away: it already holds a place in the account's work.
      const retry = limiter.acquire(undefined, true);
      slots.forEach((s) => s.release('ok'));
      const next = await Promise.all(waiting.slice(0, 2));
      assert.equal(limiter.inFlight, 2);
      next.forEach((s) => s.release('ok'));
      (await waiting[2]).release('ok');
      (await retry).release('ok');
      assert.equal(limiter.inFlight, 0);
    });

    it('ends queued waits when their signal aborts or the limiter closes', async () => {
      const limiter = new RequestLimiter({ ratePerSecond: 0, maxConcurrent: 1, maxQueue: 10 });
      const held = await limiter.acquire();
      const ac = new AbortController();
      const a = limiter.acquire(ac.signal);
      const b = limiter.acquire();
      ac.abort(new PlaymentError({ code: 'ABORTED', message: 'closed' }));
      await assert.rejects(a, (e: PlaymentError) => e.code === 'ABORTED');
      limiter.close(new PlaymentError({ code: 'ABORTED', message: 'config closed' }));
      await assert.rejects(b, /config closed/);
      held.release('ok');
    });
  });

  describe('on a mocked clock', () => {
    clock = useMockClock(CLOCK_START);

    /** Asks for `n` slots; each is given back as soon as it is granted. Returns the grant count. */
    function requestMany(limiter: RequestLimiter, n: number): { granted: () => number } {
      let granted = 0;
      for (let i = 0; i < n; i++) {
        void limiter.acquire().then((slot) => {
          granted++;
          slot.release('ok');
        });
      }
      return { granted: () => granted };
    }

    it('spaces requests 1000/rate ms apart', async () => {
      const limiter = new RequestLimiter({ ratePerSecond: 10, maxConcurrent: 100, maxQueue: 100 });
      const run = requestMany(limiter, 5);
      await turn();
      assert.equal(run.granted(), 1, 'the first goes at once');
      for (let n = 2; n <= 5; n++) {
        mock.timers.tick(99);
        await turn();
        assert.equal(run.granted(), n - 1, `request ${n} waits the full 100 ms`);
        mock.timers.tick(1);
        await turn();
        assert.equal(run.granted(), n, `request ${n} goes after 100 ms`);
      }
    });

    /** Asks for `n` slots of one kind; records the order of grants in `order`. */
    function askMany(limiter: RequestLimiter, kind: 'request' | 'poll', n: number, order: string[]): Promise<unknown>[] {
      return Array.from({ length: n }, () =>
        limiter.acquire(undefined, { kind }).then((slot) => {
          order.push(kind);
          slot.release('ok');
        }),
      );
    }

    it('never refuses a poll with QUEUE_FULL and does not count polls against maxQueue', async () => {
      const limiter = new RequestLimiter({ ratePerSecond: 1, maxConcurrent: 4, maxQueue: 3 });
      const order: string[] = [];
      const polls = askMany(limiter, 'poll', 2000, order);
      await turn();
      assert.equal(limiter.pollsQueued, 1999);
      assert.equal(limiter.queued, 0);
      assert.equal(limiter.full, false, 'requests still find room');
      const requests = askMany(limiter, 'request', 3, order);
      await assert.rejects(limiter.acquire(), (e: PlaymentError) => e.code === 'QUEUE_FULL');
      limiter.close(new PlaymentError({ code: 'ABORTED', message: 'closed' }));
      const ended = await Promise.allSettled([...polls, ...requests]);
      assert.equal(ended.filter((r) => r.status === 'rejected').length, 1999 + 3, 'close ends both lines');
    });

    it('alternates grants while both lines wait: polls take at most half while requests are queued, all otherwise', async () => {
      const limiter = new RequestLimiter({ ratePerSecond: 10, maxConcurrent: 4, maxQueue: 1000 });
      const order: string[] = [];
      askMany(limiter, 'poll', 50, order);
      await turn();
      askMany(limiter, 'request', 10, order);
      for (let i = 0; i < 40; i++) {
        mock.timers.tick(100);
        await turn();
      }
      // The first poll went at once; then, while both lines waited, grants alternated.
      const contended = order.slice(1, 21);
      assert.equal(contended.filter((k) => k === 'request').length, 10, 'every request went within the first 20 grants');
      assert.equal(contended.filter((k) => k === 'poll').length, 10, 'polls were not starved either');
      for (let i = 0; i + 1 < contended.length; i++)
        assert.notEqual(contended[i], contended[i + 1], `grants ${i + 1} and ${i + 2} alternate`);
      assert.ok(
        order.slice(21).every((k) => k === 'poll'),
        'with no request queued, polls take every grant',
      );
      assert.equal(order.length, 41);
    });

    it('halves concurrency after a 429', async () => {
      const limiter = new RequestLimiter({ ratePerSecond: 0, maxConcurrent: 4, maxQueue: 100 });
      const first = await limiter.acquire();
      first.release('throttled', 0);
      const slots: Slot[] = [];
      for (let i = 0; i < 4; i++) void limiter.acquire().then((s) => slots.push(s));
      await turn();
      assert.equal(slots.length, 2, 'half of the old concurrency');
      slots[0].release('ok');
      await turn();
      assert.equal(slots.length, 3);
    });

    async function pauseAfter429(retryAfter: number | undefined): Promise<{ granted: () => number }> {
      const limiter = new RequestLimiter({ ratePerSecond: 0, maxConcurrent: 4, maxQueue: 100 });
      (await limiter.acquire()).release('throttled', retryAfter);
      const run = requestMany(limiter, 1);
      await turn();
      return run;
    }

    it('pauses for the Retry-After a 429 asks for', async () => {
      const run = await pauseAfter429(retryAfterMs('3'));
      mock.timers.tick(2999);
      await turn();
      assert.equal(run.granted(), 0, 'held for 3 s, not the 1 s default');
      mock.timers.tick(1);
      await turn();
      assert.equal(run.granted(), 1);
    });

    it('pauses 1 s after a 429 without Retry-After', async () => {
      const run = await pauseAfter429(undefined);
      mock.timers.tick(999);
      await turn();
      assert.equal(run.granted(), 0);
      mock.timers.tick(1);
      await turn();
      assert.equal(run.granted(), 1);
    });

    it('caps the pause at maxPauseMs and never arms a timer beyond 2^31-1 ms', async () => {
      const limiter = new RequestLimiter({ ratePerSecond: 0, maxConcurrent: 4, maxQueue: 100, maxPauseMs: 30_000 });
      (await limiter.acquire()).release('throttled', retryAfterMs('1000000000'));
      const run = requestMany(limiter, 1);
      await turn();
      mock.timers.tick(29_999);
      await turn();
      assert.equal(run.granted(), 0);
      mock.timers.tick(1);
      await turn();
      assert.equal(run.granted(), 1, 'the next request goes after the cap');
      assert.ok(
        clock.armed.every((ms) => ms <= MAX_TIMER_DELAY_MS),
        `armed ${Math.max(...clock.armed)} ms`,
      );
    });
  });
});

/**
 * The client against a local server: `answers` are served in order (the last one repeats).
 * Dispatches are counted as they leave the limiter, so "nothing was sent" needs no real time.
 */
describe('the client after a 429', () => {
  clock = useMockClock(CLOCK_START);
  let server: Server;
  let answers: Array<(res: ServerResponse) => void>;
  let received: IncomingMessage[];
  let agent: Agent;
  let dispatched: number;
  let client: PlaymentClient;

  const tooMany = (retryAfter: string) => (res: ServerResponse) =>
    res
      .writeHead(429, { 'content-type': 'application/json', 'retry-after': retryAfter })
      .end('{"success":false,"error":{"code":"rate_limited","message":"slow down"}}');
  const details = (res: ServerResponse) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true,"data":{"batches":[]}}');

  class CountingDispatcher extends Dispatcher {
    override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      dispatched++;
      return agent.dispatch(options, handler);
    }
  }

  beforeEach(async () => {
    received = [];
    answers = [];
    dispatched = 0;
    server = createServer((req, res) => {
      received.push(req);
      req.resume();
      (answers.length > 1 ? answers.shift()! : answers[0])(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    agent = new Agent();
  });

  afterEach(async () => {
    await client.close(0);
    await agent.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  function useClient(maxRetries: number): PlaymentClient {
    client = new PlaymentClient({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      apiVersion: 'v1',
      projectId: 'p1',
      apiKey: 'sk-limiter-test-key',
      rateLimit: 0,
      maxRetries,
      dispatcher: new CountingDispatcher(),
    });
    return client;
  }

  /** Starts a call and waits until its first answer (a 429) was handled: the call or the account waits. */
  async function firstAnswered<T>(call: () => Promise<T>): Promise<{ running: Promise<T> }> {
    const running = call();
    running.catch(() => undefined);
    await until('the first answer', () => received.length === 1 && client.limiter.inFlight === 0);
    await turn();
    return { running };
  }

  async function assertSentAgainAfter(ms: number): Promise<void> {
    mock.timers.tick(ms - 1);
    await turn();
    assert.equal(dispatched, 1, `nothing sent again before ${ms} ms`);
    mock.timers.tick(1);
    await until('the next request', () => dispatched === 2);
  }

  it('a retry waits the Retry-After seconds (3 s: not the 1 s default, not 3 ms)', async () => {
    answers = [tooMany('3'), details];
    const { running: call } = await firstAnswered(() => useClient(2).projectDetails());
    await assertSentAgainAfter(3000);
    assert.deepEqual(await call, { batches: [] });
  });

  it('a retry waits until a Retry-After HTTP date', async () => {
    answers = [tooMany('Sun, 29 Nov 2026 10:00:05 GMT'), details];
    const { running: call } = await firstAnswered(() => useClient(2).projectDetails());
    await assertSentAgainAfter(5000);
    assert.deepEqual(await call, { batches: [] });
  });

  it('the next call waits the Retry-After seconds too: the account pauses', async () => {
    answers = [tooMany('3'), details];
    const { running: failed } = await firstAnswered(() => useClient(0).projectDetails());
    await assert.rejects(failed, (e: PlaymentError) => e.statusCode === 429);
    const next = client.projectDetails();
    await assertSentAgainAfter(3000);
    assert.deepEqual(await next, { batches: [] });
  });

  it('a huge Retry-After: the call fails fast with RATE_LIMITED, the account pauses only up to the cap, no timer overflows', async () => {
    answers = [tooMany('1000000000'), details];
    const body = {
      reference_id: 'ref-1',
      tag: 't',
      data: { video_data: { frames: [{ frame_id: 'f0', src: 'https://cdn.example.com/f0.jpg' }] } },
    };
    const { running: failed } = await firstAnswered(() => useClient(4).createJob(body));
    await assert.rejects(failed, (e: PlaymentError) => {
      assert.equal(e.code, 'RATE_LIMITED');
      assert.equal(e.statusCode, 429);
      assert.equal(e.apiCode, 'rate_limited');
      assert.equal(e.referenceId, 'ref-1');
      assert.ok(!e.mayExist, 'a 429 means the job was not stored');
      assert.match(
        e.message,
        /asked to wait 1000000000 s before retrying \(Retry-After\), more than the 300 s left of this call's 300 s deadline; nothing more was sent/,
      );
      return true;
    });
    assert.equal(dispatched, 1, 'nothing more was sent');
    const next = client.projectDetails();
    await assertSentAgainAfter(DEFAULT_RETRY_POLICY.maxDelayMs);
    assert.deepEqual(await next, { batches: [] });
    assert.ok(clock.armed.length > 0);
    assert.ok(
      clock.armed.every((ms) => ms <= MAX_TIMER_DELAY_MS),
      `armed ${Math.max(...clock.armed)} ms`,
    );
  });
});

describe('the account limiter: refusals, aborted waiters and recovery', () => {
  it('a waiter aborted while queued takes no slot: the next in line gets it', async () => {
    const limiter = new RequestLimiter({ ratePerSecond: 0, maxConcurrent: 1, maxQueue: 10 });
    const held = await limiter.acquire();
    const ac = new AbortController();
    const aborted = limiter.acquire(ac.signal);
    const next = limiter.acquire();
    ac.abort(new Error('node closed'));
    await assert.rejects(aborted, /node closed/);
    held.release('ok');
    const slot = await next;
    assert.equal(limiter.inFlight, 1);
    slot.release('ok');
    assert.equal(limiter.inFlight, 0);
  });

  it('a full queue refuses a new request, also one asked for with options, saying how many wait', async () => {
    const limiter = new RequestLimiter({ ratePerSecond: 0, maxConcurrent: 1, maxQueue: 2 });
    const held = await limiter.acquire();
    const waiting = [limiter.acquire(), limiter.acquire()];
    for (const options of [undefined, {}, { kind: 'request' as const }, { retry: false }]) {
      await assert.rejects(limiter.acquire(undefined, options), (e: PlaymentError) => {
        assert.equal(e.code, 'QUEUE_FULL');
        assert.equal(e.message, 'the request queue of this Playment account is full (2 waiting); nothing was sent');
        return true;
      });
    }
    held.release('ok');
    for (const w of waiting) (await w).release('ok');
  });

  it('a closed limiter refuses every new wait with the close error and grants nothing', async () => {
    const limiter = new RequestLimiter({ ratePerSecond: 0, maxConcurrent: 4, maxQueue: 10 });
    const closed = new PlaymentError({ code: 'ABORTED', message: 'the Playment config node was closed' });
    limiter.close(closed);
    for (const options of [undefined, { retry: true }, { kind: 'poll' as const }]) {
      await assert.rejects(limiter.acquire(undefined, options), (e: unknown) => e === closed);
    }
    assert.equal(limiter.inFlight, 0);
  });

  it('successes on a limiter that was never slowed down report no change', async () => {
    const changes: LimiterChange[] = [];
    const limiter = new RequestLimiter({ ratePerSecond: 0, maxConcurrent: 2, maxQueue: 10, onChange: (c) => changes.push(c) });
    for (let i = 0; i < 25; i++) (await limiter.acquire()).release('ok');
    assert.equal(changes.length, 0);
  });

  it('after a 429, every 10 successes step the concurrency back up by one, up to the limit', async () => {
    const changes: LimiterChange[] = [];
    const limiter = new RequestLimiter({
      ratePerSecond: 0,
      maxConcurrent: 4,
      maxQueue: 10,
      maxPauseMs: 0,
      onChange: (c) => changes.push(c),
    });
    (await limiter.acquire()).release('throttled', 0);
    for (let i = 0; i < 30; i++) (await limiter.acquire()).release('ok');
    assert.deepEqual(
      changes.map((c) => [c.kind, c.concurrency, c.ratePerSecond]),
      [
        ['throttled', 2, 0],
        ['recovered', 3, 0],
        ['recovered', 4, 0],
      ],
    );
  });

  it('the rate steps back up too when the concurrency is at its limit already', async () => {
    const changes: LimiterChange[] = [];
    const limiter = new RequestLimiter({
      ratePerSecond: 8000,
      maxConcurrent: 1,
      maxQueue: 10,
      maxPauseMs: 0,
      onChange: (c) => changes.push(c),
    });
    (await limiter.acquire()).release('throttled', 0);
    for (let i = 0; i < 10; i++) (await limiter.acquire()).release('ok');
    assert.deepEqual(
      changes.map((c) => [c.kind, c.concurrency, c.ratePerSecond]),
      [
        ['throttled', 1, 4000],
        ['recovered', 1, 5000],
      ],
    );
  });
});
