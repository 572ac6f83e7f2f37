/** Frame limits: the per-job limit applies to each part of a split; the whole message has its own bound. */
import assert from 'node:assert/strict';
import { MAX_FRAMES_PER_JOB, MAX_FRAMES_PER_MESSAGE } from '../../src/jobs/frames';
import { planJobs, splitFrames, type PlanOptions } from '../../src/jobs/plan';
import type { PlaymentError } from '../../src/api/errors';
import { thrown } from '../support/thrown';

const NODE = { tag: 'track_bounding_boxes' };

function options(maxFramesPerJob: number, overlap = 0): PlanOptions {
  return { projectId: 'p', frameOrder: 'given', maxFramesPerJob, overlap };
}

function urls(count: number, prefix = 's'): string[] {
  return Array.from({ length: count }, (_, i) => `https://h.example/${prefix}/${i}.jpg`);
}

function refused(fn: () => unknown): PlaymentError {
  try {
    fn();
  } catch (err) {
    return err as PlaymentError;
  }
  throw new Error('expected INVALID_INPUT');
}

describe('frame limits', function () {
  this.timeout(60_000);

  it('splits a sequence longer than the per-job limit when frames per job is set', () => {
    const jobs = planJobs(urls(MAX_FRAMES_PER_JOB + 5), NODE, {}, options(MAX_FRAMES_PER_JOB));
    assert.deepEqual(jobs.map((j) => j.body.data.video_data.frames.length), [MAX_FRAMES_PER_JOB, 5]);
  });

  it('refuses a sequence longer than the per-job limit without a split, and says how to split it', () => {
    const err = refused(() => planJobs(urls(MAX_FRAMES_PER_JOB + 1), NODE, {}, options(0)));
    assert.equal(err.code, 'INVALID_INPUT');
    assert.equal(
      err.message,
      `msg.payload has ${MAX_FRAMES_PER_JOB + 1} frames, more than ${MAX_FRAMES_PER_JOB} in one job; set "frames per job" (at most ${MAX_FRAMES_PER_JOB}) to split it into parts`,
    );
    const bulk = refused(() => planJobs([{ frames: urls(2) }, { frames: urls(MAX_FRAMES_PER_JOB + 1) }], NODE, {}, options(0)));
    assert.match(bulk.message, /^msg\.payload\[1\]\.frames has 100001 frames, more than 100000 in one job/);
  });

  it('refuses frames per job above the per-job limit', () => {
    const err = refused(() => planJobs(urls(2), NODE, {}, options(MAX_FRAMES_PER_JOB + 1)));
    assert.equal(err.code, 'INVALID_INPUT');
    assert.match(err.message, /max frames per job must be at most 100000/);
  });

  it('bounds the whole message, also when split, before reading any frame', () => {
    // Not URLs at all: the bound is checked before a frame is read.
    const tooMany = new Array(MAX_FRAMES_PER_MESSAGE + 1).fill('not read');
    const err = refused(() => planJobs(tooMany, NODE, {}, options(MAX_FRAMES_PER_JOB)));
    assert.equal(err.code, 'INVALID_INPUT');
    assert.equal(err.message, `msg.payload has ${MAX_FRAMES_PER_MESSAGE + 1} frames, more than ${MAX_FRAMES_PER_MESSAGE} in one message; send them in several messages`);

    const half = new Array(MAX_FRAMES_PER_MESSAGE / 2 + 1).fill('not read');
    const bulk = refused(() => planJobs([{ frames: half }, { frames: half }], NODE, {}, options(MAX_FRAMES_PER_JOB)));
    assert.match(bulk.message, /^msg\.payload has 1000002 frames, more than 1000000 in one message/);
  });

  it('counts the frames an overlap repeats against the message bound', () => {
    // 600,000 frames in parts of 10 repeating 5: about 1.2 million frames sent.
    const err = refused(() => planJobs(new Array(600_000).fill('not read'), NODE, {}, options(10, 5)));
    assert.equal(err.code, 'INVALID_INPUT');
    assert.match(err.message, /^msg\.payload has 600000 frames \(1199990 with the frames the overlap repeats\), more than 1000000 in one message/);
  });
});

describe('planning jobs', () => {
  const opts = { projectId: 'p', frameOrder: 'given' as const, maxFramesPerJob: 0, overlap: 0 };

  it('lets node values win over msg values', () => {
    const [job] = planJobs(['https://h/1.jpg'], { tag: 'node' }, { tag: 'msg', work_flow_id: 'wf', priority_weight: '3' }, opts);
    assert.equal(job.body.tag, 'node');
    assert.equal(job.body.work_flow_id, 'wf');
    assert.equal(job.body.priority_weight, 3);
  });

  it('numbers a shared reference id across bulk sequences', () => {
    const jobs = planJobs([{ frames: ['https://h/1.jpg'] }, { frames: ['https://h/2.jpg'] }], { tag: 't' }, { reference_id: 'run' }, opts);
    assert.deepEqual(jobs.map((j) => j.body.reference_id), ['run-1', 'run-2']);
  });

  it('refuses two bulk sequences with the same reference id', () => {
    const err = thrown(() => planJobs([{ frames: ['https://h/1.jpg'], reference_id: 'x' }, { frames: ['https://h/2.jpg'], reference_id: 'x' }], { tag: 't' }, {}, opts));
    assert.match(err.message, /msg\.payload\[0\] and msg\.payload\[1\] have the same reference_id/);
  });

  it('splits with overlap into windows that cover every frame', () => {
    assert.deepEqual(splitFrames([1, 2, 3, 4, 5, 6, 7], 3, 1), [[1, 2, 3], [3, 4, 5], [5, 6, 7]]);
    assert.deepEqual(splitFrames([1, 2, 3, 4], 3, 0), [[1, 2, 3], [4]]);
    assert.deepEqual(splitFrames([1, 2], 3, 2), [[1, 2]]);
  });
});
