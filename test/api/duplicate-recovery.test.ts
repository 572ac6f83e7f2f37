/** What a duplicate or garbled answer to a create call becomes: the job or batch it stands for, or an error that says what is known. */
import assert from 'node:assert/strict';
import { PlaymentError } from '../../src/api/errors';
import {
  jobCreationFailure,
  resolveExistingBatch,
  resolveExistingJob,
  standsForABatch,
  standsForAJob,
} from '../../src/api/duplicate-recovery';
import type { VideoJobBody } from '../../src/jobs/job-body';

const duplicate = (mayExist?: boolean) =>
  new PlaymentError({ code: 'FS_0001', statusCode: 400, message: 'FS_0001: duplicate (HTTP 400)', mayExist });
const garbled = () =>
  new PlaymentError({
    code: 'BAD_RESPONSE',
    statusCode: 200,
    message: 'the API answered HTTP 200 with a body that is not JSON',
    mayExist: true,
  });
const batchTaken = (mayExist?: boolean) =>
  new PlaymentError({ code: 'BATCH_CREATION', statusCode: 400, message: 'BATCH_CREATION: exists (HTTP 400)', mayExist, referenceId: 'r0' });

function body(extra: Partial<VideoJobBody> = {}): VideoJobBody {
  return { reference_id: 'ref-7', tag: 't1', work_flow_id: 'wf-1', data: { video_data: { frames: [] } }, ...extra };
}

function logger() {
  const lines: string[] = [];
  return { lines, log: { debug: (t: string) => void lines.push(t), trace: () => undefined } };
}

async function failure(promise: Promise<unknown>): Promise<PlaymentError> {
  try {
    await promise;
  } catch (err) {
    return err as PlaymentError;
  }
  throw new Error('expected a failure');
}

describe('duplicate recovery: jobs', () => {
  it('a duplicate stands for a job after a lost answer or with ifExists "send"; a garbled answer only after a lost one', () => {
    assert.equal(standsForAJob(duplicate(true), 'error'), true);
    assert.equal(standsForAJob(duplicate(), 'send'), true);
    assert.equal(standsForAJob(duplicate(), 'error'), false);
    assert.equal(standsForAJob(duplicate(false), 'error'), false);
    assert.equal(standsForAJob(garbled(), 'error'), true);
    assert.equal(standsForAJob(garbled().copyWith({ mayExist: false }), 'send'), false);
    assert.equal(standsForAJob(new PlaymentError({ code: 'FS_0003', message: 'x', mayExist: true }), 'send'), false);
  });

  it('a job stored by our own lost attempt is recovered; one there before is existing', async () => {
    const looked: Array<[string, string | undefined]> = [];
    const find = async (ref: string, batch: string | undefined) => {
      looked.push([ref, batch]);
      return 'job-9';
    };
    const { lines, log } = logger();
    const own = await resolveExistingJob(body({ batch_id: 'b1' }), duplicate(true), find, log);
    assert.deepEqual(own, { job_id: 'job-9', reference_id: 'ref-7', tag: 't1', work_flow_id: 'wf-1', recovered: true });
    const before = await resolveExistingJob(body(), duplicate(), find, log);
    assert.deepEqual(before, { job_id: 'job-9', reference_id: 'ref-7', tag: 't1', work_flow_id: 'wf-1', existing: true });
    assert.deepEqual(looked, [
      ['ref-7', 'b1'],
      ['ref-7', undefined],
    ]);
    assert.deepEqual(lines, [
      'job.create: reference id ref-7 may have been stored by an attempt whose answer was lost (FS_0001): found as job job-9',
      'job.create: reference id ref-7 names a job already (FS_0001): found as job job-9',
    ]);
  });

  it('a duplicate after a lost answer, not found: DUPLICATE_UNRESOLVED naming the batch', async () => {
    const { lines, log } = logger();
    const err = await failure(resolveExistingJob(body({ batch_id: 'b1' }), duplicate(true), async () => undefined, log));
    assert.deepEqual(
      [err.code, err.statusCode, err.apiCode, err.referenceId, err.message],
      [
        'DUPLICATE_UNRESOLVED',
        400,
        'FS_0001',
        'ref-7',
        'an earlier attempt whose answer was lost seems to have created reference id ref-7, but it could not be found in batch b1',
      ],
    );
    assert.deepEqual(lines, [
      'job.create: reference id ref-7 may have been stored by an attempt whose answer was lost (FS_0001): not found in the listing',
    ]);
  });

  it('a job there before, not found: DUPLICATE_UNRESOLVED saying where it was looked for', async () => {
    const err = await failure(resolveExistingJob(body(), duplicate(), async () => undefined, logger().log));
    assert.equal(err.code, 'DUPLICATE_UNRESOLVED');
    assert.equal(
      err.message,
      "Playment holds a job with reference id ref-7 already (FS_0001), but not in the project's default batch, so its job id could not be found",
    );
  });

  it('a garbled answer, not found: the BAD_RESPONSE, saying that resending is safe', async () => {
    const err = await failure(resolveExistingJob(body({ batch_id: 'b2' }), garbled(), async () => undefined, logger().log));
    assert.deepEqual([err.code, err.statusCode, err.referenceId], ['BAD_RESPONSE', 200, 'ref-7']);
    assert.equal(
      err.message,
      'the API answered HTTP 200 with a body that is not JSON; no job with reference id ref-7 is listed in batch b2: ' +
        'resending the message is safe (Playment refuses a second job with the same reference id)',
    );
  });

  it('a failed creation names its reference id; an abort says whether the job may exist', () => {
    const refused = jobCreationFailure(new PlaymentError({ code: 'FS_0003', message: 'bad' }), 'ref-1');
    assert.deepEqual([refused.code, refused.referenceId, refused.message], ['FS_0003', 'ref-1', 'bad']);
    const queued = jobCreationFailure(new PlaymentError({ code: 'ABORTED', message: 'job.create aborted: x' }), 'ref-2');
    assert.deepEqual([queued.referenceId, queued.message], ['ref-2', 'job.create aborted: x; nothing was sent']);
    const sent = jobCreationFailure(new PlaymentError({ code: 'ABORTED', message: 'job.create aborted: x', mayExist: true }), 'ref-3');
    assert.equal(
      sent.message,
      'job.create aborted: x; the job may already exist at Playment: resending with the same reference id (ref-3) is safe',
    );
  });
});

describe('duplicate recovery: batches', () => {
  it('BATCH_CREATION stands for a batch after a lost answer or when reusing', () => {
    assert.equal(standsForABatch(batchTaken(true), false), true);
    assert.equal(standsForABatch(batchTaken(), true), true);
    assert.equal(standsForABatch(batchTaken(), false), false);
    assert.equal(standsForABatch(new PlaymentError({ code: 'FS_0001', message: 'x', mayExist: true }), true), false);
  });

  it('found by name: recovered after our lost attempt, reused otherwise', async () => {
    const { lines, log } = logger();
    const names: string[] = [];
    const find = async (name: string) => {
      names.push(name);
      return 'batch-3';
    };
    assert.deepEqual(await resolveExistingBatch('night', batchTaken(true), find, log), { batch_id: 'batch-3', recovered: true });
    assert.deepEqual(await resolveExistingBatch('night', batchTaken(), find, log), { batch_id: 'batch-3', reused: true });
    assert.deepEqual(names, ['night', 'night']);
    assert.deepEqual(lines, [
      'batch.create: batch "night" may have been created by an attempt whose answer was lost: found as batch-3 by name',
      'batch.create: batch "night" exists: found as batch-3 by name',
    ]);
  });

  it('not found after a lost attempt: DUPLICATE_UNRESOLVED; not found when reusing: the BATCH_CREATION itself', async () => {
    const { lines, log } = logger();
    const lost = await failure(resolveExistingBatch('night', batchTaken(true), async () => undefined, log));
    assert.deepEqual(
      [lost.code, lost.statusCode, lost.apiCode, lost.referenceId, lost.message],
      [
        'DUPLICATE_UNRESOLVED',
        400,
        'BATCH_CREATION',
        'r0',
        'an earlier attempt whose answer was lost seems to have created batch "night", but it could not be found',
      ],
    );
    const taken = batchTaken();
    assert.equal(await failure(resolveExistingBatch('night', taken, async () => undefined, log)), taken);
    assert.deepEqual(lines, [
      'batch.create: batch "night" may have been created by an attempt whose answer was lost: not found by name',
      'batch.create: batch "night" exists: not found by name',
    ]);
  });
});
