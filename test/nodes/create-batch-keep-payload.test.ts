/**
 * Create batch with "Keep msg.payload": the frames a message carries pass through untouched, the
 * batch goes on msg.batch_id and msg.batch, so a submit node can follow with no change node.
 */
import assert from 'node:assert/strict';
import { DEMO_EXAMPLE, readExample } from '../../src/demo/flows';
import type { Sandbox } from '../../src/sandbox/server';
import { PROJECT, SUBMIT_NODE, frames, inject, loadFlow, useSandboxRuntime } from '../support/harness';

const KEEP = { id: 'n1', type: 'playment-create-batch', batchName: 'Drive 11', batchNameType: 'str', keepPayload: true, wires: [['out']] };

describe('create batch: keep msg.payload', () => {
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  it('create batch → submit, no change node: the frames reach the submit node and the jobs land in the batch', async () => {
    const rec = await loadFlow(sandbox, [
      { ...KEEP, wires: [['submit']] },
      { ...SUBMIT_NODE, id: 'submit' },
    ]);
    const sequences = [
      { frames: frames(3, 'https://cdn.example.com/d11/front') },
      { frames: frames(2, 'https://cdn.example.com/d11/rear') },
    ];
    inject({ payload: sequences });
    await rec.settled(2);
    assert.deepEqual(
      rec.caught.map((m) => m.error),
      [],
    );
    const batch = sandbox.state.batches(PROJECT).find((b: any) => b.name === 'Drive 11')!;
    assert.ok(batch, 'the batch was created');
    const jobs = sandbox.state.jobs() as any[];
    assert.deepEqual(jobs.map((j) => j.frames.length).sort(), [2, 3]);
    for (const job of jobs) assert.equal(job.batchId, batch.batchId);
    for (const out of rec.outputs) {
      assert.equal(out.batch_id, batch.batchId);
      assert.deepEqual(out.batch, { batch_id: batch.batchId, name: 'Drive 11', description: '' });
    }
  });

  it('msg.payload leaves as it came; msg.batch says when the batch was reused', async () => {
    const rec = await loadFlow(sandbox, [{ ...KEEP, batchDescription: 'rainy', batchDescriptionType: 'str' }]);
    const payload = { name: 'not the batch name', frames: ['https://cdn.example.com/x/1.jpg'] };
    inject({ payload });
    await rec.settled(1);
    inject({ payload: 'a string payload is not the name either' });
    await rec.settled(2);
    assert.deepEqual(
      rec.caught.map((m) => m.error),
      [],
    );
    assert.deepEqual(rec.outputs[0].payload, payload);
    assert.equal(rec.outputs[1].payload, 'a string payload is not the name either');
    const [first, second] = rec.outputs.map((m) => m.batch);
    assert.deepEqual(
      sandbox.state
        .batches(PROJECT)
        .filter((b: any) => b.name !== undefined && !b.isDefault)
        .map((b: any) => b.name),
      ['Drive 11'],
    );
    // The first message created the batch, the second reused it.
    assert.equal(first.reused, undefined);
    assert.equal(second.reused, true);
    for (const b of [first, second]) {
      assert.equal(b.batch_id, rec.outputs[0].batch_id);
      assert.equal(b.name, 'Drive 11');
      assert.equal(b.description, 'rainy');
    }
  });

  it('the name from a msg property the node points at; a blank one is INVALID_INPUT and msg.payload is not read for it', async () => {
    const rec = await loadFlow(sandbox, [{ ...KEEP, batchName: 'batch_name', batchNameType: 'msg' }]);
    inject({ payload: ['https://cdn.example.com/x/1.jpg'], batch_name: 'From the message' });
    await rec.settled(1);
    inject({ payload: { name: 'Payload name' } });
    await rec.settled(2);
    assert.equal(rec.outputs[0].batch.name, 'From the message');
    assert.equal(rec.caught.length, 1);
    assert.equal(rec.caught[0].error.code, 'INVALID_INPUT');
    assert.match(
      rec.caught[0].error.message,
      /batch name is required: with "Keep msg\.payload" the node does not read msg\.payload; set the name in the node/,
    );
    assert.deepEqual(rec.caught[0].payload, { name: 'Payload name' });
    assert.equal(
      sandbox.state.batches(PROJECT).some((b: any) => b.name === 'Payload name'),
      false,
    );
  });

  it(`the example "${DEMO_EXAMPLE}": inject → create batch → submit, two jobs of six frames in the named batch`, async () => {
    const example = readExample(DEMO_EXAMPLE);
    const start = example.find((n) => n.type === 'inject')!;
    // The example's create-batch and submit nodes as saved, on the test account, the submit node wired to the recorder.
    const nodes = example
      .filter((n) => n.type === 'playment-create-batch' || n.type === 'playment-submit-video-job')
      .map(({ z: _z, config: _config, ...n }) => ({ ...n, wires: n.type === 'playment-submit-video-job' ? [['out']] : n.wires }));
    assert.deepEqual(start.wires, [[nodes[0].id]], 'the inject node feeds the create-batch node');
    assert.deepEqual(nodes[0].wires, [[nodes[1].id]], 'create batch feeds the submit node directly');
    const rec = await loadFlow(sandbox, nodes);
    inject({ payload: JSON.parse(String(start.payload)) }, nodes[0].id);
    await rec.settled(2);
    assert.deepEqual(
      rec.caught.map((m) => m.error),
      [],
    );
    const batch = sandbox.state.batches(PROJECT).find((b: any) => b.name === 'Drive 01 and 02 (example)')!;
    assert.ok(batch);
    const jobs = sandbox.state.jobs() as any[];
    assert.deepEqual(
      jobs.map((j) => [j.batchId, j.tag, j.frames.length]),
      [
        [batch.batchId, 'track_bounding_boxes', 6],
        [batch.batchId, 'track_bounding_boxes', 6],
      ],
    );
  });

  it('off (the default, and every node saved before the option): msg.payload becomes the batch and there is no msg.batch', async () => {
    const rec = await loadFlow(sandbox, [{ id: 'n1', type: 'playment-create-batch', wires: [['out']] }]);
    inject({ payload: 'Drive 12' });
    await rec.settled(1);
    const out = rec.outputs[0];
    assert.deepEqual(out.payload, { batch_id: out.batch_id, name: 'Drive 12', description: '' });
    assert.equal(out.batch, undefined);
  });
});
