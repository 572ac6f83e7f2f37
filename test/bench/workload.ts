/**
 * What every benchmark sends: deterministic frame lists, so the same sequence index always
 * gives the same body (and the same derived reference id) in every process and phase.
 */
import { planJobs, type PlanOptions } from '../../src/jobs/plan';
import type { VideoJobBody } from '../../src/jobs/job-body';

/** Sandbox-only credentials: nothing real. */
export const API_KEY = 'bench-key-7c1e0d93a2f4';
export const PROJECT = 'bench-project';
export const TAG = 'track_bounding_boxes';
export const FRAMES_PER_JOB = 20;

export const PLAN_OPTIONS: PlanOptions = { projectId: PROJECT, frameOrder: 'given', maxFramesPerJob: 0, overlap: 0 };

/** One sequence: distinct URLs per sequence index, so every sequence is a new reference id. */
export function sequenceFrames(seq: number, frames = FRAMES_PER_JOB, run = 'bench'): string[] {
  const dir = `https://cdn.example.com/${run}/seq-${String(seq).padStart(6, '0')}`;
  const out = new Array<string>(frames);
  for (let f = 0; f < frames; f++) out[f] = `${dir}/frame_${String(f).padStart(5, '0')}.jpg`;
  return out;
}

/** The body our submit node sends for a frame list (what planJobs builds in the node). */
export function bodyFor(frames: readonly string[]): VideoJobBody {
  return planJobs(frames, { tag: TAG }, {}, PLAN_OPTIONS)[0].body;
}

/**
 * The do-it-yourself function node: builds the same body by hand and puts the key in a header.
 * The reference id comes precomputed on msg.ref (a hand-written flow would not hash frames), so
 * this baseline is, if anything, flattered.
 */
export function diyFunctionSource(apiKey: string): string {
  return [
    'const frames = msg.payload.map((src) => ({ frame_id: src.slice(src.lastIndexOf("/") + 1), src }));',
    `msg.payload = { reference_id: msg.ref, data: { video_data: { frames } }, tag: ${JSON.stringify(TAG)} };`,
    `msg.headers = { "x-api-key": ${JSON.stringify(apiKey)}, "content-type": "application/json" };`,
    'return msg;',
  ].join('\n');
}

/** Runs the DIY function source outside Node-RED, to check it builds exactly our body. */
export function diyBodyMatches(frames: string[]): boolean {
  const ref = bodyFor(frames).reference_id;
  const fn = new Function('msg', diyFunctionSource(API_KEY)) as (m: Record<string, unknown>) => { payload: unknown };
  const diy = fn({ payload: frames, ref }).payload;
  return JSON.stringify(diy) === JSON.stringify(bodyFor(frames));
}
