/**
 * The planner: frame limits (the per-job limit applies to each part of a split; the whole message
 * has its own bound), extra job data per sequence, and one job per folder of a flat list.
 */
import assert from 'node:assert/strict';
import { MAX_FRAMES_PER_JOB, MAX_FRAMES_PER_MESSAGE } from '../../src/jobs/frames';
import { planFolders, planJobs, splitFrames, type PlanOptions } from '../../src/jobs/plan';
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
    assert.deepEqual(
      jobs.map((j) => j.body.data.video_data.frames.length),
      [MAX_FRAMES_PER_JOB, 5],
    );
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
    assert.equal(
      err.message,
      `msg.payload has ${MAX_FRAMES_PER_MESSAGE + 1} frames, more than ${MAX_FRAMES_PER_MESSAGE} in one message; send them in several messages`,
    );

    const half = new Array(MAX_FRAMES_PER_MESSAGE / 2 + 1).fill('not read');
    const bulk = refused(() => planJobs([{ frames: half }, { frames: half }], NODE, {}, options(MAX_FRAMES_PER_JOB)));
    assert.match(bulk.message, /^msg\.payload has 1000002 frames, more than 1000000 in one message/);
  });

  it('counts the frames an overlap repeats against the message bound', () => {
    // 600,000 frames in parts of 10 repeating 5: about 1.2 million frames sent.
    const err = refused(() => planJobs(new Array(600_000).fill('not read'), NODE, {}, options(10, 5)));
    assert.equal(err.code, 'INVALID_INPUT');
    assert.match(
      err.message,
      /^msg\.payload has 600000 frames \(1199990 with the frames the overlap repeats\), more than 1000000 in one message/,
    );
  });
});

/** Pre-labels on frames `ids` (one tracker), in TELUS's video_2d form. */
function preLabels(...ids: string[]) {
  const frames = Object.fromEntries(ids.map((id) => [id, { label: 'Car', coordinates: [{ x: 0.1, y: 0.1 }] }]));
  return { video_2d: { data: { annotations: [{ _id: 'car-1', type: 'rectangle', label: 'Car', frames }] } } };
}

describe('extra job data (pre-labels, reference data, metadata)', () => {
  const seq = ['https://h.example/d/f1.jpg', 'https://h.example/d/f2.jpg', 'https://h.example/d/f3.jpg'];

  it("puts a single sequence's message extras into data, beside video_data, and keeps the derived reference id", () => {
    const extras = { maker_response: preLabels('f1.jpg', 'f3.jpg'), metadata: { drive: 7 } };
    const [job] = planJobs(seq, NODE, {}, options(0), extras);
    assert.deepEqual(Object.keys(job.body.data), ['video_data', 'maker_response', 'metadata']);
    assert.deepEqual(job.body.data.maker_response, extras.maker_response);
    assert.deepEqual(job.body.data.metadata, { drive: 7 });
    assert.equal(job.body.reference_id, planJobs(seq, NODE, {}, options(0))[0].body.reference_id);
  });

  it('refuses pre-labels on a frame the job lacks, naming it', () => {
    const err = refused(() => planJobs(seq, NODE, {}, options(0), { maker_response: preLabels('f1.jpg', 'f9.jpg') }));
    assert.equal(err.code, 'INVALID_INPUT');
    assert.equal(
      err.message,
      'msg.maker_response.video_2d.data.annotations[0] (tracker "car-1"): frame "f9.jpg" is not a frame of this job',
    );
  });

  it("takes each bulk sequence's own extras, and refuses message extras with a bulk payload", () => {
    const bulk = [
      { frames: seq, reference_id: 'a', maker_response: preLabels('f2.jpg') },
      { frames: seq.slice(0, 1), reference_id: 'b', metadata: { cam: 'rear' } },
    ];
    const jobs = planJobs(bulk, NODE, {}, options(0));
    assert.deepEqual(jobs[0].body.data.maker_response, preLabels('f2.jpg'));
    assert.equal(jobs[0].body.data.metadata, undefined);
    assert.deepEqual(jobs[1].body.data.metadata, { cam: 'rear' });
    assert.equal(jobs[1].body.data.maker_response, undefined);

    const bad = refused(() => planJobs([{ frames: seq, maker_response: preLabels('nope') }], NODE, {}, options(0)));
    assert.match(bad.message, /^msg\.payload\[0\]\.maker_response\.video_2d\.data\.annotations\[0\] \(tracker "car-1"\): frame "nope"/);
    const onMsg = refused(() =>
      planJobs(bulk, NODE, {}, options(0), { metadata: { drive: 7 }, reference_data: { vector: { images: [] } } }),
    );
    assert.equal(
      onMsg.message,
      'msg.reference_data, msg.metadata are for a single sequence; with a bulk payload (an array of sequences), give them in each sequence object',
    );
  });

  it("gives each part of a split sequence its own frames' pre-labels", () => {
    const jobs = planJobs(seq, NODE, {}, options(2), { maker_response: preLabels('f1.jpg', 'f3.jpg'), metadata: { drive: 7 } });
    assert.deepEqual(
      jobs.map((j) =>
        JSON.parse(JSON.stringify(j.body.data.maker_response)).video_2d.data.annotations.map((t: { frames: object }) =>
          Object.keys(t.frames),
        ),
      ),
      [[['f1.jpg']], [['f3.jpg']]],
    );
    assert.deepEqual(
      jobs.map((j) => j.body.data.metadata),
      [{ drive: 7 }, { drive: 7 }],
    );
  });
});

describe('planFolders: one job per folder of a flat list', () => {
  const LIST = [
    's3://cams/d7/rear/frame_2.jpg',
    's3://cams/d7/front/frame_10.jpg',
    's3://cams/d7/calibration.json',
    's3://cams/d7/front/frame_9.jpg',
    's3://cams/d7/rear/frame_1.jpg',
    's3://cams/d7/',
  ];
  const framesOf = (jobs: Array<{ body: { data: { video_data: { frames: Array<{ frame_id: string }> } } } }>) =>
    jobs.map((j) => j.body.data.video_data.frames.map((f) => f.frame_id));

  it('the folder URL is the reference id, frames in natural order, other files skipped', () => {
    const { jobs, skipped } = planFolders(LIST, NODE, {}, options(0));
    assert.deepEqual(
      jobs.map((j) => [j.body.reference_id, j.folder, j.sequence]),
      [
        ['s3://cams/d7/front', 's3://cams/d7/front', 0],
        ['s3://cams/d7/rear', 's3://cams/d7/rear', 1],
      ],
    );
    assert.deepEqual(framesOf(jobs), [
      ['frame_9.jpg', 'frame_10.jpg'],
      ['frame_1.jpg', 'frame_2.jpg'],
    ]);
    assert.deepEqual(skipped, ['s3://cams/d7/calibration.json', 's3://cams/d7/']);
  });

  it("puts a node's or message's reference id before each folder, the node's first", () => {
    const fromMsg = planFolders(LIST, NODE, { reference_id: 'round2' }, options(0)).jobs;
    assert.deepEqual(
      fromMsg.map((j) => j.body.reference_id),
      ['round2-s3://cams/d7/front', 'round2-s3://cams/d7/rear'],
    );
    const fromNode = planFolders(LIST, { ...NODE, reference_id: 'node' }, { reference_id: 'msg' }, options(0)).jobs;
    assert.deepEqual(
      fromNode.map((j) => j.body.reference_id),
      ['node-s3://cams/d7/front', 'node-s3://cams/d7/rear'],
    );
  });

  it('a folder keeps its reference id whatever other folders the list holds', () => {
    const alone = planFolders(
      LIST.filter((u) => u.includes('/rear/')),
      NODE,
      { reference_id: 'r' },
      options(0),
    ).jobs;
    assert.deepEqual(
      alone.map((j) => j.body.reference_id),
      ['r-s3://cams/d7/rear'],
    );
  });

  it('splits each folder on its own: parts named after the folder', () => {
    const { jobs } = planFolders(LIST, NODE, {}, options(1));
    assert.deepEqual(
      jobs.map((j) => j.body.reference_id),
      ['s3://cams/d7/front-part-1', 's3://cams/d7/front-part-2', 's3://cams/d7/rear-part-1', 's3://cams/d7/rear-part-2'],
    );
    assert.deepEqual(
      jobs.map((j) => j.folder),
      ['s3://cams/d7/front', 's3://cams/d7/front', 's3://cams/d7/rear', 's3://cams/d7/rear'],
    );
  });

  it('refuses a bulk payload, message pre-labels, a list without images, and names the folder of a bad frame', () => {
    assert.match(
      refused(() => planFolders([{ frames: LIST }], NODE, {}, options(0))).message,
      /^msg\.payload is an array of sequences; "group frames by folder" takes one flat list/,
    );
    assert.equal(
      refused(() => planFolders(LIST, NODE, {}, options(0), { maker_response: preLabels('frame_1.jpg') })).message,
      'msg.maker_response is for a single sequence; frames grouped by folder cannot carry them (frame ids repeat from folder to folder)',
    );
    assert.equal(
      refused(() => planFolders(['s3://cams/d7/a.json', 's3://cams/d7/'], NODE, {}, options(0))).message,
      'msg.payload holds no image files to group by folder (2 other entries, such as "s3://cams/d7/a.json", "s3://cams/d7/")',
    );
    const bad = refused(() => planFolders(['s3://cams/d7/front/1.jpg', 'ftp://cams/d7/front/2.jpg'], NODE, {}, options(0)));
    assert.equal(bad.code, 'INVALID_INPUT');
    assert.match(bad.message, /^msg\.payload \(folder "ftp:\/\/cams\/d7\/front"\) frame 0: src scheme "ftp" is not allowed/);
    assert.match(
      refused(() => planFolders(LIST, {}, {}, options(0))).message,
      /^msg\.payload \(folder "s3:\/\/cams\/d7\/front"\): tag or work_flow_id is required/,
    );
  });

  it('bounds the list before grouping it', () => {
    const err = refused(() => planFolders(new Array(MAX_FRAMES_PER_MESSAGE + 1).fill(7), NODE, {}, options(0)));
    assert.match(err.message, /^msg\.payload has 1000001 frames, more than 1000000 in one message/);
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
    assert.deepEqual(
      jobs.map((j) => j.body.reference_id),
      ['run-1', 'run-2'],
    );
  });

  it('refuses two bulk sequences with the same reference id', () => {
    const err = thrown(() =>
      planJobs(
        [
          { frames: ['https://h/1.jpg'], reference_id: 'x' },
          { frames: ['https://h/2.jpg'], reference_id: 'x' },
        ],
        { tag: 't' },
        {},
        opts,
      ),
    );
    assert.match(err.message, /msg\.payload\[0\] and msg\.payload\[1\] have the same reference_id/);
  });

  it('splits with overlap into windows that cover every frame', () => {
    assert.deepEqual(splitFrames([1, 2, 3, 4, 5, 6, 7], 3, 1), [
      [1, 2, 3],
      [3, 4, 5],
      [5, 6, 7],
    ]);
    assert.deepEqual(splitFrames([1, 2, 3, 4], 3, 0), [[1, 2, 3], [4]]);
    assert.deepEqual(splitFrames([1, 2], 3, 2), [[1, 2]]);
  });
});

describe('planning at the edges of its options and limits', () => {
  const refusedWith = (fn: () => unknown) => refused(fn).message;

  it('refuses frames per job and overlap that are negative or not whole, and an overlap as large as the part', () => {
    assert.match(
      refusedWith(() => planJobs(urls(3), NODE, {}, options(-1))),
      /max frames per job must be a whole number ≥ 0, got -1/,
    );
    assert.match(
      refusedWith(() => planJobs(urls(3), NODE, {}, options(2.5))),
      /max frames per job must be a whole number ≥ 0, got 2.5/,
    );
    assert.match(
      refusedWith(() => planJobs(urls(3), NODE, {}, options(2, -1))),
      /overlap must be a whole number ≥ 0, got -1/,
    );
    assert.match(
      refusedWith(() => planJobs(urls(3), NODE, {}, options(2, 0.5))),
      /overlap must be a whole number ≥ 0, got 0.5/,
    );
    assert.match(
      refusedWith(() => planJobs(urls(3), NODE, {}, options(2, 2))),
      /overlap \(2\) must be smaller than max frames per job \(2\)/,
    );
    assert.equal(planJobs(urls(3), NODE, {}, options(2, 1)).length, 2);
  });

  it('refuses an empty payload instead of planning no job', () => {
    assert.match(
      refusedWith(() => planJobs([], NODE, {}, options(0))),
      /^msg\.payload has no frames$/,
    );
  });

  it('names msg.payload in a single sequence settings error', () => {
    assert.match(
      refusedWith(() => planJobs(urls(1), {}, {}, options(0))),
      /^msg\.payload: tag or work_flow_id is required/,
    );
  });

  it('sends a sequence of exactly frames per job as one job, and numbers the parts of a longer one from 1', () => {
    const [whole] = planJobs(urls(2), NODE, {}, options(2));
    assert.equal(whole.split, undefined);
    assert.doesNotMatch(whole.body.reference_id, /-part-/);
    const parts = planJobs(urls(5), NODE, {}, options(2));
    assert.deepEqual(
      parts.map((p) => p.split?.part),
      [1, 2, 3],
    );
    assert.deepEqual(
      parts.map((p) => p.body.reference_id.slice(-7)),
      ['-part-1', '-part-2', '-part-3'],
    );
  });

  it('takes exactly the per-job limit unsplit, and exactly the message bound as far as the bound goes', () => {
    const [job] = planJobs(urls(MAX_FRAMES_PER_JOB), NODE, {}, options(0));
    assert.equal(job.body.data.video_data.frames.length, MAX_FRAMES_PER_JOB);
    // One million frames pass the message bound; unsplit they are refused for the per-job limit.
    const err = refusedWith(() => planJobs(new Array(MAX_FRAMES_PER_MESSAGE).fill('not read'), NODE, {}, options(0)));
    assert.match(err, /more than 100000 in one job/);
  });

  it('counts a sequence shorter than one part as its own frames beside a long split one', () => {
    // Parts of 100000 repeating 99999: 100010 frames make 11 parts, 1100000 frames sent; the short one sends its 1.
    const long = new Array(MAX_FRAMES_PER_JOB + 10).fill('not read');
    const err = refusedWith(() => planJobs([{ frames: ['not read'] }, { frames: long }], NODE, {}, options(MAX_FRAMES_PER_JOB, 99_999)));
    assert.match(err, /^msg\.payload has 100011 frames \(1100001 with the frames the overlap repeats\), more than 1000000 in one message/);
  });

  it('keeps the given frame order, or sorts naturally when asked', () => {
    const frames = ['https://h.example/s/f10.jpg', 'https://h.example/s/f9.jpg'];
    const ids = (order: 'given' | 'natural') =>
      planJobs(frames, NODE, {}, { ...options(0), frameOrder: order })[0].body.data.video_data.frames.map((f) => f.frame_id);
    assert.deepEqual(ids('given'), ['f10.jpg', 'f9.jpg']);
    assert.deepEqual(ids('natural'), ['f9.jpg', 'f10.jpg']);
  });

  it('names at most three of the skipped entries when a folder list holds no image, and none when it is empty', () => {
    const others = ['s3://b/d/a.txt', 's3://b/d/b.txt', 's3://b/d/c.txt', 's3://b/d/d.txt'];
    const err = refusedWith(() => planFolders(others, NODE, {}, options(0)));
    assert.match(err, /\(4 other entries, such as "s3:\/\/b\/d\/a\.txt", "s3:\/\/b\/d\/b\.txt", "s3:\/\/b\/d\/c\.txt"\)$/);
    assert.match(
      refusedWith(() => planFolders([], NODE, {}, options(0))),
      /\(0 other entries\)$/,
    );
  });

  it('bounds the folders once split, with the frames their overlap repeats', () => {
    // 600,000 frames pass as given; in parts of 2 repeating 1 they would send about 1.2 million.
    const list = Array.from({ length: 600_000 }, (_, i) => `s3://b/d/${i}.jpg`);
    assert.match(
      refusedWith(() => planFolders(list, NODE, {}, options(2, 1))),
      /^msg\.payload has 600000 frames \(1199998 with the frames/,
    );
  });
});
