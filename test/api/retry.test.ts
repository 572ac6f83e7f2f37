/** Retry timing: backoff ceilings, Retry-After parsing, and sleeps that a signal ends. */
import assert from 'node:assert/strict';
import { backoffDelay, DEFAULT_RETRY_POLICY, retryAfterMs, sleep } from '../../src/api/retry';

describe('backoffDelay', () => {
  const policy = { maxRetries: 4, baseDelayMs: 100, maxDelayMs: 1000 };

  it('doubles the ceiling with each retry until the maximum', () => {
    const ceilings = [0, 1, 2, 3, 4, 5].map((retry) => backoffDelay(retry, policy, () => 1));
    assert.deepEqual(ceilings, [100, 200, 400, 800, 1000, 1000]);
  });

  it('uses the default policy: half a second first, at most 30 seconds, 4 retries', () => {
    assert.deepEqual(DEFAULT_RETRY_POLICY, { maxRetries: 4, baseDelayMs: 500, maxDelayMs: 30_000 });
    assert.equal(
      backoffDelay(0, DEFAULT_RETRY_POLICY, () => 1),
      500,
    );
    assert.equal(
      backoffDelay(20, DEFAULT_RETRY_POLICY, () => 1),
      30_000,
    );
  });

  it('rounds the jittered delay down to whole milliseconds', () => {
    assert.equal(
      backoffDelay(0, policy, () => 0.12345),
      12,
    );
  });

  it('draws from Math.random when no source is given', () => {
    for (let i = 0; i < 20; i++) {
      const delay = backoffDelay(1, policy);
      assert.ok(Number.isInteger(delay) && delay >= 0 && delay < 200, String(delay));
    }
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-11-29T10:00:00Z');

  it('reads delta seconds, with spaces around and fractions rounded to milliseconds', () => {
    assert.equal(retryAfterMs(' 2 ', now), 2000);
    assert.equal(retryAfterMs('0', now), 0);
    assert.equal(retryAfterMs('1.0005', now), 1001);
  });

  it('refuses text that is neither plain decimal seconds nor a date', () => {
    for (const header of ['1e3', '0x10', '2 s', 'x2', '2x', '12abc']) assert.equal(retryAfterMs(header, now), undefined, header);
  });

  it('reads an HTTP date against the current time', () => {
    assert.equal(retryAfterMs('Sun, 29 Nov 2026 10:01:00 GMT', now), 60_000);
    const soon = retryAfterMs(new Date(Date.now() + 60_000).toUTCString());
    assert.ok(soon !== undefined && soon > 0 && soon <= 60_000, String(soon));
  });

  it('is undefined for an empty header', () => {
    assert.equal(retryAfterMs('', now), undefined);
  });
});

describe('sleep', () => {
  it('resolves after the time and leaves no listener on the signal', async () => {
    const controller = new AbortController();
    let removed = 0;
    const signal = controller.signal;
    const remove = signal.removeEventListener.bind(signal);
    signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => {
      removed++;
      remove(...args);
    }) as AbortSignal['removeEventListener'];
    await sleep(5, signal);
    assert.equal(removed, 1);
    controller.abort(new Error('late'));
  });

  it('rejects with the reason of a signal that aborted already, or aborts during the wait', async () => {
    const reason = new Error('stop');
    await assert.rejects(sleep(10, AbortSignal.abort(reason)), (err) => err === reason);
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort(reason);
    await assert.rejects(pending, (err) => err === reason);
  });

  it('waits without a signal', async () => {
    await sleep(1);
  });
});

describe('retry policy', () => {
  it('backs off exponentially with full jitter, capped', () => {
    const policy = { maxRetries: 4, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(
      backoffDelay(0, policy, () => 0.999),
      99,
    );
    assert.equal(
      backoffDelay(3, policy, () => 0.5),
      400,
    );
    assert.equal(
      backoffDelay(10, policy, () => 0.999),
      999,
    );
    assert.equal(
      backoffDelay(2, policy, () => 0),
      0,
    );
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(retryAfterMs('3'), 3000);
    assert.equal(retryAfterMs('0.5'), 500);
    const now = Date.parse('2026-11-29T10:00:00Z');
    assert.equal(retryAfterMs('Sun, 29 Nov 2026 10:00:05 GMT', now), 5000);
    assert.equal(retryAfterMs('Sun, 29 Nov 2026 09:00:00 GMT', now), 0);
    assert.equal(retryAfterMs('soon'), undefined);
    assert.equal(retryAfterMs(undefined), undefined);
  });
});
