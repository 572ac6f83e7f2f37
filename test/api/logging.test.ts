/** The client's logger: the key is taken out of every line, query strings are not logged. */
import assert from 'node:assert/strict';
import { describeLimiterChange, guardedLogger, loggedPath } from '../../src/api/log';
import { RequestLimiter, type LimiterChange } from '../../src/api/limiter';

const KEY = 'sk-log-test-0123456789';

describe('client logger', () => {
  it('redacts the key from debug and trace lines as a last guard', () => {
    const seen: string[] = [];
    const log = guardedLogger({ debug: (t) => seen.push(`debug ${t}`), trace: (t) => seen.push(`trace ${t}`) }, KEY);
    log.debug(`answer quoted ${KEY}`);
    log.trace(`${KEY}${KEY}`);
    assert.deepEqual(seen, ['debug answer quoted ***', 'trace ******']);
  });

  it('is silent without a logger', () => {
    const log = guardedLogger(undefined, KEY);
    log.debug('x');
    log.trace('y');
  });

  it('logs a path without its query (page tokens, signed URLs)', () => {
    assert.equal(loggedPath('/v1/attachments?url=https%3A%2F%2Fs3%2Fsigned%3FX-Amz-Signature%3Dabc'), '/v1/attachments?…');
    assert.equal(loggedPath('/v0/projects/p/jobs'), '/v0/projects/p/jobs');
  });

  it('the limiter tells a throttle and each step back up', async () => {
    const changes: LimiterChange[] = [];
    const limiter = new RequestLimiter({
      ratePerSecond: 800,
      maxConcurrent: 4,
      maxQueue: 100,
      maxPauseMs: 0,
      onChange: (c) => changes.push(c),
    });
    (await limiter.acquire()).release('throttled', 2000);
    assert.deepEqual(changes, [{ kind: 'throttled', concurrency: 2, ratePerSecond: 400, pauseMs: 0, retryAfterMs: 2000 }]);
    assert.equal(
      describeLimiterChange(changes[0]),
      'limiter: throttled after a 429 (Retry-After 2000 ms): new requests pause 0 ms, concurrency 2, rate 400/s',
    );
    for (let i = 0; i < 10; i++) (await limiter.acquire()).release('ok');
    assert.deepEqual(changes[1], { kind: 'recovered', concurrency: 3, ratePerSecond: 500 });
    assert.equal(describeLimiterChange(changes[1]), 'limiter: stepped back up after successes: concurrency 3, rate 500/s');
  });

  it('logs a path that is only a query without it', () => {
    assert.equal(loggedPath('?page_token=abc'), '?…');
  });

  it('tells an unlimited rate, a missing Retry-After and rates to two decimals', () => {
    assert.equal(
      describeLimiterChange({ kind: 'throttled', concurrency: 1, ratePerSecond: 0, pauseMs: 1000 }),
      'limiter: throttled after a 429 (no Retry-After): new requests pause 1000 ms, concurrency 1, rate unlimited',
    );
    assert.equal(
      describeLimiterChange({ kind: 'recovered', concurrency: 2, ratePerSecond: 1 / 3 }),
      'limiter: stepped back up after successes: concurrency 2, rate 0.33/s',
    );
  });
});
