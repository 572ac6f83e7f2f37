/** When and how long to wait before sending a failed request again. */
import { timerDelay } from './timer-delay';

export interface RetryPolicy {
  maxRetries: number;
  /** First backoff ceiling; doubles with each retry (full jitter picks a delay below it). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 4, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Exponential backoff with full jitter: a random delay in [0, min(max, base·2^retry)). */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/** Milliseconds a `Retry-After` header asks for (delta seconds or an HTTP date); undefined if unusable. */
export function retryAfterMs(header: string | undefined, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Waits, unless the signal ends the wait first (then rejects with the signal's reason). A wait
 * longer than one timer holds is made of several timers.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    let left = ms;
    let timer: NodeJS.Timeout;
    const arm = () => {
      const step = timerDelay(left);
      left -= step;
      timer = setTimeout(() => {
        if (left > 0) return arm();
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, step);
    };
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    arm();
  });
}
