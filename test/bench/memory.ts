/**
 * Memory, in a fresh child process:
 *   burst   – N messages injected without waiting (in chunks of 1,000 per event-loop turn, as
 *             a fast upstream node would deliver them) into one submit node with the default
 *             rate (5 requests/s) and a queue of 1,000 (set here: the default is 10,000, and
 *             the quick run's 10,000 messages would never fill it): RSS must stay bounded, the
 *             overflow ends with
 *             QUEUE_FULL, and closing the flow ends the queued ones with ABORTED;
 *   repeats – R runs of J jobs (rate limit off) through one long-lived flow: heap after a full
 *             GC per run, and its slope, show whether anything accumulates.
 */
import { runInChild } from './child';
import { feed } from './feed';
import { SUBMIT_NODE, configNodeDef, loadFlow, startRuntime, stopRuntime, unloadFlow } from './runtime';
import { resetSandbox, type SandboxProcess } from './sandbox-proc';
import { gc, hasGc, mb, round, sleep, slope } from './stats';
import { API_KEY, FRAMES_PER_JOB, PROJECT, sequenceFrames } from './workload';

/** The burst's queue limit (the config node's default is 10,000). */
const BURST_QUEUE = 1000;

export interface MemoryArgs {
  sandboxUrl: string;
  burstMessages: number;
  burstChunk: number;
  /** How long to keep watching RSS once every message is either ended or queued. */
  holdMs: number;
  repeats: number;
  repeatJobs: number;
  repeatConcurrency: number;
  timeoutMs: number;
}

export interface BurstResult {
  messages: number;
  chunk: number;
  maxQueue: number;
  rateLimit: number;
  injectMs: number;
  baselineRssMb: number;
  peakRssMb: number;
  peakHeapUsedMb: number;
  /** Queue length when every message was either ended or waiting, and the most ever seen. */
  queuedAtPeak: number;
  maxQueuedSeen: number;
  /**
   * Live heap (after a full GC) at each quarter of the injection: flat when the queue bounds
   * what is kept, rising when something per message is retained.
   */
  liveHeapAtQuartersMb: number[];
  liveHeapGrowthMb: number;
  /** Live-heap growth from the first to the last checkpoint per message injected in between. */
  retainedBytesPerMessage: number;
  sentBeforeClose: number;
  endings: Record<string, number>;
  endedTotal: number;
  everyMessageEndedOnce: boolean;
  heapUsedAfterMb: number;
  rssAfterMb: number;
}

export interface RepeatResult {
  runs: number;
  jobsPerRun: number;
  heapUsedMb: number[];
  rssMb: number[];
  failed: number;
  /** Least-squares slope of heap-after-GC over runs, all runs and without the first. */
  slopeMbPerRun: number;
  slopeMbPerRunAfterFirst: number;
  bytesPerJobAfterFirst: number;
}

export interface MemoryResult {
  gcExposed: boolean;
  burst: BurstResult;
  repeats: RepeatResult;
  targets: {
    burstBounded: { maxRetainedBytesPerMessage: number; value: number; queueHeld: boolean; everyMessageEndedOnce: boolean; met: boolean };
    noGrowth: { maxBytesPerJob: number; value: number; met: boolean };
  };
}

/** Parent side: runs the memory task in its own process against the shared sandbox. */
export async function runMemory(sb: SandboxProcess, args: Omit<MemoryArgs, 'sandboxUrl'>): Promise<MemoryResult> {
  await sb.reset();
  try {
    const { burst, repeats, gcExposed } = await runInChild<{ burst: BurstResult; repeats: RepeatResult; gcExposed: boolean }>(
      'memory',
      { ...args, sandboxUrl: sb.url },
      args.timeoutMs,
    ).result;
    // Bounded: with the queue full, the live heap must stay flat while the burst goes on (a
    // retained 20-frame message would cost ~3 KB); a few bytes per message is GC noise.
    const maxRetained = 32;
    const maxBytesPerJob = 100;
    const queueHeld = burst.maxQueuedSeen <= burst.maxQueue;
    return {
      gcExposed,
      burst,
      repeats,
      targets: {
        burstBounded: {
          maxRetainedBytesPerMessage: maxRetained,
          value: burst.retainedBytesPerMessage,
          queueHeld,
          everyMessageEndedOnce: burst.everyMessageEndedOnce,
          met: burst.retainedBytesPerMessage <= maxRetained && queueHeld && burst.everyMessageEndedOnce,
        },
        noGrowth: { maxBytesPerJob, value: repeats.bytesPerJobAfterFirst, met: repeats.bytesPerJobAfterFirst <= maxBytesPerJob },
      },
    };
  } finally {
    await sb.reset();
  }
}

/** Child side. */
export async function memoryTask(a: MemoryArgs): Promise<{ burst: BurstResult; repeats: RepeatResult; gcExposed: boolean }> {
  await startRuntime();
  try {
    const burst = await burstRun(a);
    const repeats = await repeatedRuns(a);
    return { burst, repeats, gcExposed: hasGc() };
  } finally {
    await stopRuntime();
  }
}

async function burstRun(a: MemoryArgs): Promise<BurstResult> {
  const flow = await loadFlow(
    [
      // Default rate and concurrency (left unset); a queue of 1,000, so that the overflow and a
      // flat live heap show within the quick run's 10,000 messages too.
      configNodeDef(a.sandboxUrl, PROJECT, { maxQueue: BURST_QUEUE }),
      SUBMIT_NODE,
    ],
    {},
    { cfg: { apiKey: API_KEY } },
  );
  const node = flow.node('ours');
  const limiter = flow.node('cfg').client.limiter;
  const maxQueue: number = limiter.opts.maxQueue;
  const rateLimit: number = limiter.opts.ratePerSecond;

  // Count endings where they happen: send() for outputs, error(err, msg) for done(err).
  const endings: Record<string, number> = {};
  let sent = 0;
  // One flag per message, allocated up front so the bookkeeping does not grow the heap.
  const endedFlags = new Uint8Array(a.burstMessages);
  let endedTwice = 0;
  let endedUnknown = 0;
  const ended = (msg: { _msgid?: string } | undefined, code: string) => {
    endings[code] = (endings[code] ?? 0) + 1;
    const k = Number(msg?._msgid?.slice(1));
    if (!(k >= 0 && k < a.burstMessages)) endedUnknown++;
    else if (endedFlags[k]++) endedTwice++;
  };
  const send = node.send;
  node.send = function (this: unknown, out: unknown[][]) {
    for (const m of out[0] as Array<{ _msgid?: string }>) {
      sent++;
      ended(m, 'sent');
    }
    return send.call(this, out);
  };
  const error = node.error;
  node.error = function (this: unknown, err: { code?: string }, msg?: { _msgid?: string }) {
    if (msg) ended(msg, String(err?.code ?? 'ERROR'));
    return error.call(this, err, msg);
  };
  const total = () => Object.values(endings).reduce((s, n) => s + n, 0);

  gc();
  const baselineRss = process.memoryUsage().rss;
  let peakRss = baselineRss;
  let peakHeap = 0;
  let maxQueued = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    maxQueued = Math.max(maxQueued, limiter.queued);
  };
  const sampler = setInterval(sample, 20);

  const quarter = Math.ceil(a.burstMessages / 4 / a.burstChunk) * a.burstChunk;
  const liveHeap: number[] = [];
  const liveBytes: number[] = [];
  const checkpoints: number[] = [];
  let gcMs = 0; // checkpoint pauses, left out of the injection time
  const t0 = performance.now();
  for (let i = 0; i < a.burstMessages; i += a.burstChunk) {
    for (let k = i; k < Math.min(a.burstMessages, i + a.burstChunk); k++) {
      flow.inject('ours', { _msgid: `b${k}`, payload: sequenceFrames(k, FRAMES_PER_JOB, 'burst') });
    }
    sample();
    await new Promise((r) => setImmediate(r));
    const injected = Math.min(a.burstMessages, i + a.burstChunk);
    if (injected % quarter === 0 || injected === a.burstMessages) {
      // Let the last chunk reach the limiter, then measure what is really kept.
      const g0 = performance.now();
      await sleep(20);
      sample();
      gc();
      gcMs += performance.now() - g0;
      const used = process.memoryUsage().heapUsed;
      liveBytes.push(used);
      liveHeap.push(mb(used));
      checkpoints.push(injected);
    }
  }
  const injectMs = performance.now() - t0 - gcMs;

  // Every message is ended or waiting in the limiter (queued or on the wire).
  const deadline = Date.now() + a.timeoutMs / 2;
  while (total() + limiter.queued + limiter.inFlight < a.burstMessages && Date.now() < deadline) await sleep(20);
  const queuedAtPeak: number = limiter.queued;
  await sleep(a.holdMs);
  sample();
  const sentBeforeClose = sent;

  clearInterval(sampler);
  await unloadFlow();
  const closeDeadline = Date.now() + 15_000;
  while (total() < a.burstMessages && Date.now() < closeDeadline) await sleep(20);
  gc();
  const after = process.memoryUsage();
  return {
    messages: a.burstMessages,
    chunk: a.burstChunk,
    maxQueue,
    rateLimit,
    injectMs: round(injectMs, 0),
    baselineRssMb: mb(baselineRss),
    peakRssMb: mb(peakRss),
    peakHeapUsedMb: mb(peakHeap),
    queuedAtPeak,
    maxQueuedSeen: maxQueued,
    liveHeapAtQuartersMb: liveHeap,
    liveHeapGrowthMb: round(liveHeap[liveHeap.length - 1] - liveHeap[0], 1),
    retainedBytesPerMessage: round(
      (liveBytes[liveBytes.length - 1] - liveBytes[0]) / Math.max(1, checkpoints[checkpoints.length - 1] - checkpoints[0]),
      1,
    ),
    sentBeforeClose,
    endings,
    endedTotal: total(),
    everyMessageEndedOnce: total() === a.burstMessages && endedTwice === 0 && endedUnknown === 0 && endedFlags.every((f) => f === 1),
    heapUsedAfterMb: mb(after.heapUsed),
    rssAfterMb: mb(after.rss),
  };
}

async function repeatedRuns(a: MemoryArgs): Promise<RepeatResult> {
  let current: ReturnType<typeof feed> | undefined;
  const flow = await loadFlow(
    [configNodeDef(a.sandboxUrl, PROJECT, { rateLimit: 0, maxConcurrent: a.repeatConcurrency }), SUBMIT_NODE],
    {
      out: (msg) => current?.end(msg.bench_i),
      caught: (msg) => current?.end(msg.bench_i, String(msg.error?.code ?? 'ERROR')),
    },
    { cfg: { apiKey: API_KEY } },
  );
  const heap: number[] = [];
  const rss: number[] = [];
  const heapBytes: number[] = [];
  let failed = 0;
  try {
    for (let r = 0; r < a.repeats; r++) {
      await resetSandbox(a.sandboxUrl);
      // Frames are made per message, so only what the runtime keeps survives the run.
      current = feed(a.repeatJobs, a.repeatConcurrency * 2, a.timeoutMs / 4, (i) =>
        flow.inject('ours', { payload: sequenceFrames(i, FRAMES_PER_JOB, 'repeat'), bench_i: i }),
      );
      const res = await current.done;
      current = undefined;
      failed += res.failed + (res.count - res.ok - res.failed);
      await sleep(50);
      gc();
      const m = process.memoryUsage();
      heapBytes.push(m.heapUsed);
      heap.push(round(m.heapUsed / (1024 * 1024), 2));
      rss.push(mb(m.rss));
    }
  } finally {
    await unloadFlow();
    await resetSandbox(a.sandboxUrl);
  }
  const runs = heapBytes.map((_, i) => i + 1);
  const MB = 1024 * 1024;
  const afterFirst = slope(runs.slice(1), heapBytes.slice(1));
  return {
    runs: a.repeats,
    jobsPerRun: a.repeatJobs,
    heapUsedMb: heap,
    rssMb: rss,
    failed,
    slopeMbPerRun: round(slope(runs, heapBytes) / MB),
    slopeMbPerRunAfterFirst: round(afterFirst / MB),
    bytesPerJobAfterFirst: round(afterFirst / a.repeatJobs, 1),
  };
}
