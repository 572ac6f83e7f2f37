/** What the client accepts from Playment's answers: required fields, nulls, extra fields. */
import assert from 'node:assert/strict';
import {
  batchJobsPageSchema,
  createBatchDataSchema,
  createJobDataSchema,
  errorEnvelopeSchema,
  jobRecordSchema,
  projectDetailsSchema,
  successEnvelopeSchema,
} from '../../src/api/schemas';

describe('answer schemas', () => {
  it('error envelopes: any code as text, the message defaults to empty', () => {
    assert.deepEqual(errorEnvelopeSchema.parse({ success: false, error: { code: 500 } }), {
      success: false,
      error: { code: '500', message: '' },
    });
    assert.deepEqual(errorEnvelopeSchema.parse({ success: false, error: { code: 'FS_0001', message: 'dup', extra: 1 } }).error, {
      code: 'FS_0001',
      message: 'dup',
      extra: 1,
    });
    assert.equal(errorEnvelopeSchema.safeParse({ success: true, error: { code: 'x' } }).success, false);
    assert.equal(errorEnvelopeSchema.safeParse({ success: false }).success, false);
  });

  it('success envelopes need success: true', () => {
    assert.deepEqual(successEnvelopeSchema.parse({ success: true, data: [1] }), { success: true, data: [1] });
    assert.equal(successEnvelopeSchema.safeParse({ success: false, data: 1 }).success, false);
  });

  it('created jobs need a job id; null tag and work flow id read as absent', () => {
    assert.deepEqual(createJobDataSchema.parse({ job_id: 'j', reference_id: 'r', tag: null, work_flow_id: null, extra: 1 }), {
      job_id: 'j',
      reference_id: 'r',
      tag: undefined,
      work_flow_id: undefined,
      extra: 1,
    });
    assert.equal(createJobDataSchema.parse({ job_id: 'j', reference_id: 'r', tag: 't' }).tag, 't');
    assert.equal(createJobDataSchema.safeParse({ job_id: '', reference_id: 'r' }).success, false);
    assert.equal(createJobDataSchema.safeParse({ job_id: 'j' }).success, false);
  });

  it('created batches need a batch id', () => {
    assert.deepEqual(createBatchDataSchema.parse({ batch_id: 'b', name: 'n' }), { batch_id: 'b', name: 'n' });
    assert.equal(createBatchDataSchema.safeParse({ batch_id: '' }).success, false);
  });

  it('job records need an id and a status; the rest may be null', () => {
    const nulls = {
      reference_id: null,
      batch_id: null,
      project_id: null,
      tag: null,
      work_flow_id: null,
      priority_weight: null,
      result: null,
    };
    assert.deepEqual(jobRecordSchema.parse({ job_id: 'j', status: 'completed', ...nulls }), { job_id: 'j', status: 'completed', ...nulls });
    assert.equal(jobRecordSchema.safeParse({ job_id: 'j' }).success, false);
    assert.equal(jobRecordSchema.safeParse({ job_id: 'j', status: 'x', priority_weight: '3' }).success, false);
  });

  it('batch pages and project details read a missing or null list as empty', () => {
    assert.deepEqual(batchJobsPageSchema.parse({ jobs: null }).jobs, []);
    assert.deepEqual(batchJobsPageSchema.parse({}).jobs, []);
    assert.deepEqual(batchJobsPageSchema.parse({ jobs: [{ id: 'j', reference_id: null, status: null }], next_page_token: 't' }), {
      jobs: [{ id: 'j', reference_id: null, status: null }],
      next_page_token: 't',
    });
    assert.equal(batchJobsPageSchema.safeParse({ jobs: [{ reference_id: 'r' }] }).success, false);
    assert.deepEqual(projectDetailsSchema.parse({ batches: null }).batches, []);
    assert.deepEqual(projectDetailsSchema.parse({ name: 'p', batches: [{ id: 'b', name: null, is_default: true }] }).batches, [
      { id: 'b', name: null, is_default: true },
    ]);
    assert.equal(projectDetailsSchema.safeParse({ batches: [{ name: 'x' }] }).success, false);
  });
});
