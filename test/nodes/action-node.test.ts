/**
 * The shared input wrapper: every message calls done exactly once (seen by Complete and Catch
 * nodes), a missing or refused account shows at deploy, and an API answer echoing the key is
 * redacted everywhere.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startKeyEchoApi, type KeyEchoApi } from '../support/key-echo-api';
import type { Sandbox } from '../../src/sandbox/server';
import {
  API_KEY,
  SUBMIT_NODE,
  assertEachEndedOnce,
  everythingVisible,
  frames,
  helper,
  inject,
  loadFlow,
  useSandboxRuntime,
} from '../support/harness';

const BATCH = { id: 'b1', type: 'playment-create-batch', wires: [['out']] };
const RESULT = { id: 'r1', type: 'playment-job-result', mode: 'once', wires: [['out']] };
const TYPES: Record<string, string> = { n1: 'playment-submit-video-job', b1: 'playment-create-batch', r1: 'playment-job-result' };

/** The catalogue is not loaded in the test runtime: status texts are their keys. */
function notConfigured(id: string) {
  return { fill: 'red', shape: 'ring', text: `${TYPES[id]}.status.notConfigured` };
}

/** The statuses a node showed since it started (the helper's spy is shared by all nodes). */
function statuses(id: string): unknown[] {
  const node = helper.getNode(id);
  return node.status
    .getCalls()
    .filter((c: any) => c.thisValue === node)
    .map((c: any) => c.args[0]);
}

describe('action nodes: the shared wrapper', () => {
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  describe('every message calls done exactly once', () => {
    it('success gives one Complete event, failure one Catch, never both or none', async () => {
      // FS_0001 is an error only with "If the job exists" on "error".
      const rec = await loadFlow(sandbox, [{ ...SUBMIT_NODE, existing: 'error' }, BATCH, RESULT]);
      const ids = new Set<string>();
      const send = (_msgid: string, msg: Record<string, unknown>, node = 'n1') => {
        ids.add(_msgid);
        inject({ _msgid, ...msg }, node);
      };
      send('ok-submit', { payload: frames(2, 'https://cdn.example.com/done-ok') });
      send('bad-input', { payload: ['not a url'] });
      send('api-refused', { payload: frames(2, 'https://cdn.example.com/done-ok') }); // FS_0001: a resend
      send('ok-batch', { payload: 'done-batch' }, 'b1');
      send('bad-job-id', { payload: {} }, 'r1');
      await assertEachEndedOnce(rec, ids, 15_000, 100);
      assert.deepEqual(rec.completed.map((m) => m._msgid).sort(), ['ok-batch', 'ok-submit']);
      assert.deepEqual(rec.caught.map((m) => m._msgid).sort(), ['api-refused', 'bad-input', 'bad-job-id']);
      assert.deepEqual(rec.completed.map((m) => m.complete.source.id).sort(), ['b1', 'n1']);
    });

    it('a bulk message with a failed job calls done once, with the error', async () => {
      const rec = await loadFlow(sandbox, [SUBMIT_NODE]);
      const payload = [
        { frames: frames(1, 'https://cdn.example.com/bulk-done-a') },
        { frames: frames(1, 'https://cdn.example.com/bulk-done-b'), batch_id: '6f1c2d4e-8a9b-4c3d-9e8f-0a1b2c3d4e5f' },
      ];
      inject({ _msgid: 'bulk-partial', payload });
      inject({
        _msgid: 'bulk-ok',
        payload: [{ frames: frames(1, 'https://cdn.example.com/bulk-ok-a') }, { frames: frames(1, 'https://cdn.example.com/bulk-ok-b') }],
      });
      await rec.settled(4);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(
        rec.completed.map((m) => m._msgid),
        ['bulk-ok'],
      );
      assert.deepEqual(
        rec.caught.map((m) => m._msgid),
        ['bulk-partial'],
      );
    });
  });

  describe('a missing or refused account shows at deploy', () => {
    it('a red "not configured" ring before any message, for every action node', async () => {
      for (const flow of [{ config: '' }, { apiKey: '' }, { baseUrl: 'http://api.example.com' }] as const) {
        const nodes = [SUBMIT_NODE, BATCH, RESULT].map((n) => ('config' in flow ? { ...n, config: '' } : n));
        await loadFlow(sandbox, nodes, 'config' in flow ? {} : flow);
        for (const id of ['n1', 'b1', 'r1']) assert.deepEqual(statuses(id), [notConfigured(id)], `${id} with ${JSON.stringify(flow)}`);
        await helper.unload();
      }
    });

    it('a dry-run submit node needs only the project id and the API profile', async () => {
      await loadFlow(sandbox, [{ ...SUBMIT_NODE, dryRun: true }], { apiKey: '' });
      assert.deepEqual(statuses('n1'), []);
      await helper.unload();
      await loadFlow(sandbox, [{ ...SUBMIT_NODE, dryRun: true }], { apiKey: '', projectId: ' ' });
      assert.deepEqual(statuses('n1'), [notConfigured('n1')]);
    });

    it("each node's catalogue has the text", () => {
      for (const type of Object.values(TYPES)) {
        const file = join(__dirname, '..', '..', 'nodes', 'locales', 'en-US', `${type}.json`);
        assert.equal(JSON.parse(readFileSync(file, 'utf8'))[type].status.notConfigured, 'not configured');
      }
    });

    it('a job-result node whose own settings are out of range shows the ring too', async () => {
      await loadFlow(sandbox, [{ ...RESULT, pollInterval: '0.01' }]);
      assert.deepEqual(statuses('r1'), [notConfigured('r1')]);
    });

    it('no ring with a usable account', async () => {
      await loadFlow(sandbox, [SUBMIT_NODE, BATCH, RESULT]);
      for (const id of ['n1', 'b1', 'r1']) assert.deepEqual(statuses(id), []);
    });
  });

  describe('an API answer that echoes the key', () => {
    let api: KeyEchoApi;
    let baseUrl: string;
    before(async () => {
      // Answers every request as Playment answers a refused job, quoting the key it was sent.
      api = await startKeyEchoApi('FS_0003', (key) => `bad key ${key}`);
      baseUrl = api.url;
    });
    after(() => api.close());

    it('the key shows nowhere: errors, msg.failed, statuses, logs', async () => {
      const rec = await loadFlow(sandbox, [SUBMIT_NODE, BATCH], { baseUrl });
      inject({ payload: frames(2, 'https://cdn.example.com/echo') });
      inject({
        payload: [{ frames: frames(1, 'https://cdn.example.com/echo-a') }, { frames: frames(1, 'https://cdn.example.com/echo-b') }],
      });
      inject({ payload: 'echo-batch' }, 'b1');
      await rec.settled(3);
      assert.equal(rec.outputs.length, 0);
      assert.deepEqual(
        rec.caught.map((m) => m.error.code),
        ['FS_0003', 'FS_0003', 'FS_0003'],
      );
      // The answer did quote the key: it was taken out, not never there.
      for (const m of rec.caught) assert.match(m.error.message, /bad key .*\*\*\*/);
      const bulk = rec.caught.find((m) => Array.isArray(m.failed));
      assert.equal(bulk.failed.length, 2);
      for (const f of bulk.failed) assert.match(f.message, /bad key .*\*\*\*/);
      const seen = everythingVisible(rec, ['n1', 'b1', 'cfg']);
      assert.ok(!seen.includes(API_KEY), 'the key leaked');
    });
  });
});
