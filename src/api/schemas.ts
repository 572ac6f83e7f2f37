/** Zod schemas of what Playment answers; the TypeScript types come from them. */
import { z } from 'zod';

export const errorEnvelopeSchema = z.object({
  success: z.literal(false),
  error: z.object({ code: z.coerce.string(), message: z.coerce.string().optional().default('') }).loose(),
});

export const successEnvelopeSchema = z.object({ success: z.literal(true), data: z.unknown() });

const optionalString = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

export const createJobDataSchema = z
  .object({
    job_id: z.string().min(1),
    reference_id: z.string(),
    tag: optionalString,
    work_flow_id: optionalString,
  })
  .loose();
export type CreateJobData = z.infer<typeof createJobDataSchema>;

export const createBatchDataSchema = z.object({ batch_id: z.string().min(1) }).loose();
export type CreateBatchData = z.infer<typeof createBatchDataSchema>;

export const jobRecordSchema = z
  .object({
    job_id: z.string(),
    reference_id: z.string().nullish(),
    batch_id: z.string().nullish(),
    project_id: z.string().nullish(),
    status: z.string(),
    tag: z.string().nullish(),
    work_flow_id: z.string().nullish(),
    priority_weight: z.number().nullish(),
    result: z.string().nullish(),
  })
  .loose();
export type JobRecord = z.infer<typeof jobRecordSchema>;

export const batchJobsPageSchema = z
  .object({
    id: z.string().nullish(),
    name: z.string().nullish(),
    jobs: z
      .array(z.object({ id: z.string(), reference_id: z.string().nullish(), status: z.string().nullish() }).loose())
      .nullish()
      .transform((v) => v ?? []),
    next_page_token: z.string().nullish(),
  })
  .loose();
export type BatchJobsPage = z.infer<typeof batchJobsPageSchema>;

export const projectDetailsSchema = z
  .object({
    name: z.string().nullish(),
    base: z.string().nullish(),
    batches: z
      .array(z.object({ id: z.string(), name: z.string().nullish(), is_default: z.boolean().nullish() }).loose())
      .nullish()
      .transform((v) => v ?? []),
  })
  .loose();
export type ProjectDetails = z.infer<typeof projectDetailsSchema>;
