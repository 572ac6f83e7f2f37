/**
 * Closed-loop load: keep `window` messages outstanding (inject N, then one more each time one
 * ends), time each from inject to its end, stop when all ended or the time budget runs out.
 */
import { performance } from 'node:perf_hooks';

export interface FeedResult {
  count: number;
  ok: number;
  failed: number;
  /** Failure codes (err.code or HTTP status) → count. */
  codes: Record<string, number>;
  elapsedMs: number;
  /** Inject → end, ms, one per ended message. */
  latencies: Float64Array;
  cpuUserMs: number;
  cpuSystemMs: number;
  timedOut: boolean;
}

export interface Feeder {
  /** Call when message `i` ended; `failure` is a code when it ended badly. */
  end(i: number, failure?: string): void;
  done: Promise<FeedResult>;
}

/**
 * `send(i)` starts work item i (inject a message, send a request); it must arrange for
 * `feeder.end(i)` to be called exactly once.
 */
export function feed(count: number, window: number, timeoutMs: number, send: (i: number) => void): Feeder {
  const startedAt = new Float64Array(count);
  const latencies = new Float64Array(count);
  const ended = new Uint8Array(count);
  const codes: Record<string, number> = {};
  let next = 0;
  let endedCount = 0;
  let failed = 0;
  let resolveDone!: (r: FeedResult) => void;
  const done = new Promise<FeedResult>((resolve) => (resolveDone = resolve));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let finished = false;

  const finish = (timedOut: boolean) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    const cpu = process.cpuUsage(cpu0);
    const lat = new Float64Array(endedCount);
    let k = 0;
    for (let i = 0; i < count; i++) if (ended[i]) lat[k++] = latencies[i];
    resolveDone({
      count,
      ok: endedCount - failed,
      failed,
      codes,
      elapsedMs: performance.now() - t0,
      latencies: lat,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      timedOut,
    });
  };
  const timer = setTimeout(() => finish(true), timeoutMs);

  const startOne = () => {
    const i = next++;
    startedAt[i] = performance.now();
    send(i);
  };

  const feeder: Feeder = {
    end(i, failure) {
      if (finished || ended[i]) return;
      ended[i] = 1;
      latencies[i] = performance.now() - startedAt[i];
      endedCount++;
      if (failure !== undefined) {
        failed++;
        codes[failure] = (codes[failure] ?? 0) + 1;
      }
      if (endedCount === count) return finish(false);
      if (next < count) startOne();
    },
    done,
  };
  // Defer the first burst so the caller has `feeder` before any end() can arrive.
  setImmediate(() => {
    if (count === 0) return finish(false);
    for (let k = 0; k < Math.min(window, count); k++) startOne();
  });
  return feeder;
}
