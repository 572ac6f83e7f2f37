/**
 * "Group frames by folder": a flat list of frame URLs, built as users build it (a Function node
 * turning an S3 listing into URLs), becomes one job per parent folder with the folder URL as its
 * reference id, sent on as bulk outputs are (msg.parts, so a join completes).
 */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { PROJECT, SUBMIT_NODE, inject, loadFlow, useSandboxRuntime, type Recorder } from '../support/harness';

const GROUPED = { ...SUBMIT_NODE, id: 'submit', groupByFolder: true };

/** An S3 ListObjectsV2 answer: two camera folders, a folder marker and a JSON file. */
const LISTING = {
  Name: 'cams',
  Contents: [
    { Key: 'd7/' },
    { Key: 'd7/calibration.json' },
    { Key: 'd7/front/frame_10.jpg' },
    { Key: 'd7/rear/frame_2.jpg' },
    { Key: 'd7/front/frame_9.jpg' },
    { Key: 'd7/rear/frame_1.jpg' },
  ],
  IsTruncated: false,
};

/** A Function node (id n1) that turns the listing in msg.payload into a flat list of s3:// URLs. */
function listingToUrls(wires = [['submit']]) {
  const func = "msg.payload = msg.payload.Contents.map((c) => 's3://' + msg.payload.Name + '/' + c.Key); return msg;";
  return { id: 'n1', type: 'function', func, outputs: 1, noerr: 0, initialize: '', finalize: '', libs: [], wires };
}

function noErrors(rec: Recorder): void {
  assert.deepEqual(
    rec.caught.map((m) => m.error),
    [],
  );
}

function jobsByReference(sandbox: Sandbox): Array<[string, string[]]> {
  return sandbox.state
    .jobs()
    .map((j: any) => [j.referenceId, j.frames.map((f: any) => f.frame_id)] as [string, string[]])
    .sort(([a], [b]) => a.localeCompare(b));
}

describe('submit: group frames by folder', () => {
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  it('one job per folder, the folder URL as reference id, image files only in natural order; one output each, with msg.parts and msg.skipped', async () => {
    const rec = await loadFlow(sandbox, [listingToUrls(), { ...GROUPED, wires: [['out']] }]);
    inject({ _msgid: 'listing-1', payload: LISTING, topic: 'drive 7' });
    await rec.settled(2);
    noErrors(rec);
    assert.deepEqual(jobsByReference(sandbox), [
      ['s3://cams/d7/front', ['frame_9.jpg', 'frame_10.jpg']],
      ['s3://cams/d7/rear', ['frame_1.jpg', 'frame_2.jpg']],
    ]);
    const outputs = [...rec.outputs].sort((a, b) => a.parts.index - b.parts.index);
    assert.deepEqual(
      outputs.map((m) => [m.reference_id, m.payload.reference_id, m.parts.index, m.parts.count, m.parts.id]),
      [
        ['s3://cams/d7/front', 's3://cams/d7/front', 0, 2, 'listing-1'],
        ['s3://cams/d7/rear', 's3://cams/d7/rear', 1, 2, 'listing-1'],
      ],
    );
    for (const out of outputs) {
      assert.equal(out.skipped, 2, 'the folder marker and the JSON file');
      assert.equal(out.topic, 'drive 7');
      assert.equal(out.job_id, sandbox.state.jobsByReferenceId(PROJECT, out.reference_id)[0].jobId);
    }
  });

  it('a join in automatic mode collects the outputs of one list', async () => {
    const rec = await loadFlow(sandbox, [
      listingToUrls(),
      { ...GROUPED, wires: [['join']] },
      { id: 'join', type: 'join', mode: 'auto', wires: [['out']] },
    ]);
    inject({ payload: LISTING });
    await rec.settled(1);
    noErrors(rec);
    assert.deepEqual(
      rec.outputs[0].payload.map((p: any) => p.reference_id),
      ['s3://cams/d7/front', 's3://cams/d7/rear'],
    );
  });

  it("puts the node's reference id before each folder; the same list again creates nothing twice", async () => {
    const rec = await loadFlow(sandbox, [listingToUrls(), { ...GROUPED, referenceId: 'round-2', wires: [['out']] }]);
    inject({ payload: LISTING });
    await rec.settled(2);
    inject({ payload: LISTING });
    await rec.settled(4);
    noErrors(rec);
    assert.deepEqual(
      jobsByReference(sandbox).map(([ref]) => ref),
      ['round-2-s3://cams/d7/front', 'round-2-s3://cams/d7/rear'],
    );
    assert.deepEqual(
      rec.outputs.slice(2).map((m) => m.payload.existing),
      [true, true],
    );
  });

  it('a dry run outputs one request per folder and sends nothing', async () => {
    const rec = await loadFlow(sandbox, [listingToUrls(), { ...GROUPED, dryRun: true, wires: [['out']] }]);
    inject({ payload: LISTING });
    await rec.settled(2);
    noErrors(rec);
    assert.deepEqual(
      rec.outputs.map((m) => [m.reference_id, m.payload.request.body.data.video_data.frames.map((f: any) => f.src)]),
      [
        ['s3://cams/d7/front', ['s3://cams/d7/front/frame_9.jpg', 's3://cams/d7/front/frame_10.jpg']],
        ['s3://cams/d7/rear', ['s3://cams/d7/rear/frame_1.jpg', 's3://cams/d7/rear/frame_2.jpg']],
      ],
    );
    assert.equal(sandbox.state.jobs().length, 0);
  });

  it('a folder whose job fails is named in msg.failed; the other folder is sent on', async () => {
    const rec = await loadFlow(sandbox, [listingToUrls(), { ...GROUPED, existing: 'error', wires: [['out']] }]);
    // The rear folder first, alone: its job exists when the whole listing comes.
    inject({ payload: { ...LISTING, Contents: LISTING.Contents.filter((c) => c.Key.includes('/rear/')) } });
    await rec.settled(1);
    inject({ payload: LISTING });
    await rec.settled(3);
    assert.deepEqual(
      rec.outputs.map((m) => m.reference_id),
      ['s3://cams/d7/rear', 's3://cams/d7/front'],
    );
    assert.equal(rec.caught.length, 1);
    const caught = rec.caught[0];
    assert.equal(caught.error.code, 'FS_0001');
    assert.deepEqual(
      caught.failed.map((f: any) => [f.index, f.sequence, f.folder, f.reference_id, f.code]),
      [[1, 1, 's3://cams/d7/rear', 's3://cams/d7/rear', 'FS_0001']],
    );
  });

  it('INVALID_INPUT, nothing sent: a list without image files, a frame not in a folder, a bulk payload, pre-labels on the message', async () => {
    const rec = await loadFlow(sandbox, [{ ...GROUPED, id: 'n1', wires: [['out']] }]);
    inject({ payload: ['s3://cams/d7/', 's3://cams/d7/notes.txt'] });
    inject({ payload: ['s3://cams/d7/front/1.jpg', 'frame_1.jpg'] });
    inject({ payload: [{ frames: ['s3://cams/d7/front/1.jpg'] }] });
    inject({ payload: ['s3://cams/d7/front/1.jpg'], maker_response: { video_2d: { data: { annotations: [] } } } });
    await rec.settled(4);
    assert.equal(rec.outputs.length, 0);
    assert.deepEqual(
      rec.caught.map((m) => m.error.code),
      ['INVALID_INPUT', 'INVALID_INPUT', 'INVALID_INPUT', 'INVALID_INPUT'],
    );
    const messages = rec.caught.map((m) => m.error.message).sort();
    assert.match(messages[0], /msg\.maker_response is for a single sequence; frames grouped by folder cannot carry/);
    assert.match(messages[1], /msg\.payload frame 1: "frame_1\.jpg" is not in a folder/);
    assert.match(messages[2], /msg\.payload holds no image files to group by folder \(2 other entries/);
    assert.match(messages[3], /msg\.payload is an array of sequences; "group frames by folder" takes one flat list/);
    assert.equal(sandbox.state.jobs().length, 0);
  });

  it('off (the default, and every node saved before the option): a flat list is one sequence', async () => {
    const rec = await loadFlow(sandbox, [{ ...SUBMIT_NODE, wires: [['out']] }]);
    inject({ payload: ['s3://cams/d7/front/f1.jpg', 's3://cams/d7/rear/r1.jpg'] });
    await rec.settled(1);
    noErrors(rec);
    assert.equal(sandbox.state.jobs().length, 1);
    assert.match(rec.outputs[0].reference_id, /^nr-[0-9a-f]{32}$/);
    assert.equal(rec.outputs[0].skipped, undefined);
  });
});
