// The sandbox keeps a job's pre-labels (data.maker_response), reference data and metadata, and a
// pre-labelled job's result holds those trackers: the round trip a flow can test. Real HTTP on
// 127.0.0.1 only.
import assert from 'node:assert/strict';
import { request } from 'undici';
import { DEFAULT_API_KEY, DEFAULT_PROJECT_ID, startSandbox, type Sandbox } from '../../src/sandbox/server';

const KEY = DEFAULT_API_KEY;
const PID = DEFAULT_PROJECT_ID;
const JOBS = `/v1/projects/${PID}/jobs`;

type Json = any;

async function call(
  sb: Sandbox,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Json; location?: string }> {
  const res = await request(`${sb.url}${path}`, {
    method,
    headers: body === undefined ? { 'x-api-key': KEY } : { 'x-api-key': KEY, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  const location = res.headers.location === undefined ? undefined : String(res.headers.location);
  return { status: res.statusCode, json: text.startsWith('{') ? JSON.parse(text) : text, location };
}

const FRAMES = ['f1', 'f2', 'f3'].map((id) => ({ frame_id: id, src: `https://frames.example.com/drive-09/${id}.jpg` }));

const box = (x: number) => ({
  label: 'Car',
  attributes: { occluded: { value: true, state: 'editable' } },
  coordinates: [
    { x, y: 0.1 },
    { x: x + 0.2, y: 0.1 },
    { x: x + 0.2, y: 0.3 },
    { x, y: 0.3 },
  ],
});

/** Pre-labels the way a Function node builds them, from a detector's output. */
const MAKER_RESPONSE = {
  video_2d: {
    data: {
      annotations: [
        { _id: 'car-1', type: 'rectangle', label: 'Car', frames: { f3: box(0.3), f1: box(0.1) } },
        { type: 'polygon', label: 'Lane', frames: { f2: { label: 'Lane', points: { p1: { x: 0, y: 1 }, p2: { x: 0.5, y: 0.5 } } } } },
      ],
    },
  },
};

function jobBody(referenceId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { reference_id: referenceId, work_flow_id: 'wf', data: { video_data: { frames: FRAMES }, ...extra } };
}

async function resultFile(sb: Sandbox, jobId: string): Promise<Json> {
  const job = await call(sb, 'GET', `${JOBS}/${jobId}`);
  assert.equal(job.json.data.status, 'completed');
  const redirect = await call(sb, 'GET', `/v1/attachments?url=${encodeURIComponent(job.json.data.result)}`);
  assert.equal(redirect.status, 302);
  const file = await request(redirect.location!);
  assert.equal(file.statusCode, 200);
  return file.body.json();
}

describe('sandbox: pre-labels, reference data and metadata', function () {
  let sb: Sandbox;

  before(async () => {
    sb = await startSandbox({ completionDelayMs: 0 });
  });
  after(async () => {
    await sb.close();
  });

  it('stores maker_response, reference_data and metadata with the job, and leaves them out when not sent', async () => {
    const referenceData = {
      vector: { images: [{ frame_id: 'f1', data: [{ label: 'rear', image_url: 'https://frames.example.com/rear/f1.jpg' }] }] },
    };
    const created = await call(
      sb,
      'POST',
      JOBS,
      jobBody('pre-1', { maker_response: MAKER_RESPONSE, reference_data: referenceData, metadata: { drive: 9 } }),
    );
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const [job] = sb.state.jobsByReferenceId(PID, 'pre-1');
    assert.deepEqual(job.makerResponse, MAKER_RESPONSE);
    assert.deepEqual(job.referenceData, referenceData);
    assert.deepEqual(job.metadata, { drive: 9 });

    await call(sb, 'POST', JOBS, jobBody('plain-1', { metadata: null }));
    const [plain] = sb.state.jobsByReferenceId(PID, 'plain-1');
    assert.deepEqual(
      ['makerResponse', 'referenceData', 'metadata'].filter((k) => k in plain),
      [],
    );
  });

  it("serves a pre-labelled job's trackers as its result, in frame order, with the ids a result has", async () => {
    const created = await call(sb, 'POST', JOBS, jobBody('pre-2', { maker_response: MAKER_RESPONSE }));
    const file = await resultFile(sb, created.json.data.job_id);
    const [car, lane] = file.data.annotation_data.annotations;
    assert.equal(file.data.annotation_data.annotations.length, 2);
    assert.equal(car._id, 'car-1');
    assert.deepEqual(Object.keys(car.frames), ['f1', 'f3']);
    assert.deepEqual(car.frames.f1, { _id: 'car-1-0', ...box(0.1) });
    assert.deepEqual(car.frames.f3, { _id: 'car-1-2', ...box(0.3) });
    assert.match(lane._id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual({ ...lane.frames.f2, _id: undefined }, { ...MAKER_RESPONSE.video_2d.data.annotations[1].frames.f2, _id: undefined });
    assert.deepEqual(file.data.video_data.frames, FRAMES);

    // The batch listing counts the pre-labelled annotations: 2 + 1.
    const batch = sb.state.batches(PID)[0];
    const listing = await call(sb, 'GET', `/v1/projects/${PID}/batch/${batch.batchId}`);
    const entry = listing.json.data.jobs.find((j: Json) => j.reference_id === 'pre-2');
    assert.equal(entry.annotations, 3);
  });

  it("reads GT Studio's video2d key too, and gives the synthetic result when the pre-label list is empty", async () => {
    const video2d = { video2d: MAKER_RESPONSE.video_2d };
    const a = await call(sb, 'POST', JOBS, jobBody('pre-3', { maker_response: video2d }));
    assert.equal((await resultFile(sb, a.json.data.job_id)).data.annotation_data.annotations[0]._id, 'car-1');

    const b = await call(sb, 'POST', JOBS, jobBody('pre-4', { maker_response: { video_2d: { data: { annotations: [] } } } }));
    const synthetic = (await resultFile(sb, b.json.data.job_id)).data.annotation_data.annotations;
    assert.ok(synthetic.length >= 1 && synthetic.every((t: Json) => t.label === 'Car' && t.type === 'rectangle'));
  });

  it('refuses pre-labels on a frame the job does not have, in no known place, and extras that are not objects (FS_0003)', async () => {
    const stray = { video_2d: { data: { annotations: [{ _id: 't', frames: { f1: box(0), f7: box(0) } }] } } };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ maker_response: stray }, 'data.maker_response annotations[0]: frame_id "f7" is not a frame of this job'],
      [
        { maker_response: { annotations: [] } },
        'data.maker_response must hold the pre-labels as video_2d.data.annotations or video2d.data.annotations',
      ],
      [
        { maker_response: { video_2d: { data: { annotations: [{ frames: [] }] } } } },
        'data.maker_response annotations[0] must be a tracker with a frames object',
      ],
      [{ reference_data: 'x' }, 'data.reference_data must be an object, got "x"'],
      [{ metadata: [1] }, 'data.metadata must be an object, got [1]'],
    ];
    for (const [i, [extra, message]] of cases.entries()) {
      const res = await call(sb, 'POST', JOBS, jobBody(`bad-${i}`, extra));
      assert.equal(res.status, 400);
      assert.deepEqual(res.json.error, { code: 'FS_0003', message });
      assert.deepEqual(sb.state.jobsByReferenceId(PID, `bad-${i}`), []);
    }
  });
});
