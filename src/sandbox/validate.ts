// Request-body validation with Playment's error codes. Checks run in the documented order so
// a body with several problems always reports the same (first) one.
import { EXTRA_KEYS, PRE_LABEL_KEYS, preLabelTrackers, type JobExtras } from '../jobs/pre-labels';
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
  /** Every attachment URL of the job, with where it is in the body (for FS_0007 messages). */
  attachments: Attachment[];
  /** data.maker_response (pre-labels), data.reference_data and data.metadata, as sent. */
  extras: JobExtras;
}

export interface Attachment {
  url: string;
  /** e.g. 'frames[2] (frame_id "f2")'. */
  where: string;
}

interface JobFrames {
  frames: VideoFrame[];
  attachments: Attachment[];
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

/** `knownWorkflows`: when given, the only tags / work-flow ids accepted (others are FS_0005). */
export function validateJobInput(body: JsonObject, knownWorkflows?: ReadonlySet<string>): Validation<JobInput> {
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
  if (knownWorkflows) {
    for (const [field, value] of [
      ['tag', tag],
      ['work_flow_id', workFlowId],
    ] as const) {
      if (nonEmptyString(value) && !knownWorkflows.has(value)) {
        return fail('FS_0005', `${field} ${show(value)} is not a known tag / work_flow_id of this project`);
      }
    }
  }

  const frames = validateFrames(body.data);
  if (!frames.ok) return frames;
  const extras = validateExtras(body.data as JsonObject, frames.value.frames);
  if (!extras.ok) return extras;

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
      frames: frames.value.frames,
      attachments: frames.value.attachments,
      extras: extras.value,
    },
  };
}

/**
 * data.maker_response, data.reference_data and data.metadata: objects when present (FS_0003
 * otherwise). Pre-labels must sit where the documents put them and name only the job's frames.
 */
function validateExtras(data: JsonObject, frames: readonly VideoFrame[]): Validation<JobExtras> {
  const extras: JobExtras = {};
  for (const key of EXTRA_KEYS) {
    const value = data[key];
    if (isAbsent(value)) continue;
    if (!isObject(value)) return fail('FS_0003', `data.${key} must be an object, got ${show(value)}`);
    extras[key] = value;
  }
  if (extras.maker_response === undefined) return { ok: true, value: extras };
  const trackers = preLabelTrackers(extras.maker_response);
  if (!trackers) {
    return fail(
      'FS_0003',
      `data.maker_response must hold the pre-labels as ${PRE_LABEL_KEYS.map((k) => `${k}.data.annotations`).join(' or ')}`,
    );
  }
  const ids = new Set(frames.map((f) => f.frame_id));
  for (let t = 0; t < trackers.length; t++) {
    const tracker = trackers[t];
    if (!isObject(tracker) || !isObject(tracker.frames)) {
      return fail('FS_0003', `data.maker_response annotations[${t}] must be a tracker with a frames object`);
    }
    const unknown = Object.keys(tracker.frames).find((id) => !ids.has(id));
    if (unknown !== undefined) {
      return fail('FS_0003', `data.maker_response annotations[${t}]: frame_id ${show(unknown)} is not a frame of this job`);
    }
  }
  return { ok: true, value: extras };
}

/** data holds the frames either as video_data (the documents) or as sensor_data (the Python SDK). */
function validateFrames(data: unknown): Validation<JobFrames> {
  if (isAbsent(data)) return fail('FS_0004', 'data is missing');
  if (!isObject(data)) return fail('FS_0003', 'data must be an object');
  const hasVideo = !isAbsent(data.video_data);
  const hasSensors = !isAbsent(data.sensor_data);
  if (hasVideo && hasSensors) return fail('FS_0003', 'data must hold video_data or sensor_data, not both');
  if (hasSensors) return validateSensorData(data.sensor_data);
  if (!hasVideo) return fail('FS_0004', 'data.video_data (or data.sensor_data) is missing');
  return validateVideoData(data.video_data);
}

/**
 * data.video_data.frames: missing or empty → FS_0004; wrong JSON structure or a bad frame_id →
 * FS_0003; a bad src → FS_0007. Frame-id problems win over src problems anywhere in the list.
 */
function validateVideoData(videoData: unknown): Validation<JobFrames> {
  if (!isObject(videoData)) return fail('FS_0003', 'data.video_data must be an object');
  const frames = frameList(videoData.frames, 'data.video_data.frames');
  if (!frames.ok) return frames;

  const ids = new FrameIds();
  const accepted: VideoFrame[] = new Array<VideoFrame>(frames.value.length);
  const attachments: Attachment[] = new Array<Attachment>(frames.value.length);
  let firstBadSrc: string | undefined;

  for (let i = 0; i < frames.value.length; i++) {
    const frame: unknown = frames.value[i];
    if (!isObject(frame)) return fail('FS_0003', `frames[${i}] must be an object with frame_id and src`);
    const frameId = ids.check(frame.frame_id, i);
    if (!frameId.ok) return frameId;
    const where = `frames[${i}] (frame_id ${show(frameId.value)})`;
    const src = frame.src;
    if (typeof src !== 'string' || !isAttachmentUrl(src)) {
      firstBadSrc ??= `${where}: src ${show(src)} is not an absolute http, https, s3 or gs URL`;
      continue;
    }
    accepted[i] = { frame_id: frameId.value, src };
    attachments[i] = { url: src, where };
  }

  if (firstBadSrc !== undefined) return fail('FS_0007', firstBadSrc);
  return { ok: true, value: { frames: accepted, attachments } };
}

/**
 * The Python SDK's form: data.sensor_data.sensor_meta lists the sensors (at least one, at most one
 * primary view), frames[].sensors[] give a data_url per sensor_id. A frame is stored with its
 * primary-view sensor's URL (else its first sensor's). Same codes as video_data.
 */
function validateSensorData(sensorData: unknown): Validation<JobFrames> {
  if (!isObject(sensorData)) return fail('FS_0003', 'data.sensor_data must be an object');
  const frames = frameList(sensorData.frames, 'data.sensor_data.frames');
  if (!frames.ok) return frames;
  const meta = sensorData.sensor_meta;
  if (!Array.isArray(meta) || meta.length === 0) {
    return fail('FS_0003', 'data.sensor_data.sensor_meta must list at least one sensor');
  }
  const sensorIds = new Set<string>();
  let primary: string | undefined;
  for (let i = 0; i < meta.length; i++) {
    const sensor: unknown = meta[i];
    if (!isObject(sensor) || !nonEmptyString(sensor.id))
      return fail('FS_0003', `sensor_meta[${i}] must be an object with a non-empty string id`);
    if (sensorIds.has(sensor.id)) return fail('FS_0003', `sensor_meta[${i}]: duplicate sensor id ${show(sensor.id)}`);
    sensorIds.add(sensor.id);
    if (!isAbsent(sensor.state) && sensor.state !== 'editable' && sensor.state !== 'non_editable') {
      return fail('FS_0003', `sensor_meta[${i}]: state must be "editable" or "non_editable", got ${show(sensor.state)}`);
    }
    if (sensor.primary_view === true) {
      if (primary !== undefined) return fail('FS_0003', `sensor_meta[${i}]: only one sensor may have primary_view true`);
      primary = sensor.id;
    }
  }

  const ids = new FrameIds();
  const accepted: VideoFrame[] = [];
  const attachments: Attachment[] = [];
  let firstBadUrl: string | undefined;

  for (let i = 0; i < frames.value.length; i++) {
    const frame: unknown = frames.value[i];
    if (!isObject(frame)) return fail('FS_0003', `frames[${i}] must be an object with frame_id and sensors`);
    const frameId = ids.check(frame.frame_id, i);
    if (!frameId.ok) return frameId;
    const sensors = frame.sensors;
    if (!Array.isArray(sensors) || sensors.length === 0) {
      return fail('FS_0003', `frames[${i}] (frame_id ${show(frameId.value)}): sensors must list at least one sensor`);
    }
    let shown: string | undefined;
    for (let j = 0; j < sensors.length; j++) {
      const sensor: unknown = sensors[j];
      const where = `frames[${i}].sensors[${j}] (frame_id ${show(frameId.value)})`;
      if (!isObject(sensor)) return fail('FS_0003', `${where} must be an object with sensor_id and data_url`);
      if (typeof sensor.sensor_id !== 'string' || !sensorIds.has(sensor.sensor_id)) {
        return fail('FS_0003', `${where}: sensor_id ${show(sensor.sensor_id)} is not in sensor_meta`);
      }
      const url = sensor.data_url;
      if (typeof url !== 'string' || !isAttachmentUrl(url)) {
        firstBadUrl ??= `${where}: data_url ${show(url)} is not an absolute http, https, s3 or gs URL`;
        continue;
      }
      attachments.push({ url, where });
      if (shown === undefined || sensor.sensor_id === primary) shown = url;
    }
    if (shown !== undefined) accepted.push({ frame_id: frameId.value, src: shown });
  }

  if (firstBadUrl !== undefined) return fail('FS_0007', firstBadUrl);
  return { ok: true, value: { frames: accepted, attachments } };
}

/** Missing or empty → FS_0004, not an array → FS_0003. */
function frameList(frames: unknown, name: string): Validation<unknown[]> {
  if (isAbsent(frames)) return fail('FS_0004', `${name} is missing`);
  if (!Array.isArray(frames)) return fail('FS_0003', `${name} must be an array`);
  if (frames.length === 0) return fail('FS_0004', `${name} is empty`);
  return { ok: true, value: frames };
}

/** frame_id: a non-empty string, unique within the job (FS_0003 otherwise). */
class FrameIds {
  private readonly firstIndexById = new Map<string, number>();

  check(frameId: unknown, i: number): Validation<string> {
    if (!nonEmptyString(frameId)) {
      return fail('FS_0003', `frames[${i}] (frame_id ${show(frameId)}): frame_id must be a non-empty string`);
    }
    const earlier = this.firstIndexById.get(frameId);
    if (earlier !== undefined) {
      return fail('FS_0003', `frames[${i}] (frame_id ${show(frameId)}): duplicate frame_id, first used by frames[${earlier}]`);
    }
    this.firstIndexById.set(frameId, i);
    return { ok: true, value: frameId };
  }
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
