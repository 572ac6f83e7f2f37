/**
 * A sequence sent again (a re-run, a restart after a crash, a redelivery): with "If the job
 * exists" on "send the existing job on" (the default) the message continues with the job id the
 * first run got and `existing: true`; with "report FS_0001 as an error" it ends at the Catch node.
 * Nothing is stored twice, and looking the jobs up costs about one listing page per 100 jobs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sandbox } from '../../src/sandbox/server';
import { PROJECT, SUBMIT_NODE, frames, helper, inject, loadFlow, useSandboxRuntime } from '../support/harness';

const SEQUENCES = 250;

describe('submit: jobs that exist already', function () {
  this.timeout(60_000);
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  let dir: string;
  let file: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'playment-refeed-'));
    file = join(dir, 'frames.jsonl');
    // One frame list per line, as a file of frame lists holds them.
    const lines = Array.from({ length: SEQUENCES }, (_, i) => JSON.stringify(frames(3, `https://cdn.example.com/refeed/${i}`)));
    writeFileSync(file, lines.join('\n'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** file in (one message per line) → json → submit: the "frame lists read from a file" pattern. */
  function fileFlow(submit: Record<string, unknown> = {}) {
    return [
      {
        id: 'n1',
        type: 'file in',
        filename: file,
        filenameType: 'str',
        format: 'lines',
        encoding: 'none',
        allProps: false,
        wires: [['parse']],
      },
      { id: 'parse', type: 'json', property: 'payload', action: 'obj', wires: [['submit']] },
      { ...SUBMIT_NODE, id: 'submit', ...submit },
    ];
  }

  /** Feeds the file once; returns the outputs by reference id after every message ended once. */
  async function feedFile(submit: Record<string, unknown> = {}) {
    const rec = await loadFlow(sandbox, fileFlow(submit), { completeScope: ['submit'] });
    inject({ payload: '' });
    await rec.settled(SEQUENCES, 30_000);
    return rec;
  }

  function requestsSince(start: number, route: string) {
    return sandbox.state.requests.slice(start).filter((r) => r.route === route);
  }

  it('a re-feed after a restart ends each message with its original job id and existing: true, about one request per sequence', async () => {
    const first = await feedFile();
    assert.equal(first.outputs.length, SEQUENCES, JSON.stringify(first.caught.slice(0, 2).map((m) => m.error)));
    const original = new Map(first.outputs.map((m) => [m.reference_id, m.job_id]));
    assert.equal(original.size, SEQUENCES);
    // A new deployment: a new config node, a new client that has seen none of these jobs.
    await helper.unload();
    const start = sandbox.state.requests.length;

    const again = await feedFile();
    assert.equal(again.caught.length, 0, JSON.stringify(again.caught.slice(0, 2).map((m) => m.error)));
    assert.equal(again.outputs.length, SEQUENCES);
    for (const out of again.outputs) {
      assert.equal(out.job_id, original.get(out.reference_id), `${out.reference_id} keeps its job id`);
      assert.equal(out.payload.job_id, out.job_id);
      assert.equal(out.payload.existing, true);
      assert.equal(out.payload.recovered, undefined);
    }
    assert.equal(sandbox.state.jobs().length, SEQUENCES, 'nothing stored twice');
    // One create per sequence, the listing read once (100 jobs a page), the default batch looked up once.
    const creates = requestsSince(start, 'job.create');
    assert.equal(creates.length, SEQUENCES);
    assert.ok(creates.every((r) => r.errorCode === 'FS_0001'));
    const pages = requestsSince(start, 'batch.jobs').length;
    assert.ok(pages >= Math.ceil(SEQUENCES / 100) && pages <= Math.ceil(SEQUENCES / 100) + 1, `${pages} listing pages`);
    assert.equal(requestsSince(start, 'project.details').length, 1);
    const total = sandbox.state.requests.length - start;
    assert.ok(total <= SEQUENCES * 1.05, `${total} requests for ${SEQUENCES} sequences`);
  });

  it('a re-feed in the same deployment, and a third one, read the listing once in all', async () => {
    const rec = await loadFlow(sandbox, fileFlow(), { completeScope: ['submit'] });
    inject({ payload: '' });
    await rec.settled(SEQUENCES, 30_000);
    const original = new Map(rec.outputs.map((m) => [m.reference_id, m.job_id]));
    const start = sandbox.state.requests.length;
    for (let feed = 2; feed <= 3; feed++) {
      inject({ payload: '' });
      await rec.settled(feed * SEQUENCES, 30_000);
    }
    const again = rec.outputs.slice(SEQUENCES);
    assert.equal(again.length, 2 * SEQUENCES, JSON.stringify(rec.caught.slice(0, 2).map((m) => m.error)));
    for (const out of again) {
      assert.equal(out.job_id, original.get(out.reference_id));
      assert.equal(out.payload.existing, true);
    }
    const pages = requestsSince(start, 'batch.jobs').length;
    assert.ok(pages <= Math.ceil(SEQUENCES / 100) + 1, `${pages} listing pages for two re-feeds`);
    assert.equal(sandbox.state.jobs().length, SEQUENCES);
  });

  it('with "report FS_0001 as an error" each re-fed sequence ends at the Catch node with FS_0001', async () => {
    await feedFile({ existing: 'error' });
    await helper.unload();
    const start = sandbox.state.requests.length;
    const again = await feedFile({ existing: 'error' });
    assert.equal(again.outputs.length, 0);
    assert.equal(again.caught.length, SEQUENCES);
    for (const m of again.caught) {
      assert.equal(m.error.code, 'FS_0001');
      assert.equal(m.statusCode, 400);
      assert.match(m.reference_id, /^nr-[0-9a-f]{32}$/);
    }
    assert.equal(requestsSince(start, 'batch.jobs').length, 0, 'nothing looked up');
    assert.equal(sandbox.state.jobs().length, SEQUENCES);
  });

  it('a given reference id sent again passes the first job on (existing: true); with "error" it is FS_0001', async () => {
    const rec = await loadFlow(
      sandbox,
      [
        {
          id: 'n1',
          type: 'function',
          func: 'msg.reference_id = "scene-42"; msg.payload = msg.payload.split(","); return msg;',
          wires: [['submit']],
        },
        { ...SUBMIT_NODE, id: 'submit' },
        { ...SUBMIT_NODE, id: 'strict', existing: 'error' },
      ],
      { completeScope: ['submit', 'strict'] },
    );
    inject({ payload: frames(2, 'https://cdn.example.com/given-a').join(',') });
    await rec.settled(1);
    const first = rec.outputs[0];
    assert.equal(first.reference_id, 'scene-42');
    // Other frames under the same reference id: Playment keeps the first job, as its duplicate check says.
    inject({ payload: frames(4, 'https://cdn.example.com/given-b').join(',') });
    await rec.settled(2);
    assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
    assert.equal(rec.outputs[1].job_id, first.job_id);
    assert.deepEqual(rec.outputs[1].payload, {
      job_id: first.job_id,
      reference_id: 'scene-42',
      tag: 'track_bounding_boxes',
      existing: true,
    });
    assert.equal(first.payload.existing, undefined, 'the first message created its job');

    inject({ payload: frames(1, 'https://cdn.example.com/given-c'), reference_id: 'scene-42' }, 'strict');
    await rec.settled(3);
    assert.equal(rec.caught.length, 1);
    assert.equal(rec.caught[0].error.code, 'FS_0001');
    assert.equal(sandbox.state.jobsByReferenceId(PROJECT, 'scene-42').length, 1);
  });

  it('each sequence of a re-fed bulk message is passed on with its job id', async () => {
    const rec = await loadFlow(sandbox, [SUBMIT_NODE]);
    const payload = [0, 1, 2].map((i) => ({ frames: frames(2, `https://cdn.example.com/bulk-again/${i}`) }));
    inject({ _msgid: 'first', payload });
    await rec.settled(3);
    inject({ _msgid: 'again', payload });
    await rec.settled(6);
    const [first, again] = [rec.outputs.slice(0, 3), rec.outputs.slice(3)];
    assert.deepEqual(
      again.map((m) => m.job_id),
      first.map((m) => m.job_id),
    );
    assert.deepEqual(
      again.map((m) => [m.payload.existing, m.parts.index, m.parts.count]),
      [
        [true, 0, 3],
        [true, 1, 3],
        [true, 2, 3],
      ],
    );
    assert.equal(sandbox.state.jobs().length, 3);
  });

  it('a lost answer is recovered with "error" too, and says recovered, not existing', async () => {
    const rec = await loadFlow(sandbox, [{ ...SUBMIT_NODE, existing: 'error' }], { config: { maxRetries: 3 } });
    sandbox.injectFault({ route: 'job.create', mode: 'reset-after', count: 1 });
    inject({ payload: frames(3, 'https://cdn.example.com/lost-answer') });
    await rec.settled(1);
    assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
    const stored = sandbox.state.jobs();
    assert.equal(stored.length, 1);
    assert.equal(rec.outputs[0].job_id, stored[0].jobId);
    assert.equal(rec.outputs[0].payload.recovered, true);
    assert.equal(rec.outputs[0].payload.existing, undefined);
  });

  it('a reference id used in another batch cannot be passed on: DUPLICATE_UNRESOLVED says where it looked', async () => {
    const rec = await loadFlow(sandbox, [
      { id: 'b1', type: 'playment-create-batch', batchName: 'elsewhere', batchNameType: 'str', wires: [['ch']] },
      { id: 'ch', type: 'change', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'frames', tot: 'msg' }], wires: [['n0']] },
      { ...SUBMIT_NODE, id: 'n0', referenceId: 'shared-ref', referenceIdType: 'str' },
      { ...SUBMIT_NODE, id: 'n1', referenceId: 'shared-ref', referenceIdType: 'str' },
    ]);
    inject({ frames: frames(2, 'https://cdn.example.com/other-batch') }, 'b1');
    await rec.settled(1);
    assert.ok(rec.outputs[0].batch_id, JSON.stringify(rec.caught.map((m) => m.error)));
    inject({ payload: frames(3, 'https://cdn.example.com/default-batch') });
    await rec.settled(2);
    assert.equal(rec.caught.length, 1);
    assert.equal(rec.caught[0].error.code, 'DUPLICATE_UNRESOLVED');
    assert.match(rec.caught[0].error.message, /shared-ref.*FS_0001.*not in the project's default batch/);
    assert.equal(sandbox.state.jobsByReferenceId(PROJECT, 'shared-ref').length, 1);
  });
});
