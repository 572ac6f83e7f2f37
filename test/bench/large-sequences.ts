/**
 * Preparing one long job as the node does (planJobs: settings, normalise + validate frames,
 * derive the reference id, build the body) plus JSON.stringify of the body, against a plain
 * JSON.stringify of the same body. Medians over repeats; per-frame cost shows whether the
 * growth is linear. The parts are timed too, so a miss points at its cause.
 */
import { performance } from 'node:perf_hooks';
import { normalizeFrames } from '../../src/jobs/frames';
import { planJobs } from '../../src/jobs/plan';
import { deriveReferenceId } from '../../src/jobs/reference-id';
import { median, round } from './stats';
import { PLAN_OPTIONS, PROJECT, TAG, sequenceFrames } from './workload';

export interface LargeSequenceOptions {
  sizes: number[];
  /** Keep repeating until both are reached (and stop at maxReps). */
  minReps: number;
  minTimeMs: number;
  maxReps: number;
}

export interface SizeResult {
  frames: number;
  reps: number;
  /** Medians, ms per job. */
  prepareMs: number;
  stringifyMs: number;
  normaliseMs: number;
  referenceIdMs: number;
  /** (planJobs + JSON.stringify) / JSON.stringify. */
  ratio: number;
  prepareUsPerFrame: number;
  stringifyUsPerFrame: number;
  bodyBytes: number;
}

export interface LargeSequenceResult {
  input: string;
  sizes: SizeResult[];
  /** Per-frame cost at the largest size over the smallest: 1.0 is perfectly linear. */
  linearity: number;
  target: { frames: number; maxRatio: number; value: number; met: boolean };
}

export function runLargeSequences(opts: LargeSequenceOptions): LargeSequenceResult {
  const sizes = opts.sizes.map((n) => measureSize(n, opts));
  const first = sizes[0];
  const last = sizes[sizes.length - 1];
  const at10k = sizes.find((s) => s.frames === 10_000) ?? last;
  return {
    input: 'URL strings, distinct per frame (the common input); frame ids derived from the URLs; frameOrder "given"',
    sizes,
    linearity: round(last.prepareUsPerFrame / first.prepareUsPerFrame, 2),
    target: { frames: at10k.frames, maxRatio: 3, value: at10k.ratio, met: at10k.ratio <= 3 },
  };
}

function measureSize(n: number, opts: LargeSequenceOptions): SizeResult {
  const input = sequenceFrames(0, n, `large-${n}`);
  const prepare = () => {
    const body = planJobs(input, { tag: TAG }, {}, PLAN_OPTIONS)[0].body;
    return JSON.stringify(body).length;
  };
  const body = planJobs(input, { tag: TAG }, {}, PLAN_OPTIONS)[0].body;
  const frames = body.data.video_data.frames;
  const stringify = () => JSON.stringify(body).length;
  const normalise = () => normalizeFrames(input).length;
  const referenceId = () => deriveReferenceId({ projectId: PROJECT, tag: TAG, frames }).length;

  // Warm-up: let V8 optimise each path at this size before timing it.
  for (let i = 0; i < 3; i++) {
    prepare();
    stringify();
    normalise();
    referenceId();
  }
  const times = { prepare: [] as number[], stringify: [] as number[], normalise: [] as number[], referenceId: [] as number[] };
  const fns = { prepare, stringify, normalise, referenceId };
  const started = performance.now();
  let reps = 0;
  // Interleaved, so a slow moment of the machine hits every measure alike.
  while (reps < opts.maxReps && (reps < opts.minReps || performance.now() - started < opts.minTimeMs)) {
    for (const k of Object.keys(fns) as Array<keyof typeof fns>) {
      const t0 = performance.now();
      fns[k]();
      times[k].push(performance.now() - t0);
    }
    reps++;
  }
  const prepareMs = median(times.prepare);
  const stringifyMs = median(times.stringify);
  return {
    frames: n,
    reps,
    prepareMs: round(prepareMs),
    stringifyMs: round(stringifyMs),
    normaliseMs: round(median(times.normalise)),
    referenceIdMs: round(median(times.referenceId)),
    ratio: round(prepareMs / stringifyMs, 2),
    prepareUsPerFrame: round((prepareMs * 1000) / n),
    stringifyUsPerFrame: round((stringifyMs * 1000) / n),
    bodyBytes: JSON.stringify(body).length,
  };
}
