/**
 * The submit node reads payloads as users build them: in Function nodes (their own vm context),
 * inject nodes with JSON, change nodes and files read by a file node.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sandbox } from '../../src/sandbox/server';
import { PROJECT, SUBMIT_NODE, helper, inject, loadFlow, useSandboxRuntime, type Recorder } from '../support/harness';

const SUBMIT = { ...SUBMIT_NODE, id: 'submit' };

/** A Function node with id n1 running `code`, wired to the submit node. */
function functionNode(code: string, wires = [['submit']]) {
  return { id: 'n1', type: 'function', func: code, outputs: 1, noerr: 0, initialize: '', finalize: '', libs: [], wires };
}

function noErrors(rec: Recorder): void {
  assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
}

describe('submit: payloads built the way users build them', () => {
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  describe('in a Function node', () => {
    it('frame objects {frame_id, src}', async () => {
      const rec = await loadFlow(sandbox, [
        functionNode(`msg.payload = [{frame_id: 'a', src: 'https://h.example/a.jpg'}, {src: 'https://h.example/b.jpg'}]; return msg;`),
        SUBMIT,
      ]);
      inject({});
      await rec.settled(1);
      noErrors(rec);
      const job = sandbox.state.jobs()[0];
      assert.deepEqual(job.frames, [
        { frame_id: 'a', src: 'https://h.example/a.jpg' },
        { frame_id: 'b.jpg', src: 'https://h.example/b.jpg' },
      ]);
      assert.equal(rec.outputs[0].job_id, job.jobId);
    });

    it('frame objects without a prototype, and a sequence of URL strings', async () => {
      const rec = await loadFlow(sandbox, [
        functionNode(`
          const frame = Object.create(null);
          frame.frame_id = 'bare';
          frame.src = 'https://h.example/bare.jpg';
          msg.payload = msg.topic === 'bare' ? [frame] : ['https://h.example/s/1.jpg', 'https://h.example/s/2.jpg'];
          return msg;`),
        SUBMIT,
      ]);
      inject({ topic: 'bare' });
      inject({ topic: 'urls' });
      await rec.settled(2);
      noErrors(rec);
      const frameIds = sandbox.state
        .jobs()
        .map((j: any) => j.frames.map((f: any) => f.frame_id))
        .sort();
      assert.deepEqual(frameIds, [['1.jpg', '2.jpg'], ['bare']]);
    });

    it('a bulk payload: one job per sequence, not one sequence', async () => {
      const rec = await loadFlow(sandbox, [
        functionNode(`
          msg.payload = [
            {frames: ['https://h.example/a/1.jpg', 'https://h.example/a/2.jpg'], reference_id: 'fn-bulk-a'},
            {frames: [{frame_id: 'b1', src: 'https://h.example/b/1.jpg'}], reference_id: 'fn-bulk-b', priority_weight: 3},
          ];
          return msg;`),
        SUBMIT,
      ]);
      inject({});
      await rec.settled(2);
      noErrors(rec);
      assert.deepEqual(rec.outputs.map((m) => m.reference_id).sort(), ['fn-bulk-a', 'fn-bulk-b']);
      const b = sandbox.state.jobsByReferenceId(PROJECT, 'fn-bulk-b')[0];
      assert.deepEqual(b.frames, [{ frame_id: 'b1', src: 'https://h.example/b/1.jpg' }]);
      assert.equal(b.priorityWeight, 3);
    });

    it('create-batch and job-result read {name, description} and {job_id} payloads built there', async () => {
      const rec = await loadFlow(sandbox, [
        functionNode(`msg.payload = {name: 'fn-batch', description: 'from a function'}; return msg;`, [['batch']]),
        { id: 'batch', type: 'playment-create-batch', wires: [['out']] },
      ]);
      inject({});
      await rec.settled(1);
      noErrors(rec);
      assert.deepEqual(rec.outputs[0].payload, { batch_id: rec.outputs[0].batch_id, name: 'fn-batch', description: 'from a function' });
      await helper.unload();

      const submitted = await loadFlow(sandbox, [SUBMIT_NODE]);
      inject({ payload: ['https://h.example/r/1.jpg'] });
      await submitted.settled(1);
      const jobId = submitted.outputs[0].job_id;
      await helper.unload();

      const result = await loadFlow(sandbox, [
        functionNode(`msg.payload = {job_id: msg.topic}; return msg;`, [['result']]),
        { id: 'result', type: 'playment-job-result', mode: 'once', wires: [['out']] },
      ]);
      inject({ topic: jobId });
      await result.settled(1);
      noErrors(result);
      assert.equal(result.outputs[0].payload.job_id, jobId);
    });
  });

  it('an inject node with a JSON payload', async () => {
    const payload = JSON.stringify([{ frame_id: 'j1', src: 'https://h.example/j/1.jpg' }, 'https://h.example/j/2.jpg']);
    const rec = await loadFlow(sandbox, [
      { id: 'n1', type: 'inject', props: [{ p: 'payload' }], payload, payloadType: 'json', repeat: '', once: false, wires: [['submit']] },
      SUBMIT,
    ]);
    inject({});
    await rec.settled(1);
    noErrors(rec);
    assert.deepEqual(
      sandbox.state.jobs()[0].frames.map((f: any) => f.frame_id),
      ['j1', '2.jpg'],
    );
  });

  it('a change node setting msg.payload to a JSON bulk payload', async () => {
    const bulk = JSON.stringify([
      { frames: ['https://h.example/c/1.jpg'], reference_id: 'change-a' },
      { frames: ['https://h.example/c/2.jpg'], reference_id: 'change-b' },
    ]);
    const rec = await loadFlow(sandbox, [
      { id: 'n1', type: 'change', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: bulk, tot: 'json' }], wires: [['submit']] },
      SUBMIT,
    ]);
    inject({ payload: 'replaced' });
    await rec.settled(2);
    noErrors(rec);
    assert.deepEqual(rec.outputs.map((m) => m.reference_id).sort(), ['change-a', 'change-b']);
  });

  it('a JSON file read by a file node and parsed by a json node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'frames-'));
    try {
      const file = join(dir, 'frames.json');
      writeFileSync(file, JSON.stringify([{ frame_id: 'f1', src: 'https://h.example/f/1.jpg' }, { src: 'https://h.example/f/2.jpg' }]));
      const rec = await loadFlow(sandbox, [
        {
          id: 'n1',
          type: 'file in',
          filename: file,
          filenameType: 'str',
          format: 'utf8',
          chunk: false,
          sendError: false,
          encoding: 'none',
          allProps: false,
          wires: [['json']],
        },
        { id: 'json', type: 'json', action: 'obj', property: 'payload', pretty: false, wires: [['submit']] },
        SUBMIT,
      ]);
      inject({});
      await rec.settled(1);
      noErrors(rec);
      assert.deepEqual(
        sandbox.state.jobs()[0].frames.map((f: any) => f.frame_id),
        ['f1', '2.jpg'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
