/** The labeling loop: dry runs, split and bulk submissions, natural order, results and annotations. */
import assert from 'node:assert/strict';
import type { Sandbox } from '../src/sandbox/server';
import { PROJECT, SUBMIT_NODE, frames, helper, inject, loadFlow, useSandboxRuntime, withSandbox } from './support/harness';
import { startRestartableNodeRed } from './support/restartable-node-red';
import { waitFor } from './support/wait';

const SUBMIT = SUBMIT_NODE;
// The shortest poll interval the node accepts (limits.ts).
const RESULT = { type: 'playment-job-result', pollInterval: '1', wires: [['out']] };

describe('the labeling loop', function () {
  this.timeout(30_000);
  let sandbox!: Sandbox;
  useSandboxRuntime({ completionDelayMs: 300 }, (s) => (sandbox = s));

  describe('submit options', () => {
    it('dry run outputs the exact request and sends nothing (node option and msg.dry_run)', async () => {
      const rec = await loadFlow(sandbox, [SUBMIT, { ...SUBMIT, id: 'n2', dryRun: true }]);
      inject({ payload: frames(2), dry_run: true });
      inject({ payload: frames(2) }, 'n2');
      await rec.settled(2);
      assert.equal(rec.caught.length, 0);
      for (const out of rec.outputs) {
        assert.equal(out.payload.dry_run, true);
        assert.equal(out.payload.request.method, 'POST');
        assert.equal(out.payload.request.path, `/v0/projects/${PROJECT}/jobs`);
        assert.equal(out.payload.request.body.reference_id, out.reference_id);
        assert.equal(out.payload.request.body.tag, 'track_bounding_boxes');
        assert.equal(out.payload.request.body.data.video_data.frames[1].frame_id, 'frame_0001.jpg');
        assert.equal(out.job_id, undefined);
      }
      assert.equal(sandbox.state.requestCount, 0);
    });

    it('splits a long sequence with overlap into parts a join node gathers', async () => {
      const rec = await loadFlow(sandbox, [
        { ...SUBMIT, maxFramesPerJob: '4', overlap: '1', referenceId: 'drive-7', referenceIdType: 'str', wires: [['join']] },
        { id: 'join', type: 'join', mode: 'auto', wires: [['out']] },
      ]);
      inject({ payload: frames(10) });
      await rec.settled(1);
      assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
      const joined = rec.outputs[0].payload;
      assert.deepEqual(
        joined.map((p: any) => p.reference_id),
        ['drive-7-part-1', 'drive-7-part-2', 'drive-7-part-3'],
      );
      const stored = ['drive-7-part-1', 'drive-7-part-2', 'drive-7-part-3'].map((ref) =>
        sandbox.state.jobsByReferenceId(PROJECT, ref)[0].frames.map((f) => f.frame_id.slice(6, 10)),
      );
      assert.deepEqual(stored, [
        ['0000', '0001', '0002', '0003'],
        ['0003', '0004', '0005', '0006'],
        ['0006', '0007', '0008', '0009'],
      ]);
    });

    it('orders frames naturally when asked: frame_9 before frame_10', async () => {
      const rec = await loadFlow(sandbox, [{ ...SUBMIT, frameOrder: 'natural' }]);
      const names = ['frame_10.jpg', 'frame_9.jpg', 'frame_1.jpg', 'frame_100.jpg'];
      inject({ payload: names.map((n) => `https://cdn.example.com/nat/${n}`) });
      await rec.settled(1);
      const job = sandbox.state.jobs()[0];
      assert.deepEqual(
        job.frames.map((f) => f.frame_id),
        ['frame_1.jpg', 'frame_9.jpg', 'frame_10.jpg', 'frame_100.jpg'],
      );
    });

    it('keeps the given order by default', async () => {
      const rec = await loadFlow(sandbox, [SUBMIT]);
      const names = ['frame_10.jpg', 'frame_9.jpg'];
      inject({ payload: names.map((n) => `https://cdn.example.com/given/${n}`) });
      await rec.settled(1);
      assert.deepEqual(
        sandbox.state.jobs()[0].frames.map((f) => f.frame_id),
        names,
      );
    });

    it('submits a bulk payload of sequences, one output each, and reports a failed one after sending the rest', async () => {
      const rec = await loadFlow(sandbox, [SUBMIT]);
      inject({
        payload: [
          { reference_id: 'bulk-a', frames: frames(2, 'https://cdn.example.com/a') },
          { frames: frames(2, 'https://cdn.example.com/b'), priority_weight: 9 },
          { reference_id: 'bulk-c', frames: frames(2, 'https://cdn.example.com/c'), batch_id: '6f1c2d4e-8a9b-4c3d-9e8f-0a1b2c3d4e5f' },
        ],
      });
      await rec.settled(3);
      assert.equal(rec.outputs.length, 2);
      assert.equal(rec.outputs[0].reference_id, 'bulk-a');
      assert.match(rec.outputs[1].reference_id, /^nr-[0-9a-f]{32}$/);
      // Numbered among the outputs sent, so a join completes with them.
      assert.deepEqual(
        rec.outputs.map((m) => [m.parts.index, m.parts.count]),
        [
          [0, 2],
          [1, 2],
        ],
      );
      assert.equal(rec.caught.length, 1);
      assert.equal(rec.caught[0].error.code, 'GE_0001');
      assert.match(rec.caught[0].error.message, /: 1 of 3 jobs failed \(the other 2 were sent on\): bulk-c/);
      assert.equal(sandbox.state.jobsByReferenceId(PROJECT, rec.outputs[1].reference_id)[0].priorityWeight, 9);
    });

    it('says so when every job of a bulk or split message failed: no output, one error, none sent on', async () => {
      const unknownBatch = '6f1c2d4e-8a9b-4c3d-9e8f-0a1b2c3d4e5f';
      const rec = await loadFlow(sandbox, [
        SUBMIT,
        { ...SUBMIT, id: 'n2', maxFramesPerJob: '2', batchId: unknownBatch, batchIdType: 'str' },
      ]);
      inject({
        payload: [
          { reference_id: 'all-a', frames: frames(2, 'https://cdn.example.com/all-a'), batch_id: unknownBatch },
          { reference_id: 'all-b', frames: frames(2, 'https://cdn.example.com/all-b'), batch_id: unknownBatch },
        ],
      });
      inject({ payload: frames(5, 'https://cdn.example.com/all-split'), reference_id: 'all-split' }, 'n2');
      await rec.settled(2);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(rec.outputs.length, 0);
      assert.equal(rec.caught.length, 2);
      const byRef = (ref: string) => rec.caught.find((m) => m.error.message.includes(ref));
      const bulk = byRef('all-a').error;
      assert.equal(bulk.code, 'GE_0001');
      assert.match(bulk.message, /: all 2 jobs failed \(none was sent on\): all-a: .*; all-b: /);
      assert.doesNotMatch(bulk.message, /others|other \d/);
      const split = byRef('all-split-part-1').error;
      assert.equal(split.code, 'GE_0001');
      assert.match(split.message, /: all 3 jobs failed \(none was sent on\): all-split-part-1: .*all-split-part-3: /);
      assert.equal(sandbox.state.jobs().length, 0);
    });

    it('a dry run needs no API key, nor a base URL that could be used to send', async () => {
      // The same dry runs with a usable account, for comparison.
      const withKey = await loadFlow(sandbox, [{ ...SUBMIT, dryRun: true }], { apiVersion: 'v1' });
      inject({ payload: frames(3, 'https://cdn.example.com/dry-nokey') });
      inject({
        payload: [{ frames: frames(1, 'https://cdn.example.com/dry-bulk') }, { frames: frames(2, 'https://cdn.example.com/dry-bulk2') }],
      });
      await withKey.settled(3);
      assert.equal(withKey.caught.length, 0, JSON.stringify(withKey.caught.map((m) => m.error)));
      const expected = withKey.outputs.map((m) => ({ reference_id: m.reference_id, payload: m.payload }));
      await helper.unload();

      const accounts: Array<{ apiKey?: string; baseUrl?: string }> = [{ apiKey: '' }, { baseUrl: 'http://api.example.com' }];
      for (const opts of accounts) {
        const rec = await loadFlow(sandbox, [SUBMIT, { ...SUBMIT, id: 'n2', dryRun: true }], { apiVersion: 'v1', ...opts });
        inject({ payload: frames(3, 'https://cdn.example.com/dry-nokey'), dry_run: true });
        inject(
          {
            payload: [
              { frames: frames(1, 'https://cdn.example.com/dry-bulk') },
              { frames: frames(2, 'https://cdn.example.com/dry-bulk2') },
            ],
          },
          'n2',
        );
        // Sending still needs the key, with the same error as before.
        inject({ payload: frames(1, 'https://cdn.example.com/dry-real') });
        await rec.settled(4);
        assert.deepEqual(
          rec.outputs.map((m) => ({ reference_id: m.reference_id, payload: m.payload })),
          expected,
          JSON.stringify(opts),
        );
        assert.equal(rec.outputs[0].payload.request.path, `/v1/projects/${PROJECT}/jobs`);
        assert.equal(rec.caught.length, 1);
        assert.equal(rec.caught[0].error.code, 'NOT_CONFIGURED');
        assert.match(rec.caught[0].error.message, opts.baseUrl ? /must use https/ : /API key is missing/);
        assert.equal(helper.getNode('n2').status.lastCall.args[0].fill, 'green');
        await helper.unload();
      }
      assert.equal(sandbox.state.requestCount, 0);
    });

    it('a dry run still needs a config node with a project id: NOT_CONFIGURED, nothing sent', async () => {
      const rec = await loadFlow(sandbox, [{ ...SUBMIT, dryRun: true, config: '' }]);
      inject({ payload: frames(1) });
      await rec.settled(1);
      assert.equal(rec.caught[0].error.code, 'NOT_CONFIGURED');
      assert.match(rec.caught[0].error.message, /no playment-config node is selected/);
      await helper.unload();

      const rec2 = await loadFlow(sandbox, [{ ...SUBMIT, dryRun: true }], { apiKey: '', projectId: '  ' });
      inject({ payload: frames(1) });
      await rec2.settled(1);
      assert.equal(rec2.caught[0].error.code, 'NOT_CONFIGURED');
      assert.match(rec2.caught[0].error.message, /project id is required/);
      await helper.unload();

      // A refused project id: the dry run says why, not that it is missing.
      const rec3 = await loadFlow(sandbox, [{ ...SUBMIT, dryRun: true }], { apiKey: '', projectId: '..' });
      inject({ payload: frames(1) });
      await rec3.settled(1);
      assert.equal(rec3.caught[0].error.code, 'NOT_CONFIGURED');
      assert.match(rec3.caught[0].error.message, /projectId: .*\.\./);
      assert.equal(sandbox.state.requestCount, 0);
    });

    it('shows n/m progress while a bulk message is submitted', async () => {
      const rec = await loadFlow(sandbox, [SUBMIT]);
      const node = helper.getNode('n1');
      inject({ payload: [1, 2, 3].map((i) => ({ frames: frames(1, `https://cdn.example.com/p${i}`) })) });
      await rec.settled(3);
      const texts = node.status.args.map((a: any[]) => a[0].text);
      // The catalogue is not loaded in the test runtime: status texts are their keys.
      assert.ok(texts.filter((t: string) => t.endsWith('status.progress')).length >= 4, texts.join(','));
      assert.equal(node.status.lastCall.args[0].fill, 'green');
    });
  });

  describe('playment-job-result', () => {
    async function submitOne(to: Sandbox = sandbox): Promise<string> {
      const rec = await loadFlow(to, [SUBMIT]);
      inject({ payload: frames(3, `https://cdn.example.com/r${Math.random()}`) });
      await rec.settled(1);
      const jobId = rec.outputs[0].job_id;
      await helper.unload();
      return jobId;
    }

    /**
     * Runs `test` against a sandbox of its own whose jobs complete `completionDelayMs` after
     * creation: with the suite's 0.3 s, a loaded machine can take longer to deploy a flow than a
     * job takes to complete, and a test about waiting would see a completed job at once.
     */
    async function withSlowJobs(completionDelayMs: number, test: (slow: Sandbox) => Promise<void>): Promise<void> {
      const slow = await withSandbox({ completionDelayMs });
      try {
        await test(slow);
      } finally {
        await helper.unload();
        await slow.close();
      }
    }

    it('fetches a job once', async () => {
      const jobId = await submitOne();
      const rec = await loadFlow(sandbox, [{ ...RESULT, id: 'n1', mode: 'once' }]);
      inject({ job_id: jobId, topic: 'keep' });
      await rec.settled(1);
      const p = rec.outputs[0].payload;
      assert.equal(p.job_id, jobId);
      assert.equal(p.status, 'created');
      assert.equal(p.tag, 'track_bounding_boxes');
      assert.equal(rec.outputs[0].topic, 'keep');
    });

    it('waits until completed and downloads the annotations without sending the key to the storage host', async () => {
      await withSlowJobs(5000, async (sandbox) => {
        const jobId = await submitOne(sandbox);
        const rec = await loadFlow(sandbox, [{ ...RESULT, id: 'n1', mode: 'wait', download: true }]);
        inject({ payload: { job_id: jobId } });
        await rec.settled(1);
        assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
        const p = rec.outputs[0].payload;
        assert.equal(p.status, 'completed');
        assert.ok(p.result.startsWith('https://'));
        assert.ok(Array.isArray(p.annotations) && p.annotations.length > 0);
        const tracker = p.annotations[0];
        assert.ok(tracker.frames['frame_0000.jpg'] || Object.keys(tracker.frames).length > 0);
        assert.ok(sandbox.state.storageRequests.length >= 1, 'the signed URL was fetched');
        assert.ok(
          sandbox.state.storageRequests.every((r) => !r.apiKeyPresent),
          'no key reached the storage host',
        );
        const polls = sandbox.state.requests.filter((r) => r.route === 'job.get').length;
        assert.ok(polls >= 2, `polled ${polls} times`);
      });
    });

    it('ends with TIMEOUT after the maximum wait', async () => {
      await withSlowJobs(600_000, async (slow) => {
        const jobId = await submitOne(slow);
        const rec = await loadFlow(slow, [{ ...RESULT, id: 'n1', mode: 'wait', maxWait: '0.0001' }]);
        inject({ job_id: jobId });
        await rec.settled(1);
        assert.equal(rec.outputs.length, 0);
        assert.equal(rec.caught[0].error.code, 'TIMEOUT');
      });
    });

    it('ends waiting messages with ABORTED on close', async () => {
      await withSlowJobs(600_000, async (sandbox) => {
        const jobId = await submitOne(sandbox);
        await loadFlow(sandbox, [{ ...RESULT, id: 'n1', mode: 'wait', pollInterval: '30' }]);
        const node = helper.getNode('n1');
        inject({ job_id: jobId, _msgid: 'w1' });
        inject({ job_id: jobId, _msgid: 'w2' });
        // Both wait for the same job: the account's poller learns its batch with one GET for both.
        await waitFor('the waits to poll', () => sandbox.state.routeCounts['job.get'] >= 1, 5000, 10);
        await helper.clearFlows();
        const errs = node.error.args.map(([e, m]: [any, any]) => [e.code, m._msgid]);
        assert.deepEqual(errs.sort(), [
          ['ABORTED', 'w1'],
          ['ABORTED', 'w2'],
        ]);
      });
    });

    it('resumes waits kept at a stop when Node-RED starts again (a real restart, persistent context)', async function () {
      this.timeout(120_000);
      const live = await startRestartableNodeRed(sandbox);
      try {
        await live.deploy({ ...RESULT, mode: 'wait', pollInterval: '30' });
        const jobId = await submitOne();
        // The first poll gets no answer until the stop: the wait cannot end before it.
        sandbox.injectFault({ route: 'job.get', mode: 'delay', delayMs: 60_000 });
        const polls = sandbox.state.routeCounts['job.get'] ?? 0;
        await live.inject({ job_id: jobId, topic: 'resume-me' });
        await waitFor('the first poll', () => sandbox.state.routeCounts['job.get'] > polls, 5000, 10);
        await live.stop();
        assert.deepEqual(live.records(), [], 'the wait had not ended when Node-RED stopped');
        const [err] = live.errors();
        assert.equal(err?.node, 'n1');
        assert.equal(err.code, 'ABORTED');
        assert.match(err.message, /resumes when the node starts again/);
        // Let the sandbox complete the job, then start Node-RED again: the kept wait resumes.
        await waitFor(
          'the job to complete',
          () => sandbox.state.jobs().find((j) => j.jobId === jobId)!.completesAtMs <= Date.now(),
          5000,
          10,
        );
        await live.start();
        await waitFor('the resumed wait to end', () => live.records().length >= 1, 30_000, 20);
        const records = live.records();
        assert.equal(records.length, 1);
        assert.equal(records[0].topic, 'resume-me');
        assert.equal(records[0].payload.job_id, jobId);
        assert.equal(records[0].payload.status, 'completed');
      } finally {
        await live.close();
      }
    });

    it('says what is missing without a job id, and sends nothing', async () => {
      const rec = await loadFlow(sandbox, [{ ...RESULT, id: 'n1', mode: 'once' }]);
      inject({ payload: 'nope' });
      await rec.settled(1);
      assert.equal(rec.caught[0].error.code, 'INVALID_INPUT');
      assert.match(rec.caught[0].error.message, /msg\.job_id/);
      assert.equal(sandbox.state.requestCount, 0);
    });
  });
});
