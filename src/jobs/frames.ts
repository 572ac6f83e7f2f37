/**
 * Frames of an image sequence: what users send (URL strings or {frame_id?, src}) turned into
 * what Playment takes ({frame_id, src}), with errors that name the frame.
 * This is the hot path for long sequences, so it is a plain loop, not a schema per frame.
 */
import { z } from 'zod';
import { invalidInput } from '../api/errors';

export const frameSchema = z.object({ frame_id: z.string(), src: z.string() });
export type Frame = z.infer<typeof frameSchema>;

export const ALLOWED_SCHEMES = ['http:', 'https:', 's3:', 'gs:'] as const;
export const MAX_FRAMES_PER_JOB = 100_000;
export const MAX_SRC_LENGTH = 8192;
export const MAX_FRAME_ID_LENGTH = 1024;

/** Fast accept of the common case; anything else goes through the URL parser. */
const SIMPLE_URL = /^(?:https?|s3|gs):\/\/[A-Za-z0-9.-]+(?::\d{1,5})?(?:\/[A-Za-z0-9._~!$&'()*+,;=:@%\/-]*)?(?:\?[A-Za-z0-9._~!$&'()*+,;=:@%\/?-]*)?$/;

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
  const path = src.slice(0, end);
  const segment = path.slice(path.lastIndexOf('/') + 1);
  // After "scheme://host" with no path the last segment is the host: not a frame name.
  if (path.indexOf('/', path.indexOf('//') + 2) === -1) return '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function checkSource(src: unknown, where: string): string {
  if (typeof src !== 'string' || src.length === 0) {
    throw invalidInput(`${where}: src must be a URL string, got ${preview(src)}`);
  }
  if (src.length > MAX_SRC_LENGTH) {
    throw invalidInput(`${where}: src is ${src.length} characters long, more than ${MAX_SRC_LENGTH}`);
  }
  if (SIMPLE_URL.test(src)) return src;
  let url: URL;
  try {
    url = new URL(src);
  } catch {
    throw invalidInput(`${where}: src must be an absolute http, https, s3 or gs URL, got ${preview(src)}`);
  }
  if (!(ALLOWED_SCHEMES as readonly string[]).includes(url.protocol)) {
    throw invalidInput(`${where}: src scheme ${preview(url.protocol.slice(0, -1))} is not allowed (use http, https, s3 or gs)`);
  }
  if (!url.hostname) throw invalidInput(`${where}: src ${preview(src)} has no host or bucket`);
  if (src.includes(' ') || /[\u0000-\u001f\u007f]/.test(src)) {
    throw invalidInput(`${where}: src ${preview(src)} contains spaces or control characters; percent-encode them`);
  }
  return src;
}

function checkFrameId(id: unknown, where: string): string {
  if (typeof id === 'number' && Number.isFinite(id)) id = String(id);
  if (typeof id !== 'string' || id.trim().length === 0) {
    throw invalidInput(`${where}: frame_id must be a non-empty string, got ${preview(id)}`);
  }
  if (id.length > MAX_FRAME_ID_LENGTH) {
    throw invalidInput(`${where}: frame_id is ${id.length} characters long, more than ${MAX_FRAME_ID_LENGTH}`);
  }
  return id;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Normalises a frame list, keeping its order. `label` names the sequence in messages
 * ("msg.payload", "sequence 3").
 */
export function normalizeFrames(input: unknown, label = 'msg.payload'): Frame[] {
  if (!Array.isArray(input)) {
    throw invalidInput(`${label} must be an array of frames (URL strings or {frame_id, src}), got ${preview(input)}`);
  }
  if (input.length === 0) throw invalidInput(`${label} has no frames`);
  if (input.length > MAX_FRAMES_PER_JOB) {
    throw invalidInput(`${label} has ${input.length} frames, more than ${MAX_FRAMES_PER_JOB} in one job (use "max frames per job" to split it)`);
  }
  const frames: Frame[] = new Array(input.length);
  const seen = new Map<string, number>();
  for (let i = 0; i < input.length; i++) {
    const item: unknown = input[i];
    const where = `${label} frame ${i}`;
    let src: string;
    let frameId: string;
    if (typeof item === 'string') {
      src = checkSource(item, where);
      frameId = deriveFrameId(src, where);
    } else if (isPlainObject(item)) {
      src = checkSource(item.src, where);
      frameId = item.frame_id === undefined || item.frame_id === null || item.frame_id === ''
        ? deriveFrameId(src, where)
        : checkFrameId(item.frame_id, where);
    } else {
      throw invalidInput(`${where} must be a URL string or {frame_id, src}, got ${preview(item)}`);
    }
    const earlier = seen.get(frameId);
    if (earlier !== undefined) {
      throw invalidInput(`${label} frames ${earlier} and ${i} share frame_id ${preview(frameId)}; frame ids must be unique within a job`);
    }
    seen.set(frameId, i);
    frames[i] = { frame_id: frameId, src };
  }
  return frames;
}

function deriveFrameId(src: string, where: string): string {
  const id = frameIdFromUrl(src);
  if (!id) throw invalidInput(`${where}: cannot derive a frame_id from ${preview(src)} (no file name in its path); give {frame_id, src}`);
  return checkFrameId(id, where);
}

/** Natural order of frame ids: frame_9 before frame_10. */
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });
export function sortFramesNaturally(frames: Frame[]): Frame[] {
  return [...frames].sort((a, b) => collator.compare(a.frame_id, b.frame_id));
}
