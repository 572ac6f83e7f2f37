/**
 * Throughput at concurrency 4/16/64, three ways against the same sandbox process and bodies:
 *   ceiling – a bare undici request() loop with a keep-alive Agent (pre-serialised bodies);
 *   ours    – the playment-submit-video-job node in a Node-RED runtime;
 *   diy     – a core function node building the body + the core http request node.
 * Each is fed closed-loop with the same window (= the concurrency). The variants run
 * interleaved: each concurrency is split into rounds, and every round runs all three variants
 * (order rotated per round), each after a sandbox reset, so drift hits them alike.
 */
import { Agent, request } from 'undici';
import { feed, type FeedResult } from './feed';
import { SUBMIT_NODE, configNodeDef, loadFlow, unloadFlow } from './runtime';
import type { SandboxProcess } from './sandbox-proc';
import { percentile, round } from './stats';
import { API_KEY, PROJECT, bodyFor, diyBodyMatches, diyFunctionSource, sequenceFrames } from './workload';

export type Variant = 'ceiling' | 'ours' | 'diy';
const VARIANTS: Variant[] = ['ceiling', 'ours', 'diy'];

export interface ThroughputOptions {
  jobs: number;
  concurrencies: number[];
  rounds: number;
  /** Jobs per variant before each concurrency's measured rounds. */
  warmup: number;
  /**
   * Jobs per variant once at the start (concurrency 16): V8 needs a few thousand calls before
   * the hot paths (ours, undici, the sandbox) reach their optimised code.
   */
  jitWarmup: number;
  /** Per variant and round; a hung run ends here instead of hanging the bench. */
  timeoutMs: number;
  /** Default all three; fewer for profiling one path (`--variants ours`). */
  variants?: Variant[];
}

export interface VariantStats {
  jobs: number;
  ok: number;
  failed: number;
  codes: Record<string, number>;
  jobsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  /** Bench-process CPU (user + system) per job. */
  cpuMsPerJob: number;
  /** The sandbox process's CPU per job (from /proc), when readable. */
  sandboxCpuMsPerJob?: number;
  /** Cores busy while running: 1.0 = one core flat out (the bench's JS runs on one thread). */
  benchCores: number;
  sandboxCores?: number;
  timedOut: boolean;
}

export interface ConcurrencyResult {
  concurrency: number;
  ceiling: VariantStats;
  ours: VariantStats;
  diy: VariantStats;
  oursOverCeiling: number;
  oursOverDiy: number;
}

export interface ThroughputResult {
  framesPerJob: number;
  order: string;
  byConcurrency: ConcurrencyResult[];
  /** What the sandbox alone serves: bare undici at concurrency 64 with 1-frame bodies. */
  sandboxCeiling: VariantStats & { concurrency: number; framesPerJob: number };
  /** Jobs/s one sandbox core could serve at the CPU it spent per 20-frame job in the concurrency-16 ceiling. */
  sandboxCapacityPerCore?: number;
  diyBodyIdentical: boolean;
  targets: {
    oursOverCeilingAt16: { target: number; value: number; met: boolean };
    oursOverDiy: { target: number; min: number; met: boolean };
  };
}

interface Accumulated {
  results: FeedResult[];
  sandboxCpuS: number;
  sandboxCpuKnown: boolean;
}

export async function runThroughput(sb: SandboxProcess, opts: ThroughputOptions): Promise<ThroughputResult> {
  const total = opts.jobs + Math.max(opts.warmup, opts.jitWarmup);
  const payloads = Array.from({ length: total }, (_, i) => sequenceFrames(i));
  const bodies = payloads.map((p) => bodyFor(p));
  const bodyTexts = bodies.map((b) => JSON.stringify(b));
  const refs = bodies.map((b) => b.reference_id);
  const jobPath = `/v0/projects/${encodeURIComponent(PROJECT)}/jobs`;

  const inputs = { payloads, bodyTexts, refs, jobPath };
  await runConcurrency(sb, 16, { ...opts, jobs: 0, warmup: opts.jitWarmup }, inputs);
  const byConcurrency: ConcurrencyResult[] = [];
  for (const c of opts.concurrencies) {
    byConcurrency.push(await runConcurrency(sb, c, opts, inputs));
  }

  // The sandbox's own ceiling: tiny bodies, high concurrency, nothing else in the way.
  const tiny = Array.from({ length: total }, (_, i) => JSON.stringify(bodyFor(sequenceFrames(i, 1, 'tiny'))));
  const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 });
  let sandboxCeiling: ThroughputResult['sandboxCeiling'];
  try {
    await sb.reset();
    await undiciLoop(sb.url + jobPath, tiny, opts.jobs, total - opts.jobs, 64, agent, opts.timeoutMs);
    await sb.reset();
    const acc: Accumulated = { results: [], sandboxCpuS: 0, sandboxCpuKnown: true };
    await measured(sb, acc, () => undiciLoop(sb.url + jobPath, tiny, 0, opts.jobs, 64, agent, opts.timeoutMs));
    await sb.reset();
    sandboxCeiling = { ...summarise(acc), concurrency: 64, framesPerJob: 1 };
  } finally {
    await agent.close();
  }

  const at16 = byConcurrency.find((r) => r.concurrency === 16) ?? byConcurrency[byConcurrency.length - 1];
  const minDiy = Math.min(...byConcurrency.map((r) => r.oursOverDiy));
  return {
    framesPerJob: payloads[0].length,
    order: `${opts.jitWarmup} JIT warm-up jobs per variant at concurrency 16 first; then per concurrency ${opts.warmup} warm-up jobs per variant and ${opts.rounds} measured round(s), each round running ceiling, ours and diy with the order rotated by one per round; sandbox reset before every run`,
    byConcurrency,
    sandboxCeiling,
    sandboxCapacityPerCore: at16.ceiling.sandboxCpuMsPerJob ? round(1000 / at16.ceiling.sandboxCpuMsPerJob, 0) : undefined,
    diyBodyIdentical: diyBodyMatches(payloads[0]),
    targets: {
      oursOverCeilingAt16: { target: 0.85, value: at16.oursOverCeiling, met: at16.oursOverCeiling >= 0.85 },
      oursOverDiy: { target: 1.5, min: round(minDiy), met: minDiy >= 1.5 },
    },
  };
}

interface Inputs {
  payloads: string[][];
  bodyTexts: string[];
  refs: string[];
  jobPath: string;
}

async function runConcurrency(sb: SandboxProcess, c: number, opts: ThroughputOptions, inp: Inputs): Promise<ConcurrencyResult> {
  let current: ReturnType<typeof feed> | undefined;
  let offset = 0;
  const end = (msg: { bench_i?: number }, failure?: string) => {
    if (current && typeof msg.bench_i === 'number') current.end(msg.bench_i - offset, failure);
  };
  const flow = await loadFlow(
    [
      configNodeDef(sb.url, PROJECT, { rateLimit: 0, maxConcurrent: c }),
      SUBMIT_NODE,
      {
        id: 'fn',
        type: 'function',
        func: diyFunctionSource(API_KEY),
        outputs: 1,
        timeout: 0,
        noerr: 0,
        initialize: '',
        finalize: '',
        libs: [],
        wires: [['http']],
      },
      // persist: keep-alive connections, the DIY flow's best setting.
      {
        id: 'http',
        type: 'http request',
        method: 'POST',
        ret: 'obj',
        paytoqs: 'ignore',
        url: sb.url + inp.jobPath,
        persist: true,
        senderr: false,
        headers: [],
        wires: [['diy']],
      },
    ],
    {
      out: (msg) => end(msg),
      diy: (msg) => end(msg, msg.statusCode === 200 ? undefined : `HTTP ${msg.statusCode}`),
      caught: (msg) => end(msg, String(msg.error?.code ?? msg.error?.message ?? 'ERROR')),
    },
    { cfg: { apiKey: API_KEY } },
  );
  const agent = new Agent({ connections: c, keepAliveTimeout: 30_000 });
  const url = sb.url + inp.jobPath;

  // Each variant as "run items [from, from+count) at window c".
  const runners: Record<Variant, (from: number, count: number) => Promise<FeedResult>> = {
    ceiling: (from, count) => undiciLoop(url, inp.bodyTexts, from, count, c, agent, opts.timeoutMs),
    ours: (from, count) => {
      offset = from;
      current = feed(count, c, opts.timeoutMs, (i) => flow.inject('ours', { payload: inp.payloads[from + i], bench_i: from + i }));
      return current.done;
    },
    diy: (from, count) => {
      offset = from;
      current = feed(count, c, opts.timeoutMs, (i) =>
        flow.inject('fn', { payload: inp.payloads[from + i], ref: inp.refs[from + i], bench_i: from + i }),
      );
      return current.done;
    },
  };

  const variants = VARIANTS.filter((v) => !opts.variants || opts.variants.includes(v));
  const acc: Record<Variant, Accumulated> = {
    ceiling: { results: [], sandboxCpuS: 0, sandboxCpuKnown: true },
    ours: { results: [], sandboxCpuS: 0, sandboxCpuKnown: true },
    diy: { results: [], sandboxCpuS: 0, sandboxCpuKnown: true },
  };
  try {
    for (const v of variants) {
      await sb.reset();
      await runners[v](opts.jobs, opts.warmup);
    }
    const perRound = Math.ceil(opts.jobs / opts.rounds);
    for (let r = 0; r < opts.rounds; r++) {
      const from = r * perRound;
      const count = Math.min(perRound, opts.jobs - from);
      if (count <= 0) break;
      const order = variants.map((_, k) => variants[(k + r) % variants.length]);
      for (const v of order) {
        // No forced GC here: global.gc() shrinks the young generation, and the next runs
        // then pay for extra scavenges (measured: ~0.1 ms more CPU per job).
        await sb.reset();
        await measured(sb, acc[v], () => runners[v](from, count));
      }
    }
  } finally {
    current = undefined;
    await sb.reset();
    await unloadFlow();
    await agent.close();
  }
  const ceiling = summarise(acc.ceiling);
  const ours = summarise(acc.ours);
  const diy = summarise(acc.diy);
  return {
    concurrency: c,
    ceiling,
    ours,
    diy,
    oursOverCeiling: round(ours.jobsPerSecond / ceiling.jobsPerSecond),
    oursOverDiy: round(ours.jobsPerSecond / diy.jobsPerSecond),
  };
}

/** Runs one measured piece and adds the sandbox's CPU time spent during it. */
async function measured(sb: SandboxProcess, acc: Accumulated, run: () => Promise<FeedResult>): Promise<void> {
  const before = sb.cpuSeconds();
  const result = await run();
  const after = sb.cpuSeconds();
  if (before === undefined || after === undefined) acc.sandboxCpuKnown = false;
  else acc.sandboxCpuS += after - before;
  acc.results.push(result);
}

/** The ceiling: `window` workers doing request() on one keep-alive Agent, reading each answer. */
function undiciLoop(
  url: string,
  bodies: string[],
  from: number,
  count: number,
  window: number,
  agent: Agent,
  timeoutMs: number,
): Promise<FeedResult> {
  const feeder = feed(count, window, timeoutMs, (i) => {
    request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'x-api-key': API_KEY, 'content-type': 'application/json', accept: 'application/json' },
      body: bodies[from + i],
    })
      .then(async (res) => {
        const answer = JSON.parse(await res.body.text()) as { success?: boolean };
        feeder.end(i, res.statusCode === 200 && answer.success ? undefined : `HTTP ${res.statusCode}`);
      })
      .catch((err: { code?: string }) => feeder.end(i, err.code ?? 'NETWORK'));
  });
  return feeder.done;
}

function summarise(acc: Accumulated): VariantStats {
  const rs = acc.results;
  const jobs = rs.reduce((s, r) => s + r.count, 0);
  const ok = rs.reduce((s, r) => s + r.ok, 0);
  // Jobs that never ended (a run that hit its time limit) count as failed too.
  const failed = jobs - ok;
  const elapsedMs = rs.reduce((s, r) => s + r.elapsedMs, 0);
  const cpuMs = rs.reduce((s, r) => s + r.cpuUserMs + r.cpuSystemMs, 0);
  const codes: Record<string, number> = {};
  for (const r of rs) for (const [k, n] of Object.entries(r.codes)) codes[k] = (codes[k] ?? 0) + n;
  const unended = rs.reduce((s, r) => s + r.count - r.ok - r.failed, 0);
  if (unended > 0) codes['no end within the time limit'] = unended;
  const all = new Float64Array(rs.reduce((s, r) => s + r.latencies.length, 0));
  let k = 0;
  for (const r of rs) {
    all.set(r.latencies, k);
    k += r.latencies.length;
  }
  return {
    jobs,
    ok,
    failed,
    codes,
    jobsPerSecond: round(ok / (elapsedMs / 1000), 1),
    p50Ms: round(percentile(all, 50)),
    p95Ms: round(percentile(all, 95)),
    cpuMsPerJob: round(cpuMs / Math.max(1, jobs)),
    sandboxCpuMsPerJob: acc.sandboxCpuKnown ? round((acc.sandboxCpuS * 1000) / Math.max(1, jobs)) : undefined,
    benchCores: round(cpuMs / Math.max(1, elapsedMs), 2),
    sandboxCores: acc.sandboxCpuKnown ? round((acc.sandboxCpuS * 1000) / Math.max(1, elapsedMs), 2) : undefined,
    timedOut: rs.some((r) => r.timedOut),
  };
}
