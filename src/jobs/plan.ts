/**
 * Turns one message's payload into the jobs to submit: a single sequence or a bulk array of
 * sequences, each optionally split into overlapping parts. Everything is validated here, before
 * anything is sent, so bad input never reaches the API.
 */
import { invalidInput } from '../api/errors';
import { MAX_FRAMES_PER_JOB, MAX_FRAMES_PER_MESSAGE, isPlainObject, normalizeFrames, preview, sortFramesNaturally, type Frame } from './frames';
import { deriveReferenceId } from './reference-id';
import { firstFilled, isBlank } from './fill-blanks';
import { jobSettingsSchema, makeBody, parseJobSettings, type FrameOrder, type VideoJobBody } from './job-body';

/** The settings of a job a node, a bulk sequence or a message may give: the schema's keys. */
export const SETTING_KEYS = Object.keys(jobSettingsSchema.shape) as SettingKey[];
export type SettingKey = keyof typeof jobSettingsSchema.shape;
export type RawSettings = Partial<Record<SettingKey, unknown>>;

export interface PlanOptions {
  projectId: string;
  frameOrder: FrameOrder;
  /** 0 = never split. */
  maxFramesPerJob: number;
  overlap: number;
}

export interface PlannedJob {
  body: VideoJobBody;
  /** Which sequence of a bulk payload (0 for a single sequence). */
  sequence: number;
  /** Set when the sequence was split: its base reference id and the part number (1-based). */
  split?: { base: string; part: number; parts: number };
}

/** A bulk payload is an array of objects that each carry their own `frames`. */
export function isBulkPayload(payload: unknown): payload is Array<Record<string, unknown>> {
  return Array.isArray(payload) && payload.length > 0 && payload.every((s) => isPlainObject(s) && 'frames' in s);
}

export function checkSplitOptions(opts: PlanOptions): void {
  const { maxFramesPerJob: max, overlap } = opts;
  if (!Number.isInteger(max) || max < 0) throw invalidInput(`max frames per job must be a whole number ≥ 0, got ${preview(max)}`);
  if (!Number.isInteger(overlap) || overlap < 0) throw invalidInput(`overlap must be a whole number ≥ 0, got ${preview(overlap)}`);
  if (max > MAX_FRAMES_PER_JOB) throw invalidInput(`max frames per job must be at most ${MAX_FRAMES_PER_JOB} (Playment's limit for one job), got ${max}`);
  if (max > 0 && overlap >= max) throw invalidInput(`overlap (${overlap}) must be smaller than max frames per job (${max})`);
}

/** How many frames a sequence of `count` frames submits once split (overlapping frames count twice). */
function submittedFrames(count: number, opts: PlanOptions): number {
  const max = opts.maxFramesPerJob;
  if (max === 0 || count <= max) return count;
  const parts = 1 + Math.ceil((count - max) / (max - opts.overlap));
  return count + (parts - 1) * opts.overlap;
}

/** Bounds the whole message before any frame is read: its frames, and what splitting makes of them. */
function checkMessageSize(sequences: unknown[], opts: PlanOptions): void {
  let given = 0;
  let submitted = 0;
  for (const frames of sequences) {
    if (!Array.isArray(frames)) continue;
    given += frames.length;
    submitted += submittedFrames(frames.length, opts);
  }
  if (submitted <= MAX_FRAMES_PER_MESSAGE) return;
  const repeated = submitted > given ? ` (${submitted} with the frames the overlap repeats)` : '';
  throw invalidInput(`msg.payload has ${given} frames${repeated}, more than ${MAX_FRAMES_PER_MESSAGE} in one message; send them in several messages`);
}

/**
 * `node` values win, then the sequence's own (bulk), then the message's (Node-RED convention:
 * msg properties only fill what the node leaves blank).
 */
export function planJobs(payload: unknown, node: RawSettings, msg: RawSettings, opts: PlanOptions): PlannedJob[] {
  checkSplitOptions(opts);
  if (!isBulkPayload(payload)) {
    checkMessageSize([payload], opts);
    return planSequence(payload, fill(node, {}, msg), 0, 'msg.payload', opts);
  }
  checkMessageSize(payload.map((seq) => seq.frames), opts);
  const jobs: PlannedJob[] = [];
  const sharedRef = firstFilled(node.reference_id, msg.reference_id);
  payload.forEach((seq, i) => {
    const label = `msg.payload[${i}]`;
    const settings = fill(node, seq, msg);
    // One reference id cannot name several jobs: a shared one becomes a base numbered per sequence.
    settings.reference_id = firstFilled(seq.reference_id, isBlank(sharedRef) ? undefined : `${String(sharedRef)}-${i + 1}`);
    jobs.push(...planSequence(seq.frames, settings, i, label, opts));
  });
  const seen = new Map<string, number>();
  for (const job of jobs) {
    const earlier = seen.get(job.body.reference_id);
    if (earlier !== undefined && earlier !== job.sequence) {
      throw invalidInput(`msg.payload[${earlier}] and msg.payload[${job.sequence}] have the same reference_id ${preview(job.body.reference_id)}`);
    }
    seen.set(job.body.reference_id, job.sequence);
  }
  return jobs;
}

/** Each setting from the first place that gives it: the node, the sequence, the message. */
function fill(node: RawSettings, seq: RawSettings, msg: RawSettings): RawSettings {
  const out: RawSettings = {};
  for (const key of SETTING_KEYS) out[key] = firstFilled(node[key], seq[key], msg[key]);
  return out;
}

function planSequence(frameInput: unknown, raw: RawSettings, sequence: number, label: string, opts: PlanOptions): PlannedJob[] {
  const settings = parseJobSettings(raw, label);
  const frameLabel = label === 'msg.payload' ? label : `${label}.frames`;
  const max = opts.maxFramesPerJob;
  if (max === 0 && Array.isArray(frameInput) && frameInput.length > MAX_FRAMES_PER_JOB) {
    throw invalidInput(
      `${frameLabel} has ${frameInput.length} frames, more than ${MAX_FRAMES_PER_JOB} in one job; set "frames per job" (at most ${MAX_FRAMES_PER_JOB}) to split it into parts`,
    );
  }
  let frames: Frame[] = normalizeFrames(frameInput, frameLabel);
  if (opts.frameOrder === 'natural') frames = sortFramesNaturally(frames);
  const base =
    settings.reference_id ??
    deriveReferenceId({
      projectId: opts.projectId,
      tag: settings.tag,
      workFlowId: settings.work_flow_id,
      batchId: settings.batch_id,
      frames,
    });
  if (max === 0 || frames.length <= max) return [{ body: makeBody(settings, frames, base), sequence }];
  const parts = splitFrames(frames, max, opts.overlap);
  return parts.map((part, i) => ({
    body: makeBody(settings, part, `${base}-part-${i + 1}`),
    sequence,
    split: { base, part: i + 1, parts: parts.length },
  }));
}

/** Consecutive windows of at most `max` frames, each repeating the last `overlap` of the one before. */
export function splitFrames<T>(frames: readonly T[], max: number, overlap: number): T[][] {
  const step = max - overlap;
  const parts: T[][] = [];
  for (let start = 0; ; start += step) {
    parts.push(frames.slice(start, start + max));
    if (start + max >= frames.length) return parts;
  }
}
