/**
 * What a create call returns when its answer names something that exists already: a duplicate
 * answer (FS_0001, BATCH_CREATION) or a garbled 2xx. The job or batch is looked up (by reference
 * id, by name) and returned as `recovered` when this call's own lost attempt stored it,
 * `existing` / `reused` when it was there before; otherwise the error says what is known.
 */
import { PlaymentError } from './errors';
import type { ClientLogger } from './log';
import type { CreateBatchData, CreateJobData } from './schemas';
import type { VideoJobBody } from '../jobs/job-body';

/**
 * What a create does when Playment answers FS_0001 (the reference id names a job already):
 * 'send' looks the job up and returns it with `existing: true`; 'error' throws the FS_0001.
 * A lost answer of the same call is recovered either way (`recovered: true`).
 */
export type IfJobExists = 'send' | 'error';

export interface CreateJobResult extends CreateJobData {
  /** An earlier attempt of this call created the job but its answer was lost or garbled. */
  recovered?: boolean;
  /** Playment held a job with this reference id before this call (IfJobExists 'send'). */
  existing?: boolean;
}

export interface CreateBatchResult extends CreateBatchData {
  /** The batch existed already and was found by name. */
  reused?: boolean;
  recovered?: boolean;
}

/** Finds a job id by reference id in a batch (undefined = the project's default batch). */
export type JobLookup = (referenceId: string, batchId: string | undefined) => Promise<string | undefined>;

/**
 * The answer names a job to look up: a duplicate after an attempt whose answer was lost, any
 * duplicate with 'send', or a 2xx that could not be read after the last attempt.
 */
export function standsForAJob(err: PlaymentError, ifExists: IfJobExists): boolean {
  if (err.code === 'FS_0001') return err.mayExist === true || ifExists === 'send';
  return err.code === 'BAD_RESPONSE' && err.mayExist === true;
}

/** The job a duplicate or garbled answer stands for, found by reference id. */
export async function resolveExistingJob(
  body: VideoJobBody,
  err: PlaymentError,
  find: JobLookup,
  log: ClientLogger,
): Promise<CreateJobResult> {
  const ownAttempt = err.mayExist === true;
  const jobId = await find(body.reference_id, body.batch_id);
  log.debug(
    `job.create: reference id ${body.reference_id} ` +
      (ownAttempt ? `may have been stored by an attempt whose answer was lost (${err.code})` : `names a job already (${err.code})`) +
      (jobId ? `: found as job ${jobId}` : ': not found in the listing'),
  );
  if (!jobId) throw jobNotFound(body, err);
  return {
    job_id: jobId,
    reference_id: body.reference_id,
    tag: body.tag,
    work_flow_id: body.work_flow_id,
    ...(ownAttempt ? { recovered: true } : { existing: true }),
  };
}

/** A failed job creation as the caller sees it: with its reference id, and what an abort means. */
export function jobCreationFailure(err: PlaymentError, referenceId: string): PlaymentError {
  if (err.code !== 'ABORTED') return err.copyWith({ referenceId });
  const outcome = err.mayExist
    ? `; the job may already exist at Playment: resending with the same reference id (${referenceId}) is safe`
    : '; nothing was sent';
  return err.copyWith({ referenceId, message: err.message + outcome });
}

/** A BATCH_CREATION answer to look up by name: after a lost answer, or when reusing is asked for. */
export function standsForABatch(err: PlaymentError, reuseExisting: boolean): boolean {
  return err.code === 'BATCH_CREATION' && (err.mayExist === true || reuseExisting);
}

/** The batch a BATCH_CREATION answer stands for, found by name; rethrows `err` when reusing and not found. */
export async function resolveExistingBatch(
  name: string,
  err: PlaymentError,
  findByName: (name: string) => Promise<string | undefined>,
  log: ClientLogger,
): Promise<CreateBatchResult> {
  const found = await findByName(name);
  log.debug(
    `batch.create: batch "${name}" ${err.mayExist ? 'may have been created by an attempt whose answer was lost' : 'exists'}: ` +
      (found ? `found as ${found} by name` : 'not found by name'),
  );
  if (found) return { batch_id: found, ...(err.mayExist ? { recovered: true } : { reused: true }) };
  if (err.mayExist) throw unresolved(`batch "${name}"`, err);
  throw err;
}

function unresolved(what: string, dup: PlaymentError): PlaymentError {
  return new PlaymentError({
    code: 'DUPLICATE_UNRESOLVED',
    statusCode: dup.statusCode,
    apiCode: dup.code,
    referenceId: dup.referenceId,
    message: `an earlier attempt whose answer was lost seems to have created ${what}, but it could not be found`,
  });
}

/** The job a duplicate or garbled answer stands for is not in the batch's listing. */
function jobNotFound(body: VideoJobBody, err: PlaymentError): PlaymentError {
  const where = body.batch_id ? `batch ${body.batch_id}` : "the project's default batch";
  const ref = `reference id ${body.reference_id}`;
  if (err.code === 'BAD_RESPONSE') {
    return err.copyWith({
      referenceId: body.reference_id,
      message: `${err.message}; no job with ${ref} is listed in ${where}: resending the message is safe (Playment refuses a second job with the same reference id)`,
    });
  }
  return new PlaymentError({
    code: 'DUPLICATE_UNRESOLVED',
    statusCode: err.statusCode,
    apiCode: err.code,
    referenceId: body.reference_id,
    message: err.mayExist
      ? `an earlier attempt whose answer was lost seems to have created ${ref}, but it could not be found in ${where}`
      : `Playment holds a job with ${ref} already (FS_0001), but not in ${where}, so its job id could not be found`,
  });
}
