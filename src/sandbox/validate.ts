// Request-body validation with Playment's error codes. Checks run in the documented order so
// a body with several problems always reports the same (first) one.
import type { VideoFrame } from './types';

export type Validation<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

export interface JobInput {
  referenceId: string;
  tag?: string;
  workFlowId?: string;
  /** Undefined → the project's default batch. Format already checked; existence is not. */
  batchId?: string;
  priorityWeight: number;
  frames: VideoFrame[];
}

export interface BatchInput {
  name: string;
  description: string;
  label: string;
  projectId?: string;
}

export const DEFAULT_PRIORITY_WEIGHT = 5;

// Compiled once at load time; the handlers only call .test().
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HTTP_URL_PATTERN = /^https?:\/\/[^\s/?#]+(?:[/?#]\S*)?$/i;
// s3:// and gs:// name an object, so a key after the bucket is required.
const BUCKET_URL_PATTERN = /^(?:s3|gs):\/\/[^\s/?#]+\/\S+$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

export function isAttachmentUrl(value: string): boolean {
  return HTTP_URL_PATTERN.test(value) || BUCKET_URL_PATTERN.test(value);
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail<T>(code: string, message: string): Validation<T> {
  return { ok: false, code, message };
}

/** JSON null counts as absent: the Python SDK serialises unset fields such as "batch_id" as null. */
function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/** Short, safe rendering of a client value inside an error message. */
function show(value: unknown): string {
  let text: string;
  if (typeof value === 'string') {
    text = JSON.stringify(value.length > 80 ? value.slice(0, 80) : value);
  } else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      // Deeply nested values can overflow the stack; a type name is enough for a message.
      text = Array.isArray(value) ? 'an array' : typeof value;
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function parseJsonObject(body: Buffer): Validation<JsonObject> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return fail('GE_0001', 'request body is not valid JSON');
  }
  if (!isObject(parsed)) return fail('GE_0001', 'request body must be a JSON object');
  return { ok: true, value: parsed };
}

export function validateJobInput(body: JsonObject): Validation<JobInput> {
  const referenceId = body.reference_id;
  if (!nonEmptyString(referenceId)) return fail('FS_0002', 'reference_id is missing or not a non-empty string');

  const { tag, work_flow_id: workFlowId } = body;
  if (!nonEmptyString(tag) && !nonEmptyString(workFlowId)) {
    return fail('FS_0005', 'work_flow_id (or tag) is missing: one of them must be a non-empty string');
  }
  if (!isAbsent(tag) && typeof tag !== 'string') return fail('GE_0001', `tag must be a string, got ${show(tag)}`);
  if (!isAbsent(workFlowId) && typeof workFlowId !== 'string') {
    return fail('GE_0001', `work_flow_id must be a string, got ${show(workFlowId)}`);
  }

  const frames = validateFrames(body.data);
  if (!frames.ok) return frames;

  let priorityWeight = DEFAULT_PRIORITY_WEIGHT;
  const weight = body.priority_weight;
  if (!isAbsent(weight)) {
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > 10) {
      return fail('FS_00012', `priority_weight must be an integer from 1 to 10, got ${show(weight)}`);
    }
    priorityWeight = weight;
  }

  let batchId: string | undefined;
  const rawBatchId = body.batch_id;
  if (!isAbsent(rawBatchId) && rawBatchId !== '') {
    if (typeof rawBatchId !== 'string' || !isUuid(rawBatchId)) {
      return fail('GE_0001', `batch_id must be a UUID, got ${show(rawBatchId)}`);
    }
    batchId = rawBatchId.toLowerCase();
  }

  return {
    ok: true,
    value: {
      referenceId,
      tag: nonEmptyString(tag) ? tag : undefined,
      workFlowId: nonEmptyString(workFlowId) ? workFlowId : undefined,
      batchId,
      priorityWeight,
      frames: frames.value,
    },
  };
}

/**
 * data.video_data.frames: missing or empty → FS_0004; wrong JSON structure or a bad frame_id →
 * FS_0003; a bad src → FS_0007. Frame-id problems win over src problems anywhere in the list.
 */
function validateFrames(data: unknown): Validation<VideoFrame[]> {
  if (isAbsent(data)) return fail('FS_0004', 'data is missing');
  if (!isObject(data)) return fail('FS_0003', 'data must be an object');
  const videoData = data.video_data;
  if (isAbsent(videoData)) return fail('FS_0004', 'data.video_data is missing');
  if (!isObject(videoData)) return fail('FS_0003', 'data.video_data must be an object');
  const frames = videoData.frames;
  if (isAbsent(frames)) return fail('FS_0004', 'data.video_data.frames is missing');
  if (!Array.isArray(frames)) return fail('FS_0003', 'data.video_data.frames must be an array');
  if (frames.length === 0) return fail('FS_0004', 'data.video_data.frames is empty');

  const firstIndexById = new Map<string, number>();
  const accepted: VideoFrame[] = new Array<VideoFrame>(frames.length);
  let firstBadSrc: string | undefined;

  for (let i = 0; i < frames.length; i++) {
    const frame: unknown = frames[i];
    if (!isObject(frame)) return fail('FS_0003', `frames[${i}] must be an object with frame_id and src`);
    const frameId = frame.frame_id;
    if (!nonEmptyString(frameId)) {
      return fail('FS_0003', `frames[${i}] (frame_id ${show(frameId)}): frame_id must be a non-empty string`);
    }
    const earlier = firstIndexById.get(frameId);
    if (earlier !== undefined) {
      return fail('FS_0003', `frames[${i}] (frame_id ${show(frameId)}): duplicate frame_id, first used by frames[${earlier}]`);
    }
    firstIndexById.set(frameId, i);

    const src = frame.src;
    if (typeof src !== 'string' || !isAttachmentUrl(src)) {
      firstBadSrc ??= `frames[${i}] (frame_id ${show(frameId)}): src ${show(src)} is not an absolute http, https, s3 or gs URL`;
      continue;
    }
    accepted[i] = { frame_id: frameId, src };
  }

  if (firstBadSrc !== undefined) return fail('FS_0007', firstBadSrc);
  return { ok: true, value: accepted };
}

export function validateBatchInput(body: JsonObject): Validation<BatchInput> {
  const { name, description, label, project_id: projectId } = body;
  if (!nonEmptyString(name)) return fail('GE_0002', 'name is missing or not a non-empty string');
  if (!isAbsent(description) && typeof description !== 'string') {
    return fail('GE_0001', `description must be a string, got ${show(description)}`);
  }
  if (!isAbsent(label) && typeof label !== 'string') return fail('GE_0001', `label must be a string, got ${show(label)}`);
  if (!isAbsent(projectId) && typeof projectId !== 'string') {
    return fail('GE_0001', `project_id must be a string, got ${show(projectId)}`);
  }
  return {
    ok: true,
    value: {
      name,
      description: typeof description === 'string' ? description : '',
      label: typeof label === 'string' ? label : '',
      projectId: nonEmptyString(projectId) ? projectId : undefined,
    },
  };
}
