/**
 * Pre-labels and extra job data as users send them (a Function node setting msg.maker_response,
 * msg.reference_data, msg.metadata, or putting them in bulk sequence objects): checked against
 * the job's frames, shared out to split parts, and back in the result of a pre-labelled job.
 */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { PROJECT, SUBMIT_NODE, inject, loadFlow, useSandboxRuntime, type Recorder } from '../support/harness';

/** A Function node (id n1) running `code`, wired to the submit node. */
function functionNode(code: string, wires = [['submit']]) {
  return { id: 'n1', type: 'function', func: code, outputs: 1, noerr: 0, initialize: '', finalize: '', libs: [], wires };
}

/** Function-node code: frames f1..f4 of a drive, pre-labels on `labelled` (one Car tracker), reference images and metadata. */
function withPreLabels(labelled: string[], extra = '') {
  return `
    const box = (x) => ({ label: 'Car', attributes: { occluded: { value: false } }, coordinates: [{x, y: 0.1}, {x: x + 0.2, y: 0.1}, {x: x + 0.2, y: 0.3}, {x, y: 0.3}] });
    const frames = {};
    ${JSON.stringify(labelled)}.forEach((id, i) => { frames[id] = box(0.1 * (i + 1)); });
    msg.payload = ['f1', 'f2', 'f3', 'f4'].map((id) => ({ frame_id: id, src: 'https://cdn.example.com/drive-3/' + id + '.jpg' }));
    msg.maker_response = { video_2d: { data: { annotations: [{ _id: 'car-1', type: 'rectangle', label: 'Car', frames }] } } };
    msg.reference_data = { vector: { images: [{ frame_id: 'f2', data: [{ label: 'rear', image_url: 'https://cdn.example.com/rear/f2.jpg' }] }] } };
    msg.metadata = { drive: 3, weather: 'rain' };
    ${extra}
    return msg;`;
}

const SUBMIT = { ...SUBMIT_NODE, id: 'submit' };

function noErrors(rec: Recorder): void {
  assert.deepEqual(
    rec.caught.map((m) => m.error),
    [],
  );
}

/** The frame ids each stored tracker of a job's pre-labels annotates. */
function labelledFrames(job: any): string[][] {
  return job.makerResponse.video_2d.data.annotations.map((t: any) => Object.keys(t.frames));
}

describe('submit: pre-labels and extra job data', function () {
  this.timeout(30_000);
  let sandbox!: Sandbox;
  // Jobs complete at once: the round trip reads a result right away.
  useSandboxRuntime({ completionDelayMs: 0 }, (s) => (sandbox = s));

  it('a single sequence: msg.maker_response, msg.reference_data and msg.metadata are sent in data; the derived reference id is the one without them', async () => {
    const withoutThem = "if (msg.topic === 'without') { delete msg.maker_response; delete msg.reference_data; delete msg.metadata; }";
    const rec = await loadFlow(sandbox, [functionNode(withPreLabels(['f1', 'f3'], withoutThem)), { ...SUBMIT, existing: 'error' }]);
    inject({ topic: 'with' });
    await rec.settled(1);
    noErrors(rec);
    const [job] = sandbox.state.jobs() as any[];
    assert.deepEqual(labelledFrames(job), [['f1', 'f3']]);
    assert.equal(job.makerResponse.video_2d.data.annotations[0].frames.f3.coordinates[0].x, 0.2);
    assert.deepEqual(
      job.referenceData.vector.images.map((i: any) => i.frame_id),
      ['f2'],
    );
    assert.deepEqual(job.metadata, { drive: 3, weather: 'rain' });
    assert.match(rec.outputs[0].reference_id, /^nr-[0-9a-f]{32}$/);

    // The same frames without them: the same job (the same derived reference id), refused as a copy.
    inject({ topic: 'without' });
    await rec.settled(2);
    assert.equal(rec.caught[0]?.error.code, 'FS_0001');
    assert.equal(rec.caught[0].reference_id, rec.outputs[0].reference_id);
    assert.equal(sandbox.state.jobs().length, 1);
  });

  it('a pre-label on a frame the job lacks: INVALID_INPUT naming the frame, nothing sent', async () => {
    const rec = await loadFlow(sandbox, [functionNode(withPreLabels(['f1', 'f9'])), SUBMIT]);
    inject({});
    await rec.settled(1);
    assert.equal(rec.outputs.length, 0);
    assert.equal(rec.caught[0].error.code, 'INVALID_INPUT');
    assert.match(
      rec.caught[0].error.message,
      /msg\.maker_response\.video_2d\.data\.annotations\[0\] \(tracker "car-1"\): frame "f9" is not a frame of this job/,
    );
    assert.equal(sandbox.state.routeCounts['job.create'] ?? 0, 0);
  });

  it('a reference image of a frame the job lacks, or metadata that is not an object: INVALID_INPUT, nothing sent', async () => {
    const rec = await loadFlow(sandbox, [
      functionNode(
        withPreLabels(
          ['f1'],
          `
      if (msg.topic === 'ref') msg.reference_data.vector.images[0].frame_id = 'f7';
      else msg.metadata = 'drive 3';`,
        ),
      ),
      SUBMIT,
    ]);
    inject({ topic: 'ref' });
    inject({ topic: 'meta' });
    await rec.settled(2);
    const messages = rec.caught.map((m) => m.error.message).sort();
    assert.match(messages[0], /msg\.metadata must be an object, got "drive 3"/);
    assert.match(messages[1], /msg\.reference_data\.vector\.images\[0\]: frame "f7" is not a frame of this job/);
    assert.equal(sandbox.state.jobs().length, 0);
  });

  it('split: each part carries the pre-labels and reference images of its own frames only, metadata whole', async () => {
    const rec = await loadFlow(sandbox, [functionNode(withPreLabels(['f1', 'f2', 'f4'])), { ...SUBMIT, maxFramesPerJob: 2, overlap: 0 }]);
    inject({});
    await rec.settled(2);
    noErrors(rec);
    const parts = (sandbox.state.jobs() as any[]).sort((a, b) => a.referenceId.localeCompare(b.referenceId));
    assert.deepEqual(
      parts.map((j) => j.frames.map((f: any) => f.frame_id)),
      [
        ['f1', 'f2'],
        ['f3', 'f4'],
      ],
    );
    assert.deepEqual(parts.map(labelledFrames), [[['f1', 'f2']], [['f4']]]);
    assert.deepEqual(
      parts.map((j) => j.referenceData.vector.images.map((i: any) => i.frame_id)),
      [['f2'], []],
    );
    assert.deepEqual(
      parts.map((j) => j.metadata),
      [
        { drive: 3, weather: 'rain' },
        { drive: 3, weather: 'rain' },
      ],
    );
  });

  it("bulk: each sequence object's own pre-labels; on the message they are refused", async () => {
    const rec = await loadFlow(sandbox, [
      functionNode(`
        const tracker = (id) => ({ _id: 't-' + id, frames: { [id]: { label: 'Car', coordinates: [] } } });
        msg.payload = [
          { reference_id: 'bulk-a', frames: ['https://cdn.example.com/a/a1.jpg'], maker_response: { video2d: { data: { annotations: [tracker('a1.jpg')] } } } },
          { reference_id: 'bulk-b', frames: ['https://cdn.example.com/b/b1.jpg'], metadata: { cam: 'rear' } },
        ];
        if (msg.topic === 'on message') msg.metadata = { drive: 3 };
        return msg;`),
      SUBMIT,
    ]);
    inject({ topic: 'in sequences' });
    await rec.settled(2);
    noErrors(rec);
    const a = sandbox.state.jobsByReferenceId(PROJECT, 'bulk-a')[0] as any;
    const b = sandbox.state.jobsByReferenceId(PROJECT, 'bulk-b')[0] as any;
    assert.deepEqual(
      a.makerResponse.video2d.data.annotations.map((t: any) => t._id),
      ['t-a1.jpg'],
    );
    assert.equal(a.metadata, undefined);
    assert.deepEqual(b.metadata, { cam: 'rear' });
    assert.equal(b.makerResponse, undefined);

    inject({ topic: 'on message' });
    await rec.settled(3);
    assert.equal(rec.caught[0].error.code, 'INVALID_INPUT');
    assert.match(
      rec.caught[0].error.message,
      /msg\.metadata is for a single sequence; with a bulk payload \(an array of sequences\), give them in each sequence object/,
    );
    assert.equal(sandbox.state.jobs().length, 2);
  });

  it('a dry run shows them in the request', async () => {
    const rec = await loadFlow(sandbox, [functionNode(withPreLabels(['f2'])), { ...SUBMIT, dryRun: true }]);
    inject({});
    await rec.settled(1);
    noErrors(rec);
    const data = rec.outputs[0].payload.request.body.data;
    assert.deepEqual(Object.keys(data), ['video_data', 'maker_response', 'reference_data', 'metadata']);
    assert.deepEqual(Object.keys(data.maker_response.video_2d.data.annotations[0].frames), ['f2']);
    assert.equal(sandbox.state.jobs().length, 0);
  });

  it('round trip: a job-result node downloads annotations that start from the pre-labels', async () => {
    const rec = await loadFlow(sandbox, [
      functionNode(withPreLabels(['f1', 'f2', 'f3'])),
      { ...SUBMIT, wires: [['result']] },
      { id: 'result', type: 'playment-job-result', mode: 'once', download: true, wires: [['out']] },
    ]);
    inject({});
    await rec.settled(1);
    noErrors(rec);
    const { payload } = rec.outputs[0];
    assert.equal(payload.status, 'completed');
    assert.equal(payload.annotations.length, 1);
    const [tracker] = payload.annotations;
    assert.equal(tracker._id, 'car-1');
    assert.deepEqual(Object.keys(tracker.frames), ['f1', 'f2', 'f3']);
    assert.deepEqual(tracker.frames.f2.coordinates, [
      { x: 0.2, y: 0.1 },
      { x: 0.4, y: 0.1 },
      { x: 0.4, y: 0.3 },
      { x: 0.2, y: 0.3 },
    ]);
    assert.equal(tracker.frames.f2.label, 'Car');
  });
});
