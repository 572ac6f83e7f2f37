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
/** Playment's limit for one job: a longer sequence must be split ("frames per job"). */
export const MAX_FRAMES_PER_JOB = 100_000;
/** All frames one message may submit, over all its jobs (frames repeated by the overlap count). */
export const MAX_FRAMES_PER_MESSAGE = 1_000_000;
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

/** Where a frame is, for messages: built only when there is something to report. */
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
  const where = frameAt(label, i);
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

function checkFrameId(id: unknown, label: string, i: number): string {
  if (typeof id === 'number' && Number.isFinite(id)) id = String(id);
  if (typeof id !== 'string' || isBlankText(id)) {
    throw invalidInput(`${frameAt(label, i)}: frame_id must be a non-empty string, got ${preview(id)}`);
  }
  if (id.length > MAX_FRAME_ID_LENGTH) {
    throw invalidInput(`${frameAt(label, i)}: frame_id is ${id.length} characters long, more than ${MAX_FRAME_ID_LENGTH}`);
  }
  return id;
}

/** `text.trim().length === 0`, without trimming when the first character is visible ASCII. */
function isBlankText(text: string): boolean {
  const c = text.charCodeAt(0);
  if (c > 0x20 && c < 0x7f) return false;
  return text.trim().length === 0;
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
  const seen = new FrameIdSet(input.length);
  for (let i = 0; i < input.length; i++) {
    const item: unknown = input[i];
    let src: string;
    let frameId: string;
    if (typeof item === 'string') {
      src = checkSource(item, label, i);
      frameId = deriveFrameId(src, label, i);
    } else if (isPlainObject(item)) {
      src = checkSource(item.src, label, i);
      frameId = item.frame_id === undefined || item.frame_id === null || item.frame_id === ''
        ? deriveFrameId(src, label, i)
        : checkFrameId(item.frame_id, label, i);
    } else {
      throw invalidInput(`${frameAt(label, i)} must be a URL string or {frame_id, src}, got ${preview(item)}`);
    }
    if (!seen.add(frameId)) {
      throw invalidInput(`${label} frames ${firstWithId(frames, frameId)} and ${i} share frame_id ${preview(frameId)}; frame ids must be unique within a job`);
    }
    frames.push({ frame_id: frameId, src });
  }
  return frames;
}

/** Longest probe before FrameIdSet gives up its table for a Set. */
const MAX_PROBES = 64;
/** Lists shorter than this use a Set from the start. */
const SMALL_LIST = 256;
const NO_SLOTS = new Int32Array(0);

/**
 * The frame ids seen so far, for the duplicate check: a Set, but cheaper for the long lists this
 * is built for (a Set of 10,000 fresh strings costs about as much as validating their URLs). An
 * open-addressing table of indexes into `ids`, hashed with FNV-1a; should a probe run long
 * (inputs made to collide), it moves everything into a real Set and carries on there. Short
 * lists use a Set directly.
 */
class FrameIdSet {
  private readonly ids: string[] = [];
  private readonly slots: Int32Array;
  private readonly hashes: Int32Array;
  private readonly mask: number;
  private fallback: Set<string> | undefined;

  constructor(expected: number) {
    // A short list is cheaper in a Set than in two new typed arrays.
    if (expected < SMALL_LIST) this.fallback = new Set();
    let size = 16;
    while (size < expected * 2) size *= 2;
    this.slots = this.fallback ? NO_SLOTS : new Int32Array(size);
    this.hashes = this.fallback ? NO_SLOTS : new Int32Array(size);
    this.mask = size - 1;
  }

  /** Adds an id; false when it was there already. */
  add(id: string): boolean {
    if (this.fallback) {
      const before = this.fallback.size;
      return this.fallback.add(id).size !== before;
    }
    let h = 0x811c9dc5 | 0;
    for (let k = 0; k < id.length; k++) h = Math.imul(h ^ id.charCodeAt(k), 0x01000193);
    const { slots, hashes, ids, mask } = this;
    let p = h & mask;
    for (let probes = 0; ; probes++) {
      const v = slots[p];
      if (v === 0) break;
      if (hashes[p] === h && ids[v - 1] === id) return false;
      if (probes === MAX_PROBES) {
        this.fallback = new Set(ids);
        return this.add(id);
      }
      p = (p + 1) & mask;
    }
    ids.push(id);
    slots[p] = ids.length;
    hashes[p] = h;
    return true;
  }
}

function firstWithId(frames: readonly Frame[], frameId: string): number {
  for (let k = 0; k < frames.length; k++) if (frames[k].frame_id === frameId) return k;
  return -1;
}

function deriveFrameId(src: string, label: string, i: number): string {
  const id = frameIdFromUrl(src);
  if (!id) throw invalidInput(`${frameAt(label, i)}: cannot derive a frame_id from ${preview(src)} (no file name in its path); give {frame_id, src}`);
  return checkFrameId(id, label, i);
}

/** Natural order of frame ids: frame_9 before frame_10. */
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });
export function sortFramesNaturally(frames: Frame[]): Frame[] {
  return [...frames].sort((a, b) => collator.compare(a.frame_id, b.frame_id));
}
