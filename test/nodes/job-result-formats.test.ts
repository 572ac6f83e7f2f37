/**
 * playment-job-result's result formats in a real runtime against the sandbox: for a job whose
 * result holds a rectangle, a polygon and a rectangle whose label is not listed, the node waits,
 * downloads and gives the frame map with trackers, rows or YOLO labels; shapes YOLO cannot hold
 * are listed as skipped. A job the submit node sent gets the sandbox's own Car rectangles.
 */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { request } from 'undici';
import { API_KEY, PROJECT, SUBMIT_NODE, assertEachEndedOnce, helper, inject, loadFlow, useSandboxRuntime } from '../support/harness';
import { waitFor } from '../support/wait';

const BASE = 'https://cdn.example.com/drive-11';
const SRC = [1, 2, 3].map((i) => `${BASE}/frame_000${i}.jpg`);
const FRAMES = { 'frame_0001.jpg': SRC[0], 'frame_0002.jpg': SRC[1], 'frame_0003.jpg': SRC[2] };

const corners = (l: number, t: number, r: number, b: number) => [
  { x: l, y: t },
  { x: r, y: t },
  { x: r, y: b },
  { x: l, y: b },
];

/** Pre-labels on the first two frames (the third has none); the sandbox's result holds them. */
const MAKER_RESPONSE = {
  video_2d: {
    data: {
      annotations: [
        {
          _id: 'car-1',
          type: 'rectangle',
          label: 'Car',
          frames: {
            'frame_0001.jpg': { label: 'Car', attributes: { occluded: { value: false } }, coordinates: corners(0.1, 0.2, 0.3, 0.6) },
            'frame_0002.jpg': { label: 'Car', attributes: { occluded: { value: true } }, coordinates: corners(0.5, 0.5, 1, 1) },
          },
        },
        {
          _id: 'lane-1',
          type: 'polygon',
          label: 'Lane',
          frames: {
            'frame_0001.jpg': {
              label: 'Lane',
              points: { p1: { x: 0.1, y: 0.9 }, p2: { x: 0.5, y: 0.5 }, p3: { x: 0.9, y: 0.9 } },
              edges: { e1: ['p1', 'p2'] },
            },
          },
        },
        {
          _id: 'truck-1',
          type: 'rectangle',
          label: 'Truck',
          frames: { 'frame_0002.jpg': { label: 'Truck', coordinates: corners(0, 0, 0.2, 0.2) } },
        },
      ],
    },
  },
};
// The shortest poll interval the node accepts (limits.ts).
const RESULT = { id: 'n1', type: 'playment-job-result', mode: 'wait', pollInterval: '1', download: true, wires: [['out']] };

/**
 * A job with pre-labels, created as Playment's own tools would (the submit node sends none): the
 * annotators "accept" them, so the result holds exactly these shapes.
 */
async function createPreLabelledJob(sandbox: Sandbox, referenceId = 'drive-11'): Promise<string> {
  const res = await request(`${sandbox.url}/v1/projects/${PROJECT}/jobs`, {
    method: 'POST',
    headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({
      reference_id: referenceId,
      work_flow_id: 'wf',
      data: { video_data: { frames: SRC.map((src) => ({ frame_id: src.slice(BASE.length + 1), src })) }, maker_response: MAKER_RESPONSE },
    }),
  });
  const body = (await res.body.json()) as { data: { job_id: string } };
  assert.equal(res.statusCode, 200, JSON.stringify(body));
  return body.data.job_id;
}

describe('playment-job-result: result formats', function () {
  this.timeout(30_000);
  let sandbox!: Sandbox;
  useSandboxRuntime({ completionDelayMs: 0 }, (s) => (sandbox = s));

  /** The job-result node (as n1) with `result`'s settings, sent the pre-labelled job's id. */
  async function runOne(result: Record<string, unknown>, msg: Record<string, unknown> = {}, referenceId?: string) {
    const jobId = await createPreLabelledJob(sandbox, referenceId);
    const rec = await loadFlow(sandbox, [{ ...RESULT, ...result }]);
    inject({ _msgid: 'one', job_id: jobId, ...msg });
    await assertEachEndedOnce(rec, new Set(['one']), 20_000, 50);
    assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
    return rec.outputs[0];
  }

  it("trackers, the default (a node saved before Format existed): the frame map and the file's trackers", async () => {
    const out = await runOne({});
    assert.equal(out.payload.status, 'completed');
    assert.deepEqual(out.payload.frames, FRAMES);
    assert.deepEqual(
      out.payload.annotations.map((t: any) => [t._id, t.type, Object.keys(t.frames)]),
      [
        ['car-1', 'rectangle', ['frame_0001.jpg', 'frame_0002.jpg']],
        ['lane-1', 'polygon', ['frame_0001.jpg']],
        ['truck-1', 'rectangle', ['frame_0002.jpg']],
      ],
    );
    assert.equal(out.payload.rows, undefined);
    assert.equal(out.payload.yolo, undefined);
  });

  it('rows: one row per tracker per frame, rectangles and polygons alike, beside the job fields', async () => {
    const out = await runOne({ format: 'rows' });
    const { job_id: jobId, reference_id: referenceId } = out.payload;
    assert.equal(out.job_id, jobId);
    assert.equal(referenceId, 'drive-11');
    assert.deepEqual(out.payload.frames, FRAMES);
    assert.deepEqual(out.payload.rows, [
      {
        job_id: jobId,
        reference_id: 'drive-11',
        frame_id: 'frame_0001.jpg',
        src: SRC[0],
        tracker_id: 'car-1',
        label: 'Car',
        type: 'rectangle',
        coordinates: corners(0.1, 0.2, 0.3, 0.6),
        attributes: { occluded: false },
      },
      {
        job_id: jobId,
        reference_id: 'drive-11',
        frame_id: 'frame_0001.jpg',
        src: SRC[0],
        tracker_id: 'lane-1',
        label: 'Lane',
        type: 'polygon',
        coordinates: [
          { x: 0.1, y: 0.9 },
          { x: 0.5, y: 0.5 },
          { x: 0.9, y: 0.9 },
        ],
        attributes: {},
      },
      {
        job_id: jobId,
        reference_id: 'drive-11',
        frame_id: 'frame_0002.jpg',
        src: SRC[1],
        tracker_id: 'car-1',
        label: 'Car',
        type: 'rectangle',
        coordinates: corners(0.5, 0.5, 1, 1),
        attributes: { occluded: true },
      },
      {
        job_id: jobId,
        reference_id: 'drive-11',
        frame_id: 'frame_0002.jpg',
        src: SRC[1],
        tracker_id: 'truck-1',
        label: 'Truck',
        type: 'rectangle',
        coordinates: corners(0, 0, 0.2, 0.2),
        attributes: {},
      },
    ]);
    assert.equal(out.payload.annotations, undefined);
  });

  it("yolo with the node's Labels: a line per listed rectangle, every frame, other shapes and labels listed as skipped", async () => {
    const out = await runOne({ format: 'yolo', labels: 'Pedestrian,\n Car ' });
    assert.deepEqual(out.payload.frames, FRAMES);
    assert.deepEqual(out.payload.labels, ['Pedestrian', 'Car']);
    assert.deepEqual(out.payload.yolo, [
      { frame_id: 'frame_0001.jpg', src: SRC[0], file: 'frame_0001.txt', text: '1 0.200000 0.400000 0.200000 0.400000\n' },
      { frame_id: 'frame_0002.jpg', src: SRC[1], file: 'frame_0002.txt', text: '1 0.750000 0.750000 0.500000 0.500000\n' },
      { frame_id: 'frame_0003.jpg', src: SRC[2], file: 'frame_0003.txt', text: '' },
    ]);
    assert.deepEqual(out.payload.skipped, [
      {
        frame_id: 'frame_0001.jpg',
        tracker_id: 'lane-1',
        label: 'Lane',
        type: 'polygon',
        reason: 'a "polygon" has no YOLO box; only rectangles do',
      },
      {
        frame_id: 'frame_0002.jpg',
        tracker_id: 'truck-1',
        label: 'Truck',
        type: 'rectangle',
        reason: 'label "Truck" is not in the label list',
      },
    ]);
  });

  it("yolo with msg.labels when the node's Labels is blank, the node's list winning when set", async () => {
    const fromMsg = await runOne({ format: 'yolo', labels: '' }, { labels: ['Truck', 'Car'] });
    assert.deepEqual(fromMsg.payload.labels, ['Truck', 'Car']);
    assert.deepEqual(
      fromMsg.payload.yolo.map((e: any) => e.text),
      ['1 0.200000 0.400000 0.200000 0.400000\n', '1 0.750000 0.750000 0.500000 0.500000\n0 0.100000 0.100000 0.200000 0.200000\n', ''],
    );
    assert.deepEqual(
      fromMsg.payload.skipped.map((s: any) => s.tracker_id),
      ['lane-1'],
    );
    await helper.unload();
    const fromNode = await runOne({ format: 'yolo', labels: 'Car' }, { labels: ['Truck', 'Car'] }, 'drive-11b');
    assert.deepEqual(fromNode.payload.labels, ['Car']);
  });

  it('yolo on a sandbox result without pre-labels: Car rectangles on every frame, nothing skipped', async () => {
    const rec = await loadFlow(
      sandbox,
      [
        { ...SUBMIT_NODE, wires: [['r1']] },
        { ...RESULT, id: 'r1', format: 'yolo', labels: 'Car' },
      ],
      { completeScope: ['r1'] },
    );
    inject({ _msgid: 'plain', payload: SRC.map((s) => s.replace('drive-11', 'drive-12')) });
    await assertEachEndedOnce(rec, new Set(['plain']), 20_000, 50);
    const out = rec.outputs[0];
    assert.deepEqual(out.payload.skipped, []);
    assert.deepEqual(
      out.payload.yolo.map((e: any) => e.src),
      SRC.map((s) => s.replace('drive-11', 'drive-12')),
    );
    for (const e of out.payload.yolo) assert.match(e.text, /^(0 \d\.\d{6} \d\.\d{6} \d\.\d{6} \d\.\d{6}\n)+$/);
  });

  it('yolo without a label list: INVALID_INPUT saying where to set it, before any request', async () => {
    const rec = await loadFlow(sandbox, [{ ...RESULT, format: 'yolo', labels: '' }]);
    inject({ _msgid: 'no-labels', job_id: 'job-1' });
    inject({ _msgid: 'bad-labels', job_id: 'job-1', labels: ['Car', 3] });
    await assertEachEndedOnce(rec, new Set(['no-labels', 'bad-labels']), 15_000, 50);
    assert.equal(rec.outputs.length, 0);
    const byId = new Map(rec.caught.map((m) => [m._msgid, m.error]));
    assert.equal(byId.get('no-labels').code, 'INVALID_INPUT');
    assert.match(
      byId.get('no-labels').message,
      /the YOLO format needs the label list .*: set Labels in the node \(separated by commas or new lines\) or send msg\.labels as an array of strings/,
    );
    assert.equal(byId.get('bad-labels').code, 'INVALID_INPUT');
    assert.match(byId.get('bad-labels').message, /msg\.labels\[1\] must be a label \(a string that is not blank\); got 3/);
    assert.equal(sandbox.state.requestCount, 0);
  });

  it('Labels naming a label twice, or an unknown Format: the node is not configured', async () => {
    for (const [props, text] of [
      [{ format: 'yolo', labels: 'Car, Bus, Car' }, /labels: the label list names "Car" twice: each label needs one class number/],
      [{ format: 'csv' }, /format: must be one of "trackers", "rows", "yolo"; got "csv"/],
    ] as const) {
      const rec = await loadFlow(sandbox, [{ ...RESULT, ...props }]);
      inject({ _msgid: 'x', job_id: 'job-1' });
      await assertEachEndedOnce(rec, new Set(['x']), 15_000, 50);
      assert.equal(rec.caught[0].error.code, 'NOT_CONFIGURED');
      assert.match(rec.caught[0].error.message, text);
      await helper.unload();
    }
    assert.equal(sandbox.state.requestCount, 0);
  });

  it('without Download annotations the Format adds nothing', async () => {
    const out = await runOne({ download: false, format: 'yolo', labels: '' });
    assert.equal(out.payload.status, 'completed');
    for (const key of ['frames', 'annotations', 'rows', 'yolo', 'skipped', 'labels']) assert.equal(out.payload[key], undefined, key);
  });

  it("a batch watch sends each job in the node's format", async () => {
    const jobId = await createPreLabelledJob(sandbox);
    const batchId = sandbox.state.jobs().find((j) => j.jobId === jobId)?.batchId;
    const rec = await loadFlow(sandbox, [{ ...RESULT, mode: 'batch', format: 'rows' }]);
    inject({ _msgid: 'watch', batch_id: batchId });
    // The watch ends with the incoming message itself, as the last progress message.
    await waitFor('the end of the watch', () => rec.outputs.some((m) => m._msgid === 'watch' && m.topic === 'progress'), 20_000);
    assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
    const job = rec.outputs.find((m) => m.topic === 'job');
    assert.ok(job, JSON.stringify(rec.outputs.map((m) => m.topic)));
    assert.equal(job.job_id, jobId);
    assert.deepEqual(job.payload.frames, FRAMES);
    assert.deepEqual(
      job.payload.rows.map((r: any) => [r.frame_id, r.tracker_id]),
      [
        ['frame_0001.jpg', 'car-1'],
        ['frame_0001.jpg', 'lane-1'],
        ['frame_0002.jpg', 'car-1'],
        ['frame_0002.jpg', 'truck-1'],
      ],
    );
  });
});
