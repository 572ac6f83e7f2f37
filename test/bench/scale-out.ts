/**
 * Scale-out: two Node-RED runtimes (two child processes), same config and derived reference
 * ids, fed overlapping slices of the same sequences, as a shared queue that redelivers would
 * feed them (A: the first 60 %, B: the last 60 %). The sandbox must end with every sequence
 * stored exactly once; with the submit node's default (pass an existing job on), the overlap
 * ends as outputs with `existing: true` and the job id of the stored job in whichever came second.
 */
import { runInChild } from './child';
import { feed } from './feed';
import { SUBMIT_NODE, configNodeDef, loadFlow, startRuntime, stopRuntime, unloadFlow } from './runtime';
import type { SandboxProcess } from './sandbox-proc';
import { round } from './stats';
import { API_KEY, FRAMES_PER_JOB, PROJECT, bodyFor, sequenceFrames } from './workload';

const RUN = 'scale';

export interface ScaleOutArgs {
  sandboxUrl: string;
  from: number;
  to: number;
  concurrency: number;
  timeoutMs: number;
}

export interface WorkerReport {
  from: number;
  to: number;
  outputs: number;
  /** Outputs that passed on a job stored before (`existing: true`). */
  existing: number;
  /** Reference id and job id of each output, in the order they came. */
  referenceIds: string[];
  jobIds: string[];
  /** Catch-node endings by error code. */
  caught: Record<string, number>;
  elapsedMs: number;
  timedOut: boolean;
}

export interface ScaleOutResult {
  sequences: number;
  a: Omit<WorkerReport, 'referenceIds' | 'jobIds'>;
  b: Omit<WorkerReport, 'referenceIds' | 'jobIds'>;
  overlap: number;
  storedJobs: number;
  jobCreateRequests: number;
  duplicateAttemptsAtSandbox: number;
  fs0001AtCatch: number;
  existingOutputs: number;
  /** Reference ids whose outputs named more than one job id. */
  referenceIdsWithTwoJobIds: number;
  distinctOutputReferenceIds: number;
  outputReferenceIdsSeenTwice: number;
  missingReferenceIds: number;
  eachReferenceIdOnce: boolean;
}

export async function runScaleOut(
  sb: SandboxProcess,
  opts: { sequences: number; concurrency: number; timeoutMs: number },
): Promise<ScaleOutResult> {
  const n = opts.sequences;
  const aTo = Math.round(n * 0.6);
  const bFrom = n - aTo;
  await sb.reset();
  try {
    // Both start together, so overlapping sequences can race.
    const common = { sandboxUrl: sb.url, concurrency: opts.concurrency, timeoutMs: opts.timeoutMs };
    const [a, b] = await Promise.all([
      runInChild<WorkerReport>('scale-out', { ...common, from: 0, to: aTo }, opts.timeoutMs + 30_000).result,
      runInChild<WorkerReport>('scale-out', { ...common, from: bFrom, to: n }, opts.timeoutMs + 30_000).result,
    ]);
    const state = await sb.state();
    const expected = new Set(Array.from({ length: n }, (_, i) => bodyFor(sequenceFrames(i, FRAMES_PER_JOB, RUN)).reference_id));
    const outputs = [...a.referenceIds, ...b.referenceIds];
    const distinct = new Set(outputs);
    const missing = [...expected].filter((r) => !distinct.has(r)).length;
    const fs0001 = (a.caught.FS_0001 ?? 0) + (b.caught.FS_0001 ?? 0);
    const existing = a.existing + b.existing;
    const jobIdOf = new Map<string, Set<string>>();
    [a, b].forEach((w) => w.referenceIds.forEach((r, k) => jobIdOf.set(r, (jobIdOf.get(r) ?? new Set()).add(w.jobIds[k]))));
    const twoJobIds = [...jobIdOf.values()].filter((ids) => ids.size > 1).length;
    const strip = ({ referenceIds: _r, jobIds: _j, ...rest }: WorkerReport) => rest;
    return {
      sequences: n,
      a: strip(a),
      b: strip(b),
      overlap: aTo - bFrom,
      storedJobs: state.jobs,
      jobCreateRequests: state.routeCounts['job.create'] ?? 0,
      duplicateAttemptsAtSandbox: state.duplicateReferenceIds,
      fs0001AtCatch: fs0001,
      existingOutputs: existing,
      referenceIdsWithTwoJobIds: twoJobIds,
      distinctOutputReferenceIds: distinct.size,
      outputReferenceIdsSeenTwice: outputs.length - distinct.size,
      missingReferenceIds: missing,
      // Stored once each; the overlap came out twice (once created, once existing), same job id.
      eachReferenceIdOnce:
        state.jobs === n &&
        distinct.size === n &&
        outputs.length === n + (aTo - bFrom) &&
        missing === 0 &&
        existing === aTo - bFrom &&
        fs0001 === 0 &&
        twoJobIds === 0,
    };
  } finally {
    await sb.reset();
  }
}

/** Child side: one runtime feeding its slice through the submit node. */
export async function scaleOutTask(a: ScaleOutArgs): Promise<WorkerReport> {
  await startRuntime();
  const referenceIds: string[] = [];
  const jobIds: string[] = [];
  let existing = 0;
  const caught: Record<string, number> = {};
  let current: ReturnType<typeof feed> | undefined;
  try {
    const flow = await loadFlow(
      [configNodeDef(a.sandboxUrl, PROJECT, { rateLimit: 0, maxConcurrent: a.concurrency }), SUBMIT_NODE],
      {
        out: (msg) => {
          referenceIds.push(msg.reference_id);
          jobIds.push(msg.job_id);
          if (msg.payload?.existing === true) existing++;
          current?.end(msg.bench_i);
        },
        caught: (msg) => {
          const code = String(msg.error?.code ?? 'ERROR');
          caught[code] = (caught[code] ?? 0) + 1;
          current?.end(msg.bench_i, code);
        },
      },
      { cfg: { apiKey: API_KEY } },
    );
    const count = a.to - a.from;
    current = feed(count, a.concurrency * 2, a.timeoutMs, (i) =>
      flow.inject('ours', { payload: sequenceFrames(a.from + i, FRAMES_PER_JOB, RUN), bench_i: i }),
    );
    const res = await current.done;
    await unloadFlow();
    return {
      from: a.from,
      to: a.to,
      outputs: referenceIds.length,
      existing,
      referenceIds,
      jobIds,
      caught,
      elapsedMs: round(res.elapsedMs, 0),
      timedOut: res.timedOut,
    };
  } finally {
    await stopRuntime();
  }
}
