/**
 * npm run bench [-- --quick] [-- --only throughput,large,rate,memory,scale,budget] [-- --variants ours]
 * Runs the phases in a fixed order, prints markdown tables, writes bench/results.json.
 * No timing decides the exit code: it is non-zero only when a phase could not run.
 *
 * Where things run: the sandbox is the CLI in its own process (dist/sandbox/cli.js, or the
 * source through tsx when dist/ is missing); Node-RED is embedded through its public API
 * (test/bench/runtime.ts), in this
 * process for throughput and rate limit, in fresh child processes for memory and scale-out;
 * the large-sequence timings also run in a fresh child, away from the other phases' heap; the
 * account budget runs its parts in children against sandboxes of its own (rate limit on).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runInChild } from './child';
import type { LargeSequenceResult } from './large-sequences';
import { runBudget } from './budget';
import { runMemory } from './memory';
import { runRateLimit } from './rate-limit';
import { collectTargets, render, type Results } from './report';
import { startRuntime, stopRuntime } from './runtime';
import { startSandboxProcess, type SandboxProcess } from './sandbox-proc';
import { runScaleOut } from './scale-out';
import { round } from './stats';
import { runThroughput, type Variant } from './throughput';

const PHASES = ['throughput', 'large', 'rate', 'memory', 'scale', 'budget'] as const;
const ROOT = path.resolve(__dirname, '..', '..');
type Phase = (typeof PHASES)[number];

/**
 * Sizes: full is the documented benchmark (~2–3 min on 2 cores, and ~5 min more for the budget);
 * quick is the CI smoke run (~1 min).
 */
const PLANS = {
  full: {
    throughput: { jobs: 5000, concurrencies: [4, 16, 64], rounds: 5, warmup: 500, jitWarmup: 8000, timeoutMs: 120_000 },
    large: { sizes: [1_000, 10_000, 100_000], minReps: 10, minTimeMs: 2000, maxReps: 1000 },
    rate: { ratePerSecond: 5, durationS: 60 },
    memory: {
      burstMessages: 100_000,
      burstChunk: 1000,
      holdMs: 2000,
      repeats: 10,
      repeatJobs: 5000,
      repeatConcurrency: 16,
      timeoutMs: 300_000,
    },
    scale: { sequences: 2000, concurrency: 16, timeoutMs: 120_000 },
    budget: {
      waits: { jobs: 2000, ratePerSecond: 40, pollIntervalS: 5, completionDelayMs: 5000, completionSpreadMs: 100_000, timeoutMs: 400_000 },
      burst: { sequences: 10_000, ratePerSecond: 200, chunk: 1000, timeoutMs: 180_000 },
      poller: { waits: 100_000, sweeps: 10, timeoutMs: 180_000 },
    },
  },
  quick: {
    throughput: { jobs: 300, concurrencies: [4, 16, 64], rounds: 1, warmup: 30, jitWarmup: 200, timeoutMs: 60_000 },
    large: { sizes: [1_000, 10_000, 100_000], minReps: 3, minTimeMs: 100, maxReps: 50 },
    rate: { ratePerSecond: 5, durationS: 5 },
    memory: {
      burstMessages: 10_000,
      burstChunk: 1000,
      holdMs: 500,
      repeats: 3,
      repeatJobs: 500,
      repeatConcurrency: 16,
      timeoutMs: 120_000,
    },
    scale: { sequences: 200, concurrency: 16, timeoutMs: 60_000 },
    budget: {
      waits: { jobs: 200, ratePerSecond: 40, pollIntervalS: 2, completionDelayMs: 2000, completionSpreadMs: 10_000, timeoutMs: 60_000 },
      burst: { sequences: 1000, ratePerSecond: 200, chunk: 1000, timeoutMs: 60_000 },
      poller: { waits: 20_000, sweeps: 3, timeoutMs: 60_000 },
    },
  },
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      variants: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const mode = values.quick ? 'quick' : 'full';
  const plan = PLANS[mode];
  const only = new Set((values.only ?? PHASES.join(',')).split(',').map((s) => s.trim()) as Phase[]);
  for (const name of only) if (!PHASES.includes(name)) throw new Error(`--only: unknown phase ${name} (use ${PHASES.join(', ')})`);
  const outFile = path.resolve(values.out ?? path.join(ROOT, 'bench', 'results.json'));
  const started = Date.now();

  const results: Results = {
    meta: {
      date: new Date().toISOString(),
      mode,
      node: process.version,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      cpuCount: os.cpus().length,
      totalMemoryGb: round(os.totalmem() / 1024 ** 3, 1),
      platform: `${os.platform()} ${os.arch()}`,
      loadAverageStart: os.loadavg().map((x) => round(x, 2)),
    },
    errors: {},
    phaseSeconds: {},
    phaseLoadAverage: {},
    targets: [],
  };

  let sandbox: SandboxProcess | undefined;
  const phase = async (name: Phase, run: () => Promise<void>) => {
    if (!only.has(name)) return;
    const t0 = Date.now();
    console.error(`bench: ${name}…`);
    try {
      await run();
    } catch (err) {
      results.errors[name] = describe(err);
      console.error(`bench: ${name} failed: ${results.errors[name]}`);
    }
    results.phaseSeconds[name] = round((Date.now() - t0) / 1000, 1);
    // Other processes on the machine skew timings: keep the 1-minute load next to each phase.
    results.phaseLoadAverage[name] = round(os.loadavg()[0], 2);
  };

  try {
    sandbox = await startSandboxProcess();
    results.meta.sandboxSource = sandbox.source === 'dist' ? 'dist/sandbox/cli.js' : 'src/sandbox/cli.ts (dist/ missing)';
    await startRuntime();
    await phase('throughput', async () => {
      const variants = values.variants?.split(',').map((v) => v.trim()) as Variant[] | undefined;
      results.throughput = await runThroughput(sandbox!, { ...plan.throughput, variants });
    });
    await phase('large', async () => {
      results.largeSequences = await runInChild<LargeSequenceResult>('large', plan.large, 300_000).result;
    });
    await phase('rate', async () => {
      results.rateLimit = await runRateLimit(plan.rate);
    });
    await phase('memory', async () => {
      results.memory = await runMemory(sandbox!, plan.memory);
    });
    await phase('scale', async () => {
      results.scaleOut = await runScaleOut(sandbox!, plan.scale);
    });
    await phase('budget', async () => {
      results.budget = await runBudget(plan.budget);
    });
  } catch (err) {
    results.errors.setup = describe(err);
  } finally {
    await stopRuntime().catch(() => undefined);
    await sandbox?.stop();
  }

  results.meta.loadAverageEnd = os.loadavg().map((x) => round(x, 2));
  results.meta.durationS = round((Date.now() - started) / 1000, 1);
  results.targets = collectTargets(results);
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  console.log(render(results));
  console.error(`bench: wrote ${path.relative(process.cwd(), outFile) || outFile}`);
  return Object.keys(results.errors).length === 0 ? 0 : 1;
}

/** An error for the report, with file locations relative to the repository. */
function describe(err: unknown): string {
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return text
    .split(ROOT + path.sep)
    .join('')
    .split(ROOT)
    .join('.');
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
