/**
 * Account budget: what the nodes spend of an account's request rate, against the sandbox with
 * its rate limit on (a raised rate keeps the run short; the ratios are what count).
 *   waits  – N sequences submitted into a batch and waited for (job-result, wait mode), their
 *            jobs completing spread over S seconds: requests per result, and completion →
 *            output. The old per-job polling (each waiting message: GET job at once, then
 *            after the interval, slowing by 1.5× up to 4× the interval) is computed from the
 *            same start and completion times, without a rate limit (its best case);
 *   burst  – N sequences injected at once at the default queue settings: none refused, time
 *            against N / rate, peak RSS (its own child process: fresh heap);
 *   refeed – the same N again: each passed on as existing with its original job id, requests
 *            per sequence;
 *   poller – 100,000 waits in one result poller: memory per wait, CPU per sweep.
 * Each part runs in a child process against its own sandbox process.
 */
import { PlaymentClient } from '../../src/api/client';
import { spreadShare } from '../../src/sandbox/store';
import { runInChild } from './child';
import { measurePollerCost, type PollerCost } from './poller-memory';
import { SUBMIT_NODE, configNodeDef, loadFlow, startRuntime, stopRuntime, unloadFlow } from './runtime';
import { sandboxState, startSandboxProcess, type SandboxSummary } from './sandbox-proc';
import { gc, mb, percentile, round } from './stats';
import { API_KEY, FRAMES_PER_JOB, PROJECT, sequenceFrames } from './workload';

export interface BudgetPlan {
  waits: {
    jobs: number;
    ratePerSecond: number;
    pollIntervalS: number;
    completionDelayMs: number;
    completionSpreadMs: number;
    timeoutMs: number;
  };
  burst: { sequences: number; ratePerSecond: number; chunk: number; timeoutMs: number };
  poller: { waits: number; sweeps: number; timeoutMs: number };
}

/** The brief's targets (benchmarks, not timed tests). */
export const BUDGET_TARGETS = {
  waits: { maxRequestsPerResult: 1.4, maxP95CompletionToOutputS: 15 },
  burst: { minBudgetUsedPercent: 90, maxRssGrowthMb: 400 },
  refeed: { maxRequestsPerSequence: 1.05 },
};

/** Requests the waits spent, by route (job creation and the batch's creation left out). */
const POLL_ROUTES = ['job.get', 'batch.jobs', 'project.details'] as const;

export interface WaitsResult {
  jobs: number;
  ratePerSecond: number;
  pollIntervalS: number;
  completionDelayS: number;
  completionSpreadS: number;
  completed: number;
  caught: Record<string, number>;
  everyWaitCompleted: boolean;
  /** First submission → last output. */
  elapsedS: number;
  /** Completion times, first → last, seconds. */
  completionSpanS: number;
  pollRequests: Record<string, number>;
  requestsPerResult: number;
  p50CompletionToOutputS: number;
  p95CompletionToOutputS: number;
  maxCompletionToOutputS: number;
  /** The same p95 for jobs that completed while submissions still shared the rate, and after. */
  p95WhileSubmittingS: number;
  p95AfterSubmissionsS: number;
  /** Sweeps (one project-details request each) and the mean time from one to the next. */
  sweeps: number;
  meanSweepCycleS: number;
  perJob: { requestsPerResult: number; p95CompletionToOutputS: number; peakDemandPerSecond: number };
  met: boolean;
}

export interface BurstResult {
  sequences: number;
  ratePerSecond: number;
  maxQueue: number;
  outputs: number;
  refused: number;
  caught: Record<string, number>;
  elapsedS: number;
  /** sequences / rate: the shortest time the account's rate allows. */
  floorS: number;
  budgetUsedPercent: number;
  /** Job-create requests the sandbox received (above `sequences`: retries after a 429). */
  createRequests: number;
  baselineRssMb: number;
  peakRssMb: number;
  rssGrowthMb: number;
  met: boolean;
}

export interface RefeedResult {
  sequences: number;
  outputs: number;
  existing: number;
  sameJobId: number;
  caught: Record<string, number>;
  storedJobs: number;
  requests: number;
  requestsByRoute: Record<string, number>;
  requestsPerSequence: number;
  elapsedS: number;
  met: boolean;
}

export interface BudgetResult {
  waits: WaitsResult;
  burst: BurstResult;
  refeed: RefeedResult;
  poller: PollerCost;
}

type WaitsArgs = BudgetPlan['waits'] & { sandboxUrl: string };
type BurstArgs = BudgetPlan['burst'] & { sandboxUrl: string };

/** Parent side: each part in its own child process, against its own sandbox process. */
export async function runBudget(plan: BudgetPlan): Promise<BudgetResult> {
  const w = plan.waits;
  const waitsBox = await startSandboxProcess({
    rateLimit: w.ratePerSecond,
    completionDelayMs: w.completionDelayMs,
    completionSpreadMs: w.completionSpreadMs,
  });
  let waits: WaitsResult;
  try {
    waits = await runInChild<WaitsResult>('budget-waits', { ...w, sandboxUrl: waitsBox.url }, w.timeoutMs + 60_000).result;
  } finally {
    await waitsBox.stop();
  }
  const burstBox = await startSandboxProcess({ rateLimit: plan.burst.ratePerSecond });
  let burst: { burst: BurstResult; refeed: RefeedResult };
  try {
    burst = await runInChild<{ burst: BurstResult; refeed: RefeedResult }>(
      'budget-burst',
      { ...plan.burst, sandboxUrl: burstBox.url },
      2 * plan.burst.timeoutMs + 60_000,
    ).result;
  } finally {
    await burstBox.stop();
  }
  const poller = await runInChild<PollerCost>('budget-poller', plan.poller, plan.poller.timeoutMs).result;
  return { waits, ...burst, poller };
}

/** Child side. */
export async function budgetTask(task: string, args: unknown): Promise<unknown> {
  if (task === 'budget-poller') {
    const a = args as BudgetPlan['poller'];
    return measurePollerCost(a.waits, a.sweeps);
  }
  await startRuntime();
  try {
    if (task === 'budget-waits') return await waitsRun(args as WaitsArgs);
    if (task === 'budget-burst') return await burstRun(args as BurstArgs);
    throw new Error(`unknown budget task ${task}`);
  } finally {
    await stopRuntime();
  }
}

// ---- waits -------------------------------------------------------------------------------

async function waitsRun(a: WaitsArgs): Promise<WaitsResult> {
  // The bench's own calls (the batch, the listing that gives the creation order) are counted
  // apart: the sandbox's counters are read around the flow's work.
  const own = new PlaymentClient({
    baseUrl: a.sandboxUrl,
    apiVersion: 'v0',
    projectId: PROJECT,
    apiKey: API_KEY,
    rateLimit: a.ratePerSecond,
  });
  try {
    const { batch_id: batchId } = await own.createBatch({ name: 'budget-waits', description: 'account budget bench' });
    const submittedAt = new Map<string, number>();
    const outAt = new Map<string, number>();
    const caught: Record<string, number> = {};
    let completed = 0;
    let ended = 0;
    let allEnded!: () => void;
    const done = new Promise<void>((resolve) => (allEnded = resolve));
    const end = () => {
      if (++ended === a.jobs) allEnded();
    };
    const flow = await loadFlow(
      [
        configNodeDef(a.sandboxUrl, PROJECT, { rateLimit: a.ratePerSecond }),
        { ...SUBMIT_NODE, batchId, batchIdType: 'str', wires: [['wait', 'submitted']] },
        {
          id: 'wait',
          type: 'playment-job-result',
          config: 'cfg',
          mode: 'wait',
          pollInterval: a.pollIntervalS,
          maxWait: 1,
          wires: [['out']],
        },
      ],
      {
        submitted: (msg) => submittedAt.set(msg.job_id, Date.now()),
        out: (msg) => {
          outAt.set(msg.job_id, Date.now());
          if (msg.payload?.status === 'completed') completed++;
          end();
        },
        caught: (msg) => {
          const code = String(msg.error?.code ?? 'ERROR');
          caught[code] = (caught[code] ?? 0) + 1;
          end();
        },
      },
      { cfg: { apiKey: API_KEY } },
    );
    const before = await sandboxState(a.sandboxUrl);
    const t0 = Date.now();
    for (let i = 0; i < a.jobs; i++) flow.inject('ours', { payload: sequenceFrames(i, FRAMES_PER_JOB, 'waits') });
    const timer = setTimeout(allEnded, a.timeoutMs);
    await done;
    clearTimeout(timer);
    const elapsedS = (Date.now() - t0) / 1000;
    const after = await sandboxState(a.sandboxUrl);
    await unloadFlow();

    // Creation order in the sandbox = listing order of the batch (the only batch with jobs).
    const order: string[] = [];
    let token: string | undefined;
    do {
      const page = await own.batchJobs(batchId, token);
      for (const j of page.jobs) order.push(j.id);
      token = page.next_page_token || undefined;
    } while (token);

    // A job completes its delay + its share of the spread after creation; creation is taken as
    // the moment the submit node's output arrived (a few ms late, so the latency reads short by as
    // much).
    const latencies: number[] = [];
    const lastSubmittedAt = Math.max(...submittedAt.values());
    const whileSubmitting: number[] = [];
    const afterSubmissions: number[] = [];
    const oldLatencies: number[] = [];
    const completions: number[] = [];
    const oldPollTimes: number[] = [];
    let oldRequests = 0;
    order.forEach((jobId, n) => {
      const start = submittedAt.get(jobId);
      if (start === undefined) return;
      const completesAt = start + a.completionDelayMs + spreadShare(n, a.completionSpreadMs);
      completions.push(completesAt);
      const out = outAt.get(jobId);
      if (out !== undefined) {
        latencies.push((out - completesAt) / 1000);
        (completesAt < lastSubmittedAt ? whileSubmitting : afterSubmissions).push((out - completesAt) / 1000);
      }
      const old = perJobPolls(start, completesAt, a.pollIntervalS * 1000);
      oldRequests += old.length;
      oldPollTimes.push(...old);
      oldLatencies.push((old[old.length - 1] - completesAt) / 1000);
    });
    const pollRequests = Object.fromEntries(POLL_ROUTES.map((r) => [r, (after.routeCounts[r] ?? 0) - (before.routeCounts[r] ?? 0)]));
    const polls = Object.values(pollRequests).reduce((s, n) => s + n, 0);
    const requestsPerResult = polls / Math.max(1, completed);
    const p95 = percentile(latencies, 95);
    const everyWaitCompleted = completed === a.jobs && Object.keys(caught).length === 0;
    return {
      jobs: a.jobs,
      ratePerSecond: a.ratePerSecond,
      pollIntervalS: a.pollIntervalS,
      completionDelayS: a.completionDelayMs / 1000,
      completionSpreadS: a.completionSpreadMs / 1000,
      completed,
      caught,
      everyWaitCompleted,
      elapsedS: round(elapsedS, 1),
      completionSpanS: round((Math.max(...completions) - Math.min(...completions)) / 1000, 1),
      pollRequests,
      requestsPerResult: round(requestsPerResult, 3),
      p50CompletionToOutputS: round(percentile(latencies, 50), 2),
      p95CompletionToOutputS: round(p95, 2),
      maxCompletionToOutputS: round(Math.max(...latencies), 2),
      p95WhileSubmittingS: round(percentile(whileSubmitting, 95), 2),
      p95AfterSubmissionsS: round(percentile(afterSubmissions, 95), 2),
      sweeps: pollRequests['project.details'],
      meanSweepCycleS: round(elapsedS / Math.max(1, pollRequests['project.details']), 2),
      perJob: {
        requestsPerResult: round(oldRequests / Math.max(1, order.length), 3),
        p95CompletionToOutputS: round(percentile(oldLatencies, 95), 2),
        peakDemandPerSecond: peakPerSecond(oldPollTimes),
      },
      met:
        everyWaitCompleted &&
        requestsPerResult <= BUDGET_TARGETS.waits.maxRequestsPerResult &&
        p95 <= BUDGET_TARGETS.waits.maxP95CompletionToOutputS,
    };
  } finally {
    await own.close(1000);
  }
}

/**
 * The GETs the previous job-result node made for one waiting message: at once, then after the
 * interval, each pause 1.5× the last up to 4× the interval, until one finds the job completed.
 */
export function perJobPolls(startMs: number, completesAtMs: number, intervalMs: number): number[] {
  const times = [startMs];
  let pause = intervalMs;
  while (times[times.length - 1] < completesAtMs) {
    times.push(times[times.length - 1] + pause);
    pause = Math.min(pause * 1.5, intervalMs * 4);
  }
  return times;
}

/** The most requests falling in any one-second bucket. */
function peakPerSecond(timesMs: number[]): number {
  const buckets = new Map<number, number>();
  for (const t of timesMs) {
    const k = Math.floor(t / 1000);
    buckets.set(k, (buckets.get(k) ?? 0) + 1);
  }
  return Math.max(0, ...buckets.values());
}

// ---- burst and refeed --------------------------------------------------------------------

async function burstRun(a: BurstArgs): Promise<{ burst: BurstResult; refeed: RefeedResult }> {
  const jobIds: string[] = new Array(a.sequences);
  let phase: 'burst' | 'refeed' = 'burst';
  const outputs = { burst: 0, refeed: 0 };
  let existing = 0;
  let sameJobId = 0;
  const caught = { burst: {} as Record<string, number>, refeed: {} as Record<string, number> };
  let ended = 0;
  let allEnded: () => void = () => undefined;
  const end = () => {
    if (++ended === a.sequences) allEnded();
  };
  const flow = await loadFlow(
    // Default queue, concurrency and existing-job handling; the account's rate.
    [configNodeDef(a.sandboxUrl, PROJECT, { rateLimit: a.ratePerSecond }), SUBMIT_NODE],
    {
      out: (msg) => {
        outputs[phase]++;
        if (phase === 'burst') jobIds[msg.bench_i] = msg.job_id;
        else {
          if (msg.payload?.existing === true) existing++;
          if (msg.job_id === jobIds[msg.bench_i]) sameJobId++;
        }
        end();
      },
      caught: (msg) => {
        const code = String(msg.error?.code ?? 'ERROR');
        caught[phase][code] = (caught[phase][code] ?? 0) + 1;
        end();
      },
    },
    { cfg: { apiKey: API_KEY } },
  );
  const maxQueue: number = flow.node('cfg').client.limiter.opts.maxQueue;

  /** Injects every sequence at once (in chunks per event-loop turn); resolves when all ended. */
  const inject = async (): Promise<number> => {
    ended = 0;
    const done = new Promise<void>((resolve) => (allEnded = resolve));
    const timer = setTimeout(() => allEnded(), a.timeoutMs);
    const t0 = Date.now();
    for (let i = 0; i < a.sequences; i += a.chunk) {
      for (let k = i; k < Math.min(a.sequences, i + a.chunk); k++) {
        flow.inject('ours', { payload: sequenceFrames(k, FRAMES_PER_JOB, 'budget'), bench_i: k });
      }
      await new Promise((r) => setImmediate(r));
    }
    await done;
    clearTimeout(timer);
    return (Date.now() - t0) / 1000;
  };

  gc();
  const baselineRss = process.memoryUsage().rss;
  let peakRss = baselineRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const s0 = await sandboxState(a.sandboxUrl);
  const burstS = await inject();
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const s1 = await sandboxState(a.sandboxUrl);

  phase = 'refeed';
  const refeedS = await inject();
  const s2 = await sandboxState(a.sandboxUrl);
  await unloadFlow();

  const floorS = a.sequences / a.ratePerSecond;
  const refused = a.sequences - outputs.burst;
  const budgetUsedPercent = (100 * floorS) / burstS;
  const rssGrowthMb = mb(peakRss - baselineRss);
  const routeDelta = (x: SandboxSummary, y: SandboxSummary) =>
    Object.fromEntries(
      Object.entries(y.routeCounts)
        .map(([r, n]) => [r, n - (x.routeCounts[r] ?? 0)])
        .filter(([, n]) => (n as number) > 0),
    );
  const refeedRequests = s2.requestCount - s1.requestCount;
  const requestsPerSequence = refeedRequests / a.sequences;
  return {
    burst: {
      sequences: a.sequences,
      ratePerSecond: a.ratePerSecond,
      maxQueue,
      outputs: outputs.burst,
      refused,
      caught: caught.burst,
      elapsedS: round(burstS, 1),
      floorS: round(floorS, 1),
      budgetUsedPercent: round(budgetUsedPercent, 1),
      createRequests: (s1.routeCounts['job.create'] ?? 0) - (s0.routeCounts['job.create'] ?? 0),
      baselineRssMb: mb(baselineRss),
      peakRssMb: mb(peakRss),
      rssGrowthMb,
      met:
        refused === 0 &&
        budgetUsedPercent >= BUDGET_TARGETS.burst.minBudgetUsedPercent &&
        rssGrowthMb <= BUDGET_TARGETS.burst.maxRssGrowthMb,
    },
    refeed: {
      sequences: a.sequences,
      outputs: outputs.refeed,
      existing,
      sameJobId,
      caught: caught.refeed,
      storedJobs: s2.jobs,
      requests: refeedRequests,
      requestsByRoute: routeDelta(s1, s2),
      requestsPerSequence: round(requestsPerSequence, 4),
      elapsedS: round(refeedS, 1),
      met:
        existing === a.sequences &&
        sameJobId === a.sequences &&
        s2.jobs === a.sequences &&
        requestsPerSequence <= BUDGET_TARGETS.refeed.maxRequestsPerSequence,
    },
  };
}
