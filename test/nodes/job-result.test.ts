/**
 * playment-job-result: ids that would leave their path segment, what a waiting message shows and
 * says when it ends (in both context-store cases), and bounded result downloads.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sandbox } from '../../src/sandbox/server';
import { StatusBoard } from '../../src/nodes/common/status';
import { SUBMIT_NODE, frames, helper, inject, loadFlow, useSandboxRuntime } from '../support/harness';
import { waitFor } from '../support/wait';
import { readFileSync } from 'node:fs';

// The shortest poll interval the node accepts (limits.ts).
const RESULT = { id: 'n1', type: 'playment-job-result', pollInterval: '1', wires: [['out']] };
const MIB = 1024 * 1024;
/** Downloads one account runs at once (the client's MAX_CONCURRENT_DOWNLOADS). */
const MAX_CONCURRENT_DOWNLOADS = 2;
const catalogue = JSON.parse(readFileSync(require.resolve('../../nodes/locales/en-US/playment-job-result.json'), 'utf8'));

describe('playment-job-result', function () {
  this.timeout(30_000);
  let sandbox!: Sandbox;
  useSandboxRuntime({ completionDelayMs: 60_000 }, (s) => (sandbox = s));

  async function submitOne(): Promise<string> {
    const rec = await loadFlow(sandbox, [SUBMIT_NODE]);
    inject({ payload: frames(2, `https://cdn.example.com/${Math.random()}`) });
    await rec.settled(1);
    await helper.unload();
    return rec.outputs[0].job_id;
  }

  describe('job ids', () => {
    for (const id of ['.', '..', ' .. ']) {
      it(`refuses the job id ${JSON.stringify(id)} with INVALID_INPUT and sends nothing`, async () => {
        const rec = await loadFlow(sandbox, [{ ...RESULT, mode: 'once' }]);
        inject({ job_id: id });
        await rec.settled(1);
        assert.equal(rec.outputs.length, 0);
        assert.equal(rec.caught[0].error.code, 'INVALID_INPUT');
        assert.match(rec.caught[0].error.message, /job id/);
        assert.equal(sandbox.state.requestCount, 0);
      });
    }
  });

  describe('waiting', () => {
    it('shows a waiting message as waiting, not in flight', async () => {
      const jobId = await submitOne();
      await loadFlow(sandbox, [{ ...RESULT, mode: 'wait', pollInterval: '30' }]);
      const node = helper.getNode('n1');
      inject({ job_id: jobId });
      await waitFor(
        'the waiting status',
        () => node.status.args.some((a: any[]) => a[0].text === 'playment-job-result.status.waiting'),
        5000,
        10,
      );
      assert.equal(node.status.lastCall.args[0].text, 'playment-job-result.status.waiting');
    });

    it('counts waiting, queued and in-flight messages with the catalogue texts', () => {
      const shown: string[] = [];
      const red = { _: (key: string, vars: Record<string, unknown> = {}) => fill(key, vars) } as any;
      const board = new StatusBoard(red, { status: (s: any) => shown.push(s.text) } as any, 'playment-job-result');
      board.enqueue();
      board.start();
      board.beginWait();
      assert.equal(shown.at(-1), '1 waiting');
      board.enqueue();
      board.start();
      assert.equal(shown.at(-1), '1 waiting, 1 in flight');
      board.enqueue();
      assert.equal(shown.at(-1), '1 waiting, 1 queued, 1 in flight');
      board.endWait();
      board.finish(true, { ok: true, text: 'completed' });
      assert.equal(shown.at(-1), '1 queued, 1 in flight');
    });

    it('counts waiting and done jobs with thousands separators: "1,234 waiting, 56 done"', () => {
      const shown: string[] = [];
      const red = { _: (key: string, vars: Record<string, unknown> = {}) => fill(key, vars) } as any;
      const board = new StatusBoard(red, { status: (s: any) => shown.push(s.text) } as any, 'playment-job-result');
      for (let i = 0; i < 1290; i++) {
        board.enqueue();
        board.start();
        board.beginWait();
      }
      assert.equal(shown.at(-1), '1,290 waiting');
      for (let i = 0; i < 56; i++) {
        board.countJobs(-1, 1);
        board.endWait(0);
        board.finish(true, { ok: true, text: 'completed' });
      }
      assert.equal(shown.at(-1), '1,234 waiting, 56 done');
    });

    it('says the maximum wait exactly when it ends with TIMEOUT', async () => {
      const jobId = await submitOne();
      const rec = await loadFlow(sandbox, [{ ...RESULT, mode: 'wait', maxWait: '0.0001' }]);
      inject({ job_id: jobId });
      await rec.settled(1);
      assert.equal(rec.caught[0].error.code, 'TIMEOUT');
      assert.match(rec.caught[0].error.message, /not completed within the maximum wait of 0\.36 s: still \w+ after [\d.]+ s/);
    });

    it('with a configured context store: ABORTED says the wait is kept and resumes', async () => {
      const jobId = await submitOne();
      await loadFlow(sandbox, [{ ...RESULT, mode: 'wait', pollInterval: '30' }]);
      const node = helper.getNode('n1');
      inject({ job_id: jobId });
      await waitFor('the first poll', () => sandbox.state.routeCounts['job.get'] >= 1, 5000, 10);
      await helper.clearFlows();
      const [err] = node.error.args[0];
      assert.equal(err.code, 'ABORTED');
      assert.match(err.message, /the wait is kept .* resumes when the node starts again .*do not send the message again/);
    });

    it('without a configured context store: ABORTED says the wait is lost and to send the message again', async () => {
      const saved = helper.settings();
      helper.settings({ ...saved, contextStorage: undefined });
      try {
        const jobId = await submitOne();
        await loadFlow(sandbox, [{ ...RESULT, mode: 'wait', pollInterval: '30' }]);
        const node = helper.getNode('n1');
        inject({ job_id: jobId });
        await waitFor('the first poll', () => sandbox.state.routeCounts['job.get'] >= 1, 5000, 10);
        await helper.clearFlows();
        const [err] = node.error.args[0];
        assert.equal(err.code, 'ABORTED');
        assert.match(err.message, /the wait is lost .*send the message again/);
        assert.doesNotMatch(err.message, /kept|resumes/);
      } finally {
        helper.settings(saved);
      }
    });
  });

  describe('result downloads', () => {
    let api: http.Server;
    let storage: http.Server;
    let open = 0;
    let mostOpen = 0;
    let files = new Map<string, { body: Buffer; chunked: boolean; holdUntilOpen?: number }>();

    before(async () => {
      storage = http.createServer((req, res) => {
        const file = files.get(req.url!.slice(1));
        if (!file) return void res.writeHead(404).end();
        open++;
        mostOpen = Math.max(mostOpen, open);
        res.on('close', () => open--);
        res.writeHead(
          200,
          file.chunked
            ? { 'content-type': 'application/json' }
            : { 'content-type': 'application/json', 'content-length': file.body.length },
        );
        // Held open until enough downloads overlap (or a while has passed): shows how many run at once.
        const hold = file.holdUntilOpen
          ? waitFor('overlap', () => open >= file.holdUntilOpen!, 300, 5).catch(() => undefined)
          : Promise.resolve();
        void hold.then(() => res.end(file.body));
      });
      api = http.createServer((req, res) => {
        const url = new URL(req.url!, 'http://api');
        const job = url.pathname.match(/^\/v0\/projects\/[^/]+\/jobs\/([^/]+)$/)?.[1];
        if (job) {
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(
            JSON.stringify({
              success: true,
              data: { job_id: job, status: 'completed', result: `https://results.example.com/${job}.json` },
            }),
          );
        }
        if (url.pathname === '/v1/attachments') {
          const name = new URL(url.searchParams.get('url')!).pathname.slice(1).replace(/\.json$/, '');
          res.writeHead(302, { location: `http://127.0.0.1:${(storage.address() as AddressInfo).port}/${name}` });
          return void res.end();
        }
        res.writeHead(404).end();
      });
      await Promise.all([storage, api].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
    });
    after(() => {
      api.close();
      storage.close();
    });
    beforeEach(() => {
      files = new Map();
      open = 0;
      mostOpen = 0;
    });

    const apiUrl = () => `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    const DOWNLOAD = { ...RESULT, mode: 'once', download: true };

    it('downloads a file of exactly the cap', async () => {
      files.set('at-cap', { body: resultOfSize(MIB), chunked: true });
      const rec = await loadFlow(sandbox, [{ ...DOWNLOAD, maxResultSize: '1' }], { baseUrl: apiUrl() });
      inject({ job_id: 'at-cap' });
      await rec.settled(1);
      assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
      assert.equal(rec.outputs[0].payload.annotations[0]._id, 't1');
    });

    it('ends BAD_RESPONSE for a file one byte over the cap, naming the cap and the setting', async () => {
      files.set('over-chunked', { body: resultOfSize(MIB + 1), chunked: true });
      files.set('over-declared', { body: resultOfSize(MIB + 1), chunked: false });
      const rec = await loadFlow(sandbox, [{ ...DOWNLOAD, maxResultSize: '1' }], { baseUrl: apiUrl() });
      inject({ job_id: 'over-chunked' });
      inject({ job_id: 'over-declared' });
      await rec.settled(2);
      assert.equal(rec.outputs.length, 0);
      for (const m of rec.caught) {
        assert.equal(m.error.code, 'BAD_RESPONSE');
        assert.match(m.error.message, /larger than the download cap of 1 MB: raise "Max result size" in the job-result node \(1–256 MB\)/);
      }
    });

    it('caps result files at 16 MB by default', async () => {
      files.set('big', { body: resultOfSize(16 * MIB + 1), chunked: false });
      const rec = await loadFlow(sandbox, [DOWNLOAD], { baseUrl: apiUrl() });
      inject({ job_id: 'big' });
      await rec.settled(1);
      assert.equal(rec.caught[0]?.error.code, 'BAD_RESPONSE');
      assert.match(rec.caught[0].error.message, /download cap of 16 MB/);
    });

    it(`refuses a Max result size outside 1–256 MB with NOT_CONFIGURED, sending nothing`, async () => {
      const rec = await loadFlow(sandbox, [{ ...DOWNLOAD, maxResultSize: '300' }], { baseUrl: apiUrl() });
      inject({ job_id: 'any' });
      await rec.settled(1);
      assert.equal(rec.caught[0].error.code, 'NOT_CONFIGURED');
      assert.match(rec.caught[0].error.message, /maxResultSize: must be a number from 1 to 256 \(MB of 1,048,576 bytes\); got "300"/);
    });

    it(`runs at most ${MAX_CONCURRENT_DOWNLOADS} downloads of one account at once`, async () => {
      const ids = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'];
      for (const id of ids) files.set(id, { body: resultOfSize(64 * 1024), chunked: false, holdUntilOpen: MAX_CONCURRENT_DOWNLOADS + 1 });
      const rec = await loadFlow(sandbox, [DOWNLOAD], { baseUrl: apiUrl() });
      for (const id of ids) inject({ job_id: id });
      await rec.settled(ids.length);
      assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
      assert.deepEqual(rec.outputs.map((m) => m.payload.job_id).sort(), ids);
      assert.equal(mostOpen, MAX_CONCURRENT_DOWNLOADS);
    });
  });
});

/** `key`'s text in the job-result catalogue with its variables filled in. */
function fill(key: string, vars: Record<string, unknown>): string {
  const path = key.split('.');
  let text: any = catalogue;
  for (const part of path) text = text[part];
  return String(text).replace(/__(\w+)__/g, (_, name) => String(vars[name]));
}

/** A valid result file of exactly `size` bytes. */
function resultOfSize(size: number): Buffer {
  const head = '{"data":{"annotation_data":{"annotations":[{"_id":"t1","type":"rectangle","label":"Car","frames":{}}]}},"pad":"';
  const tail = '"}';
  return Buffer.from(head + 'x'.repeat(size - head.length - tail.length) + tail);
}
