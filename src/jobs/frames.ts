/**
 * Frames of an image sequence: what users send (URL strings or {frame_id?, src}) turned into
 * what Playment takes ({frame_id, src}), with errors that name the frame.
 */
import { invalidInput } from '../api/errors';

/** One frame of a job, after normalisation. */
export interface Frame {
  frame_id: string;
  src: string;
}

export const ALLOWED_SCHEMES = ['http:', 'https:', 's3:', 'gs:'] as const;
/** Playment's limit for one job: a longer sequence must be split ("frames per job"). */
export const MAX_FRAMES_PER_JOB = 100_000;
/** All frames one message may submit, over all its jobs (frames repeated by the overlap count). */
export const MAX_FRAMES_PER_MESSAGE = 1_000_000;
export const MAX_SRC_LENGTH = 8192;
export const MAX_FRAME_ID_LENGTH = 1024;

/**
 * Accepts the common URL without building a URL object: on 100,000 frames the parser alone
 * takes several times as long as everything else here. Anything else goes through the parser.
 */
const SIMPLE_URL =
  /^(?:https?|s3|gs):\/\/[A-Za-z0-9.-]+(?::\d{1,5})?(?:\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?(?:\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$/;

/** Shows a user value in an error message without flooding it. */
export function preview(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The frame id Playment's sample derives: last path segment, no query or fragment, percent-decoded. */
export function frameIdFromUrl(src: string): string {
  let end = src.length;
  const q = src.indexOf('?');
  if (q !== -1) end = q;
  const h = src.indexOf('#');
  if (h !== -1 && h < end) end = h;
  // The path is src[0, end): its last '/' and its first '//' (the one after the scheme).
  const slash = end > 0 ? src.lastIndexOf('/', end - 1) : -1;
  let scheme = src.indexOf('//');
  if (scheme !== -1 && scheme + 2 > end) scheme = -1;
  // After "scheme://host" with no path the last segment is the host: not a frame name.
  if (slash < scheme + 2) return '';
  const segment = src.slice(slash + 1, end);
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function frameAt(label: string, i: number): string {
  return `${label} frame ${i}`;
}

function checkSource(src: unknown, label: string, i: number): string {
  if (typeof src !== 'string' || src.length === 0) {
    throw invalidInput(`${frameAt(label, i)}: src must be a URL string, got ${preview(src)}`);
  }
  if (src.length > MAX_SRC_LENGTH) {
    throw invalidInput(`${frameAt(label, i)}: src is ${src.length} characters long, more than ${MAX_SRC_LENGTH}`);
  }
  if (SIMPLE_URL.test(src)) return src;
  const url = URL.parse(src);
  if (!url) throw invalidInput(`${frameAt(label, i)}: src must be an absolute http, https, s3 or gs URL, got ${preview(src)}`);
  if (!(ALLOWED_SCHEMES as readonly string[]).includes(url.protocol)) {
    throw invalidInput(`${frameAt(label, i)}: src scheme ${preview(url.protocol.slice(0, -1))} is not allowed (use http, https, s3 or gs)`);
  }
  if (!url.hostname) throw invalidInput(`${frameAt(label, i)}: src ${preview(src)} has no host or bucket`);
  // The URL parser trims, drops or encodes these silently; sent as they are, they name another address.
  // eslint-disable-next-line no-control-regex -- control characters are what this check refuses
  if (/[\u0000-\u0020\u007f]/.test(src)) {
    throw invalidInput(`${frameAt(label, i)}: src ${preview(src)} contains spaces or control characters; percent-encode them`);
  }
  return src;
}

function checkFrameId(id: unknown, label: string, i: number): string {
  if (typeof id === 'number' && Number.isFinite(id)) id = String(id);
  if (typeof id !== 'string' || id.trim() === '') {
    throw invalidInput(`${frameAt(label, i)}: frame_id must be a non-empty string, got ${preview(id)}`);
  }
  if (id.length > MAX_FRAME_ID_LENGTH) {
    throw invalidInput(`${frameAt(label, i)}: frame_id is ${id.length} characters long, more than ${MAX_FRAME_ID_LENGTH}`);
  }
  return id;
}

/**
 * An object literal or JSON object from any context: Function nodes run in their own vm context,
 * whose objects inherit from that context's `Object.prototype`, not ours. So the test is "its
 * prototype is a root prototype (or none)", which also refuses class instances, Maps and Buffers.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/**
 * Normalises a frame list, keeping its order. `label` names the sequence in messages
 * ("msg.payload", "sequence 3"). Length limits are the planner's: they depend on the split.
 */
export function normalizeFrames(input: unknown, label = 'msg.payload'): Frame[] {
  if (!Array.isArray(input)) {
    throw invalidInput(`${label} must be an array of frames (URL strings or {frame_id, src}), got ${preview(input)}`);
  }
  if (input.length === 0) throw invalidInput(`${label} has no frames`);
  const frames: Frame[] = [];
  const indexById = new Map<string, number>();
  for (let i = 0; i < input.length; i++) {
    const item: unknown = input[i];
    let src: string;
    let frameId: string;
    if (typeof item === 'string') {
      src = checkSource(item, label, i);
      frameId = deriveFrameId(src, label, i);
    } else if (isPlainObject(item)) {
      src = checkSource(item.src, label, i);
      frameId =
        item.frame_id === undefined || item.frame_id === null || item.frame_id === ''
          ? deriveFrameId(src, label, i)
          : checkFrameId(item.frame_id, label, i);
    } else {
      throw invalidInput(`${frameAt(label, i)} must be a URL string or {frame_id, src}, got ${preview(item)}`);
    }
    const first = indexById.get(frameId);
    if (first !== undefined) {
      throw invalidInput(`${label} frames ${first} and ${i} share frame_id ${preview(frameId)}; frame ids must be unique within a job`);
    }
    indexById.set(frameId, i);
    frames.push({ frame_id: frameId, src });
  }
  return frames;
}

function deriveFrameId(src: string, label: string, i: number): string {
  const id = frameIdFromUrl(src);
  if (!id)
    throw invalidInput(
      `${frameAt(label, i)}: cannot derive a frame_id from ${preview(src)} (no file name in its path); give {frame_id, src}`,
    );
  return checkFrameId(id, label, i);
}

/** Natural order of frame ids: frame_9 before frame_10. */
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });
export function sortFramesNaturally(frames: Frame[]): Frame[] {
  return [...frames].sort((a, b) => collator.compare(a.frame_id, b.frame_id));
}
