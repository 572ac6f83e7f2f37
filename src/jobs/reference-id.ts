/**
 * Deterministic reference ids: the same sequence sent twice gets the same id, so Playment's
 * duplicate check (FS_0001) stops the second one instead of billing it.
 */
import { createHash } from 'node:crypto';
import type { Frame } from './frames';

export interface ReferenceIdInput {
  projectId: string;
  tag?: string;
  workFlowId?: string;
  batchId?: string;
  frames: readonly Frame[];
}

/** Query parameters that only sign or expire a URL: re-signing the same frame must not change the id. */
const SIGNING_PARAM =
  /^(x-amz-|x-goog-)|^(signature|expires|awsaccesskeyid|key-pair-id|policy|sig|se|st|sp|sv|sr|spr|srt|ss|skoid|sktid|skt|ske|sks|skv)$/i;

export function withoutSigningParams(src: string): string {
  const q = src.indexOf('?');
  if (q === -1) return src;
  const hash = src.indexOf('#', q);
  const query = src.slice(q + 1, hash === -1 ? undefined : hash);
  const kept = query.split('&').filter((pair) => pair && !SIGNING_PARAM.test(pair.split('=', 1)[0]));
  return src.slice(0, q) + (kept.length ? `?${kept.join('&')}` : '');
}

export function deriveReferenceId(input: ReferenceIdInput): string {
  // Length-prefixed fields: no two different inputs can concatenate to the same text.
  const hash = createHash('sha256');
  hash.update(
    field('playment-video-job/1') +
      field(input.projectId) +
      field(input.tag) +
      field(input.workFlowId) +
      field(input.batchId) +
      field(String(input.frames.length)),
  );
  for (const frame of input.frames) hash.update(field(frame.frame_id) + field(withoutSigningParams(frame.src)));
  return `nr-${hash.digest('hex').slice(0, 32)}`;
}

function field(value: string | undefined): string {
  const text = value ?? '';
  return `${text.length}:${text};`;
}
