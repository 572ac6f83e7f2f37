/**
 * Deterministic reference ids: the same sequence sent twice gets the same id, so Playment's
 * duplicate check (FS_0001) stops the second one instead of billing it.
 */
import { createHash, hash as hashOnce, type Hash } from 'node:crypto';
import type { Frame } from './frames';

export interface ReferenceIdInput {
  projectId: string;
  tag?: string;
  workFlowId?: string;
  batchId?: string;
  frames: readonly Frame[];
}

/** Query parameters that only sign or expire a URL: re-signing the same frame must not change the id. */
const SIGNING_PARAM = /^(x-amz-|x-goog-)|^(signature|expires|awsaccesskeyid|key-pair-id|policy|sig|se|st|sp|sv|sr|spr|srt|ss|skoid|sktid|skt|ske|sks|skv)$/i;

export function withoutSigningParams(src: string): string {
  const q = src.indexOf('?');
  if (q === -1) return src;
  const hash = src.indexOf('#', q);
  const query = src.slice(q + 1, hash === -1 ? undefined : hash);
  const kept = query
    .split('&')
    .filter((pair) => pair && !SIGNING_PARAM.test(pair.split('=', 1)[0]));
  return src.slice(0, q) + (kept.length ? `?${kept.join('&')}` : '');
}

/** Text is handed to the hash in pieces of about this many characters (one call per field is slow). */
const HASH_CHUNK = 64 * 1024;

export function deriveReferenceId(input: ReferenceIdInput): string {
  // Length-prefixed fields: no two different inputs can concatenate to the same text. The fields
  // are joined into larger pieces before hashing: the digest depends only on the bytes, not on
  // how they are split (every field ends with ';', so no character pair is split either).
  let text = field('playment-video-job/1') + field(input.projectId) + field(input.tag) + field(input.workFlowId) +
    field(input.batchId) + field(String(input.frames.length));
  const frames = input.frames;
  let hash: Hash | undefined;
  for (let i = 0; i < frames.length; i++) {
    const id = frames[i].frame_id;
    const src = withoutSigningParams(frames[i].src);
    // field(id) + field(src), written out: this loop runs once per frame.
    text += `${id.length}:${id};${src.length}:${src};`;
    // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: where the text is cut never changes the digest, only the speed
    if (text.length >= HASH_CHUNK) {
      (hash ??= createHash('sha256')).update(text);
      text = '';
    }
  }
  // Short sequences (the usual case) fit in one piece: the one-shot hash skips the Hash object.
  const hex = hash ? hash.update(text).digest('hex') : hashOnce('sha256', text, 'hex');
  return `nr-${hex.slice(0, 32)}`;
}

function field(value: string | undefined): string {
  const text = value ?? '';
  return `${text.length}:${text};`;
}
