/**
 * Turns one message's payload into the jobs to submit: a single sequence, a bulk array of
 * sequences, or a flat list grouped by folder, each optionally split into overlapping parts.
 * Everything is validated here, before anything is sent, so bad input never reaches the API.
 */
import { invalidInput } from '../api/errors';
import {
  MAX_FRAMES_PER_JOB,
  MAX_FRAMES_PER_MESSAGE,
  isPlainObject,
  normalizeFrames,
  preview,
  sortFramesNaturally,
  type Frame,
} from './frames';
import { deriveReferenceId } from './reference-id';
import { firstFilled, isBlank } from './fill-blanks';
import { jobSettingsSchema, makeBody, parseJobSettings, type FrameOrder, type VideoJobBody } from './job-body';
import { groupFramesByFolder } from './folders';
import { extrasForFrames, givenExtraKeys, parseJobExtras } from './pre-labels';

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
  /** The folder's URL, when frames were grouped by folder. */
  folder?: string;
}

/** A bulk payload is an array of objects that each carry their own `frames`. */
export function isBulkPayload(payload: unknown): payload is Array<Record<string, unknown>> {
  return Array.isArray(payload) && payload.length > 0 && payload.every((s) => isPlainObject(s) && 'frames' in s);
}

export function checkSplitOptions(opts: PlanOptions): void {
  const { maxFramesPerJob: max, overlap } = opts;
  if (!Number.isInteger(max) || max < 0) throw invalidInput(`max frames per job must be a whole number ≥ 0, got ${preview(max)}`);
  if (!Number.isInteger(overlap) || overlap < 0) throw invalidInput(`overlap must be a whole number ≥ 0, got ${preview(overlap)}`);
  if (max > MAX_FRAMES_PER_JOB)
    throw invalidInput(`max frames per job must be at most ${MAX_FRAMES_PER_JOB} (Playment's limit for one job), got ${max}`);
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
  throw invalidInput(
    `msg.payload has ${given} frames${repeated}, more than ${MAX_FRAMES_PER_MESSAGE} in one message; send them in several messages`,
  );
}

/** Extra job data the message itself gives (msg.maker_response, msg.reference_data, msg.metadata). */
export type MessageExtras = Record<string, unknown>;

/**
 * `node` values win, then the sequence's own (bulk), then the message's (Node-RED convention:
 * msg properties only fill what the node leaves blank). The message's extras apply to a single
 * sequence only: a bulk payload's sequences carry their own.
 */
export function planJobs(
  payload: unknown,
  node: RawSettings,
  msg: RawSettings,
  opts: PlanOptions,
  msgExtras: MessageExtras = {},
): PlannedJob[] {
  checkSplitOptions(opts);
  if (!isBulkPayload(payload)) {
    checkMessageSize([payload], opts);
    return planSequence(
      {
        frames: payload,
        raw: fill(node, {}, msg),
        extras: msgExtras,
        extrasLabel: 'msg',
        sequence: 0,
        label: 'msg.payload',
        frameLabel: 'msg.payload',
      },
      opts,
    );
  }
  refuseMessageExtras(msgExtras, 'with a bulk payload (an array of sequences), give them in each sequence object');
  checkMessageSize(
    payload.map((seq) => seq.frames),
    opts,
  );
  const jobs: PlannedJob[] = [];
  const sharedRef = firstFilled(node.reference_id, msg.reference_id);
  payload.forEach((seq, i) => {
    const label = `msg.payload[${i}]`;
    const raw = fill(node, seq, msg);
    // One reference id cannot name several jobs: a shared one becomes a base numbered per sequence.
    raw.reference_id = firstFilled(seq.reference_id, isBlank(sharedRef) ? undefined : `${String(sharedRef)}-${i + 1}`);
    jobs.push(
      ...planSequence(
        { frames: seq.frames, raw, extras: seq, extrasLabel: label, sequence: i, label, frameLabel: `${label}.frames` },
        opts,
      ),
    );
  });
  const seen = new Map<string, number>();
  for (const job of jobs) {
    const earlier = seen.get(job.body.reference_id);
    if (earlier !== undefined && earlier !== job.sequence) {
      throw invalidInput(
        `msg.payload[${earlier}] and msg.payload[${job.sequence}] have the same reference_id ${preview(job.body.reference_id)}`,
      );
    }
    seen.set(job.body.reference_id, job.sequence);
  }
  return jobs;
}

export interface FolderPlan {
  jobs: PlannedJob[];
  /** Entries of the flat list left out because they are not image files, in input order. */
  skipped: string[];
}

/**
 * One job per parent folder of a flat frame list. Each job's reference id is its folder's URL;
 * a reference id the node or the message gives is put in front (`<id>-<folder>`), so the same
 * folder always gets the same id, whatever other folders the list holds. Pre-labels cannot be
 * given: frame ids repeat from folder to folder.
 */
export function planFolders(
  payload: unknown,
  node: RawSettings,
  msg: RawSettings,
  opts: PlanOptions,
  msgExtras: MessageExtras = {},
): FolderPlan {
  checkSplitOptions(opts);
  if (isBulkPayload(payload)) {
    throw invalidInput(
      'msg.payload is an array of sequences; "group frames by folder" takes one flat list of frame URLs (or {frame_id, src})',
    );
  }
  refuseMessageExtras(msgExtras, 'frames grouped by folder cannot carry them (frame ids repeat from folder to folder)');
  // The list as given first, then what splitting each folder makes of it.
  checkMessageSize([payload], { ...opts, maxFramesPerJob: 0 });
  const { sequences, skipped } = groupFramesByFolder(payload);
  if (sequences.length === 0) {
    const examples = skipped
      .slice(0, 3)
      .map((src) => preview(src))
      .join(', ');
    throw invalidInput(
      `msg.payload holds no image files to group by folder (${skipped.length} other entries${examples ? `, such as ${examples}` : ''})`,
    );
  }
  checkMessageSize(
    sequences.map((seq) => seq.frames),
    opts,
  );
  const prefix = firstFilled(node.reference_id, msg.reference_id);
  const jobs = sequences.flatMap(({ reference_id: folder, frames }, i) => {
    const label = `msg.payload (folder ${preview(folder)})`;
    const raw = fill(node, {}, msg);
    raw.reference_id = isBlank(prefix) ? folder : `${String(prefix)}-${folder}`;
    const planned = planSequence({ frames, raw, extras: {}, extrasLabel: label, sequence: i, label, frameLabel: label }, opts);
    return planned.map((job) => ({ ...job, folder }));
  });
  return { jobs, skipped };
}

function refuseMessageExtras(msgExtras: MessageExtras, what: string): void {
  const given = givenExtraKeys(msgExtras);
  if (given.length === 0) return;
  const names = given.map((key) => `msg.${key}`).join(', ');
  throw invalidInput(`${names} ${given.length === 1 ? 'is' : 'are'} for a single sequence; ${what}`);
}

/** Each setting from the first place that gives it: the node, the sequence, the message. */
function fill(node: RawSettings, seq: RawSettings, msg: RawSettings): RawSettings {
  const out: RawSettings = {};
  for (const key of SETTING_KEYS) out[key] = firstFilled(node[key], seq[key], msg[key]);
  return out;
}

interface SequenceInput {
  /** The frames as given. */
  frames: unknown;
  /** The job settings, before checking. */
  raw: RawSettings;
  /** Where its extras (maker_response, reference_data, metadata) are read, and its name in errors. */
  extras: Record<string, unknown>;
  extrasLabel: string;
  sequence: number;
  /** The sequence's name in errors about its settings, and about its frames. */
  label: string;
  frameLabel: string;
}

function planSequence(input: SequenceInput, opts: PlanOptions): PlannedJob[] {
  const { raw, sequence, label, frameLabel } = input;
  const settings = parseJobSettings(raw, label);
  const max = opts.maxFramesPerJob;
  if (max === 0 && Array.isArray(input.frames) && input.frames.length > MAX_FRAMES_PER_JOB) {
    throw invalidInput(
      `${frameLabel} has ${input.frames.length} frames, more than ${MAX_FRAMES_PER_JOB} in one job; set "frames per job" (at most ${MAX_FRAMES_PER_JOB}) to split it into parts`,
    );
  }
  let frames: Frame[] = normalizeFrames(input.frames, frameLabel);
  if (opts.frameOrder === 'natural') frames = sortFramesNaturally(frames);
  const extras = parseJobExtras(input.extras, frames, input.extrasLabel);
  // Pre-labels do not change the derived id: the same frames make the same job.
  const base =
    settings.reference_id ??
    deriveReferenceId({
      projectId: opts.projectId,
      tag: settings.tag,
      workFlowId: settings.work_flow_id,
      batchId: settings.batch_id,
      frames,
    });
  if (max === 0 || frames.length <= max) return [{ body: makeBody(settings, frames, base, extras), sequence }];
  const parts = splitFrames(frames, max, opts.overlap);
  return parts.map((part, i) => ({
    body: makeBody(settings, part, `${base}-part-${i + 1}`, extrasForFrames(extras, part)),
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
