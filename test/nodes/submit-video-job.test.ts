/**
 * The submit node in a real Node-RED runtime against the sandbox over real HTTP: submissions, bad
 * input, and each message ending once.
 */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { PROJECT, SUBMIT_NODE, assertEachEndedOnce, frames, helper, inject, loadFlow, useSandboxRuntime } from '../support/harness';

const SUBMIT = SUBMIT_NODE;
const BATCH = { id: 'n1', type: 'playment-create-batch', wires: [['out']] };

describe('core nodes against the sandbox', function () {
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  describe('playment-submit-video-job', () => {
    it('submits URL strings and objects in order, deriving frame ids from signed and encoded URLs', async () => {
      const rec = await loadFlow(sandbox, [SUBMIT]);
      const payload = [
        'https://cdn.example.com/seq/frame_0001.jpg?X-Amz-Signature=abc&X-Amz-Expires=300',
        { src: 's3://bucket/seq/frame%20two.png' },
        { frame_id: 'custom-3', src: 'gs://bucket/seq/3.jpg' },
        'http://cdn.example.com/seq/frame_0004.jpg#fragment',
      ];
      inject({ payload, topic: 't' });
      await rec.settled(1);
      assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
      const out = rec.outputs[0];
      const job = sandbox.state.jobs()[0];
      assert.equal(out.job_id, job.jobId);
      assert.equal(out.reference_id, job.referenceId);
      assert.deepEqual(out.payload, { job_id: job.jobId, reference_id: job.referenceId, tag: 'track_bounding_boxes' });
      assert.equal(out.topic, 't');
      assert.deepEqual(
        job.frames.map((f: any) => f.frame_id),
        ['frame_0001.jpg', 'frame two.png', 'custom-3', 'frame_0004.jpg'],
      );
      assert.equal(job.frames[0].src, payload[0]);
    });

    it('takes msg.batch_id from an upstream create-batch node, and msg values only fill blanks', async () => {
      const rec2 = await loadFlow(sandbox, [
        { id: 'n1', type: 'playment-create-batch', batchName: 'chain-batch-2', batchNameType: 'str', wires: [['n2']] },
        { id: 'n2', type: 'change', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'frames', tot: 'msg' }], wires: [['n3']] },
        { ...SUBMIT, id: 'n3', priorityWeight: '7', priorityWeightType: 'num' },
      ]);
      inject({ frames: frames(3), tag: 'msg-tag-loses', work_flow_id: 'wf-from-msg', priority_weight: 2, reference_id: 'ref-chain-1' });
      await rec2.settled(1);
      assert.equal(rec2.caught.length, 0, JSON.stringify(rec2.caught.map((m) => m.error)));
      const out = rec2.outputs[0];
      const job = sandbox.state.jobs()[0];
      assert.equal(job.batchId, out.batch_id);
      assert.equal(job.tag, 'track_bounding_boxes');
      assert.equal(job.workFlowId, 'wf-from-msg');
      assert.equal(job.priorityWeight, 7);
      assert.equal(job.referenceId, 'ref-chain-1');
      assert.equal(out.payload.batch_id, out.batch_id);
    });

    it('derives the same reference id for the same sequence, so a resend is refused as FS_0001 (If the job exists: error)', async () => {
      const rec = await loadFlow(sandbox, [{ ...SUBMIT, existing: 'error' }]);
      inject({ payload: frames(4) });
      await rec.settled(1);
      inject({ payload: frames(4).map((u) => `${u}?X-Amz-Signature=resigned`) });
      await rec.settled(2);
      assert.equal(rec.outputs.length, 1);
      assert.equal(rec.caught.length, 1);
      assert.equal(rec.caught[0].error.code, 'FS_0001');
      assert.equal(rec.caught[0].reference_id, rec.outputs[0].reference_id);
      assert.equal(sandbox.state.jobs().length, 1);
    });

    it('works with both API profiles', async () => {
      for (const apiVersion of ['v0', 'v1'] as const) {
        const rec = await loadFlow(sandbox, [SUBMIT, { id: 'b1', type: 'playment-create-batch', wires: [['out']] }], { apiVersion });
        inject({ payload: frames(2, `https://cdn.example.com/${apiVersion}`) });
        inject({ payload: `batch-${apiVersion}` }, 'b1');
        await rec.settled(2);
        assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
        await helper.unload();
      }
      const paths = sandbox.state.requests.map((r: any) => `${r.method} ${r.path}`);
      assert.ok(paths.includes(`POST /v0/projects/${PROJECT}/jobs`), paths.join('\n'));
      assert.ok(paths.includes(`POST /v1/project/${PROJECT}/batch`), paths.join('\n'));
      assert.ok(paths.includes(`POST /v1/projects/${PROJECT}/jobs`), paths.join('\n'));
      assert.ok(paths.includes(`POST /v1/projects/${PROJECT}/batch`), paths.join('\n'));
    });
  });

  describe('bad input never reaches the API', () => {
    const uuid = '6f1c2d4e-8a9b-4c3d-9e8f-0a1b2c3d4e5f';
    const cases: Array<[string, Record<string, unknown>, RegExp, Record<string, unknown>?]> = [
      ['payload not an array', { payload: 'https://x.example/a.jpg' }, /msg\.payload must be an array/],
      ['empty sequence', { payload: [] }, /no frames/],
      ['frame of the wrong type', { payload: ['https://x.example/a.jpg', 42] }, /frame 1 must be a URL string/],
      ['relative URL', { payload: ['https://x.example/a.jpg', 'frames/b.jpg'] }, /frame 1: src must be an absolute/],
      ['ftp URL', { payload: ['ftp://x.example/a.jpg'] }, /frame 0: src scheme "ftp" is not allowed/],
      ['URL without a file name', { payload: ['https://x.example/'] }, /frame 0: cannot derive a frame_id/],
      [
        'duplicate frame ids',
        { payload: ['https://x.example/a/1.jpg', 'https://x.example/b/1.jpg'] },
        /frames 0 and 1 share frame_id "1.jpg"/,
      ],
      ['empty frame_id', { payload: [{ frame_id: '  ', src: 'https://x.example/1.jpg' }] }, /frame 0: frame_id must be a non-empty string/],
      ['missing src', { payload: [{ frame_id: 'a' }] }, /frame 0: src must be a URL string/],
      [
        'priority out of range',
        { payload: ['https://x.example/1.jpg'], priority_weight: 11 },
        /priority_weight must be an integer from 1 to 10/,
      ],
      ['priority not an integer', { payload: ['https://x.example/1.jpg'], priority_weight: 2.5 }, /priority_weight/],
      ['no tag or workflow', { payload: ['https://x.example/1.jpg'] }, /tag or work_flow_id is required/, { tag: '' }],
      [
        'reference id of the wrong type',
        { payload: ['https://x.example/1.jpg'], reference_id: { a: 1 } },
        /reference_id must be a non-empty string/,
      ],
      ['batch id of the wrong type', { payload: ['https://x.example/1.jpg'], batch_id: ['x'] }, /batch_id must be a non-empty string/],
      ['batch id not a UUID', { payload: ['https://x.example/1.jpg'], batch_id: 'drive-7' }, /batch_id must be a UUID/],
      [
        'overlap not below max frames',
        { payload: ['https://x.example/1.jpg'] },
        /overlap \(5\) must be smaller/,
        { maxFramesPerJob: 5, overlap: 5 },
      ],
      ['__proto__ frame', { payload: JSON.parse('[{"__proto__": {"src": "https://x.example/1.jpg"}}]') }, /src must be a URL string/],
      [
        'bulk with a bad sequence',
        { payload: [{ frames: ['https://x.example/1.jpg'] }, { frames: ['nope'], batch_id: uuid }] },
        /msg\.payload\[1\]\.frames frame 0/,
      ],
    ];
    for (const [name, msg, message, nodeProps] of cases) {
      it(`${name}: INVALID_INPUT at the Catch node, nothing sent`, async () => {
        const rec = await loadFlow(sandbox, [{ ...SUBMIT, ...nodeProps }]);
        const before = sandbox.state.requestCount;
        inject(msg);
        await rec.settled(1);
        assert.equal(rec.outputs.length, 0);
        assert.equal(rec.caught.length, 1);
        assert.equal(rec.caught[0].error.code, 'INVALID_INPUT');
        assert.match(rec.caught[0].error.message, message);
        assert.equal(sandbox.state.requestCount, before, 'no request reached the sandbox');
      });
    }

    it('create-batch without any name: INVALID_INPUT, nothing sent', async () => {
      const rec = await loadFlow(sandbox, [BATCH]);
      inject({ payload: 12.5 });
      inject({ payload: { description: 'no name' } });
      await rec.settled(2);
      assert.deepEqual(
        rec.caught.map((m) => m.error.code),
        ['INVALID_INPUT', 'INVALID_INPUT'],
      );
      assert.equal(sandbox.state.requestCount, 0);
    });
  });

  it('ends each of 250 messages exactly once (outputs and Catch)', async function () {
    this.timeout(60_000);
    const rec = await loadFlow(sandbox, [SUBMIT]);
    const ids = new Set<string>();
    for (let i = 0; i < 250; i++) {
      // Every fifth message is bad input, every seventh repeats an earlier sequence (FS_0001).
      const payload = i % 5 === 0 ? ['not a url'] : frames(3, `https://cdn.example.com/load/${i % 7 === 0 ? 0 : i}`);
      const msg = { payload, _msgid: `m${i}` };
      ids.add(msg._msgid);
      inject(msg);
    }
    await assertEachEndedOnce(rec, ids, 50_000, 100);
    assert.equal(rec.caught.filter((m) => m.error.code === 'INVALID_INPUT').length, 50);
    // Valid messages hold these distinct sequences (the seventh ones repeat sequence 0): each must
    // be created once, however often it was sent.
    const valid = [...Array(250).keys()].filter((i) => i % 5 !== 0);
    const sequences = new Set(valid.map((i) => (i % 7 === 0 ? 0 : i)));
    const creates = sandbox.state.requests.filter((r) => r.route === 'job.create');
    assert.equal(creates.filter((r) => r.status === 200).length, sequences.size, 'one create answered 200 per distinct sequence');
    assert.equal(creates.filter((r) => r.errorCode === 'FS_0001').length, valid.length - sequences.size, 'one FS_0001 per repeat');
    assert.equal(sandbox.state.jobs().length, sequences.size);
  });
});
