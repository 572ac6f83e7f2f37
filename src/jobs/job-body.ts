/**
 * The body of a video (image-sequence) job, and the settings it is built from.
 * The zod schemas are the source of the TypeScript types.
 */
import { z } from 'zod';
import { preview, type Frame } from './frames';
import { invalidInput } from '../api/errors';
import type { JobExtras } from './pre-labels';

/**
 * The body of one job as this package builds it (`makeBody`). A type, not a schema: the body is
 * made here from values the schemas below have already parsed, so there is nothing left to parse.
 */
export interface VideoJobBody {
  reference_id: string;
  tag?: string;
  work_flow_id?: string;
  batch_id?: string;
  priority_weight?: number;
  data: {
    video_data: { frames: Frame[] };
  } & JobExtras;
}

const MAX_ID_LENGTH = 256;

const optionalId = (field: string) =>
  z.unknown().transform((v, ctx) => {
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_ID_LENGTH) {
      ctx.addIssue({
        code: 'custom',
        message: `${field} must be a non-empty string of at most ${MAX_ID_LENGTH} characters, got ${preview(v)}`,
      });
      return z.NEVER;
    }
    return v;
  });

const priorityWeight = z.unknown().transform((v, ctx) => {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 10) {
    ctx.addIssue({ code: 'custom', message: `priority_weight must be an integer from 1 to 10, got ${preview(v)}` });
    return z.NEVER;
  }
  return n;
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Playment's batch ids are UUIDs; anything else is refused with GE_0001, so refuse it here. */
const batchId = optionalId('batch_id').refine((v) => v === undefined || UUID.test(v), {
  message: 'batch_id must be a UUID (the id a create-batch node or the dashboard gives)',
});

/** Everything about one job except its frames, after msg/node values are resolved. */
export const jobSettingsSchema = z
  .object({
    reference_id: optionalId('reference_id').optional(),
    tag: optionalId('tag').optional(),
    work_flow_id: optionalId('work_flow_id').optional(),
    batch_id: batchId.optional(),
    priority_weight: priorityWeight.optional(),
  })
  .refine((s) => s.tag !== undefined || s.work_flow_id !== undefined, {
    message: 'tag or work_flow_id is required (set it in the node, or as msg.tag / msg.work_flow_id)',
  });
export type JobSettings = z.infer<typeof jobSettingsSchema>;

/** Validates resolved settings, with an error that names the field. */
export function parseJobSettings(raw: Record<string, unknown>, label: string): JobSettings {
  const res = jobSettingsSchema.safeParse(raw);
  if (!res.success) {
    const issue = res.error.issues[0];
    throw invalidInput(`${label}: ${issue.message}`);
  }
  return res.data;
}

export type FrameOrder = 'given' | 'natural';

/** The job's body; `extras` (already checked against `frames`) go into `data` beside `video_data`. */
export function makeBody(s: JobSettings, frames: Frame[], referenceId: string, extras: JobExtras = {}): VideoJobBody {
  const body: VideoJobBody = { reference_id: referenceId, data: { video_data: { frames }, ...extras } };
  if (s.tag !== undefined) body.tag = s.tag;
  if (s.work_flow_id !== undefined) body.work_flow_id = s.work_flow_id;
  if (s.batch_id !== undefined) body.batch_id = s.batch_id;
  if (s.priority_weight !== undefined) body.priority_weight = s.priority_weight;
  return body;
}
