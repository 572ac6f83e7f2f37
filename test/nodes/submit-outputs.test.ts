/**
 * Bulk and split messages: every output is its own message, a join after a core split completes
 * also when some jobs fail, and the Catch node gets the input as it arrived with msg.failed.
 */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { PROJECT, SUBMIT_NODE, assertDoneOnce, frames, inject, loadFlow, useSandboxRuntime } from '../support/harness';
import { waitFor } from '../support/wait';

const UNKNOWN_BATCH = '6f1c2d4e-8a9b-4c3d-9e8f-0a1b2c3d4e5f';

function sequence(name: string, extra: Record<string, unknown> = {}) {
  return { reference_id: name, frames: frames(2, `https://cdn.example.com/${name}`), ...extra };
}

describe('submit: bulk and split outputs', () => {
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  it('core split → bulk submit → join → join completes with the jobs sent when one fails; the Catch message is the input with msg.failed', async () => {
    const rec = await loadFlow(sandbox, [
      {
        id: 'n1',
        type: 'split',
        splt: '\\n',
        spltType: 'str',
        arraySplt: 1,
        arraySpltType: 'len',
        stream: false,
        addname: '',
        wires: [['submit']],
      },
      { ...SUBMIT_NODE, id: 'submit', wires: [['inner']] },
      { id: 'inner', type: 'join', mode: 'auto', wires: [['outer']] },
      { id: 'outer', type: 'join', mode: 'auto', wires: [['out']] },
    ]);
    // Two bulk messages after the split; the second one's last sequence names a batch Playment refuses.
    const groups = [
      [sequence('grp-a'), sequence('grp-b')],
      [sequence('grp-c'), sequence('grp-d', { batch_id: UNKNOWN_BATCH })],
    ];
    inject({ payload: groups, topic: 'drive-9' });
    await rec.settled(2);
    assert.equal(rec.outputs.length, 1, 'the outer join completed');
    assert.equal(rec.caught.length, 1);

    const joined = rec.outputs[0];
    assert.deepEqual(
      joined.payload.map((group: any[]) => group.map((p) => p.reference_id)),
      [['grp-a', 'grp-b'], ['grp-c']],
    );
    assert.equal(joined.topic, 'drive-9');
    assert.equal(joined.parts, undefined, 'every level of msg.parts was joined');

    const caught = rec.caught[0];
    assert.equal(caught.error.code, 'GE_0001');
    assert.match(caught.error.message, /1 of 2 jobs failed \(the other 1 was sent on\): grp-d/);
    assert.deepEqual(caught.payload, groups[1], 'the original payload');
    assert.equal(caught.job_id, undefined);
    assert.equal(caught.reference_id, undefined);
    assert.equal(caught.parts.index, 1, "the split's own parts, untouched");
    assert.equal(caught.parts.count, 2);
    assert.deepEqual(caught.failed, [
      { index: 1, sequence: 1, reference_id: 'grp-d', code: 'GE_0001', message: caught.failed[0].message, statusCode: 400 },
    ]);
    assert.ok(caught.failed[0].message.length > 0);
    assert.deepEqual(
      sandbox.state
        .jobs()
        .map((j: any) => j.referenceId)
        .sort(),
      ['grp-a', 'grp-b', 'grp-c'],
    );
  });

  it('every output of a bulk message is its own copy carrying the input msg.parts inside, numbered among those sent', async () => {
    const rec = await loadFlow(sandbox, [{ ...SUBMIT_NODE, wires: [['out']] }]);
    const outerParts = { id: 'outer-seq', index: 3, count: 5, type: 'array', len: 1 };
    const payload = [sequence('own-a'), sequence('own-b', { batch_id: UNKNOWN_BATCH }), sequence('own-c'), sequence('own-d')];
    inject({ _msgid: 'bulk-1', payload, parts: outerParts, custom: { nested: [1] } });
    await rec.settled(4);
    assert.equal(rec.outputs.length, 3);
    const refs = rec.outputs.map((m) => m.reference_id);
    assert.deepEqual([...refs].sort(), ['own-a', 'own-c', 'own-d']);
    for (const [i, out] of rec.outputs.entries()) {
      assert.deepEqual(out.parts, { id: 'bulk-1', index: out.parts.index, count: 3, type: 'array', len: 1, parts: outerParts });
      assert.equal(out.payload.reference_id, out.reference_id);
      assert.equal(out.payload.job_id, out.job_id);
      for (const other of rec.outputs.slice(i + 1)) {
        assert.notEqual(out, other);
        assert.notEqual(out.parts, other.parts);
        assert.notEqual(out.parts.parts, other.parts.parts);
        assert.notEqual(out.custom, other.custom);
      }
    }
    assert.deepEqual(rec.outputs.map((m) => m.parts.index).sort(), [0, 1, 2]);
    // Indexes follow the jobs' order in the message.
    assert.deepEqual(
      [...rec.outputs].sort((a, b) => a.parts.index - b.parts.index).map((m) => m.reference_id),
      ['own-a', 'own-c', 'own-d'],
    );
    const caught = rec.caught[0];
    assert.deepEqual(caught.payload, payload);
    assert.deepEqual(caught.parts, outerParts);
    assert.equal(caught.job_id, undefined);
    assert.equal(caught.statusCode, 400);
    assert.deepEqual(
      caught.failed.map((f: any) => [f.index, f.sequence, f.reference_id, f.code, f.statusCode]),
      [[1, 1, 'own-b', 'GE_0001', 400]],
    );
    assert.deepEqual(caught.custom, { nested: [1] });
  });

  it('a split sequence with one part failing: the join completes with the parts sent, msg.failed names the part', async () => {
    const rec = await loadFlow(sandbox, [
      { ...SUBMIT_NODE, maxFramesPerJob: '2', overlap: '0', referenceId: 'long-1', referenceIdType: 'str', wires: [['join']] },
      { id: 'join', type: 'join', mode: 'auto', wires: [['out']] },
    ]);
    // Any other 4xx than 400 is final: the part that takes the fault fails, the others go through.
    sandbox.injectFault({ route: 'job.create', mode: 'status', status: 422, count: 1 });
    const payload = frames(6, 'https://cdn.example.com/long');
    inject({ payload });
    await rec.settled(2);
    assert.equal(rec.outputs.length, 1, 'the join completed');
    assert.equal(rec.caught.length, 1);
    const sent = rec.outputs[0].payload.map((p: any) => p.reference_id);
    const failed = rec.caught[0].failed;
    assert.equal(failed.length, 1);
    assert.equal(sent.length, 2);
    assert.deepEqual([...sent, failed[0].reference_id].sort(), ['long-1-part-1', 'long-1-part-2', 'long-1-part-3']);
    assert.equal(failed[0].reference_id, `long-1-part-${failed[0].index + 1}`);
    assert.equal(failed[0].sequence, 0);
    assert.equal(failed[0].statusCode, 422);
    assert.deepEqual(rec.caught[0].payload, payload);
    assert.equal(rec.caught[0].job_id, undefined);
    assert.equal(rec.caught[0].parts, undefined);
  });

  it('a Catch → retry flow resends exactly the failed sequences from msg.failed', async () => {
    const rec = await loadFlow(
      sandbox,
      [
        { ...SUBMIT_NODE, wires: [['out']] },
        {
          id: 'fix',
          type: 'function',
          func: `if (msg.error.source.id !== 'n1') return null;
msg.payload = msg.failed.map((f) => { const seq = msg.payload[f.sequence]; delete seq.batch_id; return seq; });
delete msg.error;
return msg;`,
          outputs: 1,
          wires: [['retry']],
        },
        { ...SUBMIT_NODE, id: 'retry', wires: [['out']] },
      ],
      { catchAlsoTo: ['fix'] },
    );
    inject({ payload: [sequence('retry-a'), sequence('retry-b', { batch_id: UNKNOWN_BATCH }), sequence('retry-c')] });
    await rec.settled(4);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(rec.caught.length, 1);
    assert.deepEqual(rec.outputs.map((m) => m.reference_id).sort(), ['retry-a', 'retry-b', 'retry-c']);
    const resent = rec.outputs.find((m) => m.reference_id === 'retry-b');
    assert.equal(resent.failed, undefined, 'the retried message no longer lists failures');
    assert.equal(resent.parts, undefined, 'one job: the message itself');
    assert.deepEqual(
      sandbox.state
        .jobs()
        .map((j: any) => j.referenceId)
        .sort(),
      ['retry-a', 'retry-b', 'retry-c'],
    );
  });

  it('a failing single job leaves the input message as it was, apart from reference_id and statusCode', async () => {
    const rec = await loadFlow(sandbox, [{ ...SUBMIT_NODE, batchId: UNKNOWN_BATCH, batchIdType: 'str' }]);
    const payload = frames(2, 'https://cdn.example.com/single');
    inject({ _msgid: 'single-1', payload, topic: 't' });
    await rec.settled(1);
    const caught = rec.caught[0];
    const { error, reference_id, statusCode, ...rest } = caught;
    assert.equal(error.code, 'GE_0001');
    assert.equal(statusCode, 400);
    assert.equal(typeof reference_id, 'string');
    assert.deepEqual(rest, { _msgid: 'single-1', payload, topic: 't' });
  });

  it('each message of a bulk burst calls done once, and the Catch messages hold only their own failures', async () => {
    const rec = await loadFlow(sandbox, [{ ...SUBMIT_NODE, wires: [['out']] }]);
    const ids = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const _msgid = `burst-${i}`;
      ids.add(_msgid);
      const bad = i % 2 === 0 ? { batch_id: UNKNOWN_BATCH } : {};
      inject({ _msgid, payload: [sequence(`burst-${i}-a`), sequence(`burst-${i}-b`, bad)] });
    }
    await waitFor('every message to end', () => rec.completed.length + rec.caught.length >= ids.size, 15_000, 5);
    await rec.settled(9);
    assertDoneOnce(rec, ids);
    assert.equal(rec.outputs.length, 9);
    for (const m of rec.caught) {
      assert.deepEqual(
        m.failed.map((f: any) => f.reference_id),
        [`${m._msgid}-b`],
      );
      assert.equal(m.payload.length, 2);
    }
    assert.equal(sandbox.state.jobsByReferenceId(PROJECT, 'burst-1-b').length, 1);
  });
});
