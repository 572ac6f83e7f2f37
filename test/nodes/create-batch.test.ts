/** The create-batch node in a real Node-RED runtime against the sandbox over real HTTP. */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { PROJECT, helper, inject, loadFlow, useSandboxRuntime } from '../support/harness';

const BATCH = { id: 'n1', type: 'playment-create-batch', wires: [['out']] };

describe('core nodes against the sandbox', function () {
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  describe('playment-create-batch', () => {
    it('creates a batch named in the node and keeps other msg properties', async () => {
      const rec = await loadFlow(sandbox, [
        { ...BATCH, batchName: 'drive-2026-11', batchNameType: 'str', batchDescription: 'night drive', batchDescriptionType: 'str' },
      ]);
      inject({ payload: 'ignored', topic: 'keep-me', custom: { a: 1 } });
      await rec.settled(1);
      assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught));
      const out = rec.outputs[0];
      assert.match(out.batch_id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(out.payload, { batch_id: out.batch_id, name: 'drive-2026-11', description: 'night drive' });
      assert.equal(out.topic, 'keep-me');
      assert.deepEqual(out.custom, { a: 1 });
      const stored = sandbox.state.batches(PROJECT).find((b: any) => b.name === 'drive-2026-11');
      assert.ok(stored, 'the sandbox holds the batch');
      assert.equal(stored.batchId, out.batch_id);
    });

    it('takes the name from a string payload or from msg.payload.name and description', async () => {
      const rec = await loadFlow(sandbox, [BATCH]);
      inject({ payload: 'from-string' });
      inject({ payload: { name: 'from-object', description: 'desc' } });
      await rec.settled(2);
      const names = rec.outputs.map((m) => m.payload.name).sort();
      assert.deepEqual(names, ['from-object', 'from-string']);
      assert.equal(rec.outputs.find((m) => m.payload.name === 'from-object').payload.description, 'desc');
    });

    it('reuses an existing batch of the same name by default, and reports BATCH_CREATION when told not to', async () => {
      let rec = await loadFlow(sandbox, [BATCH]);
      inject({ payload: 'shared-name' });
      await rec.settled(1);
      const first = rec.outputs[0].batch_id;
      inject({ payload: 'shared-name' });
      await rec.settled(2);
      assert.equal(rec.outputs[1].batch_id, first);
      assert.equal(rec.outputs[1].payload.reused, true);
      await helper.unload();

      rec = await loadFlow(sandbox, [{ ...BATCH, reuseExisting: false }]);
      inject({ payload: 'shared-name' });
      await rec.settled(1);
      assert.equal(rec.caught.length, 1);
      assert.equal(rec.caught[0].error.code, 'BATCH_CREATION');
      assert.equal(rec.caught[0].statusCode, 400);
    });

    it('creates a new name once when two messages ask for it at the same time', async () => {
      const rec = await loadFlow(sandbox, [BATCH]);
      inject({ payload: 'concurrent' });
      inject({ payload: 'concurrent' });
      await rec.settled(2);
      assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
      assert.equal(rec.outputs[0].batch_id, rec.outputs[1].batch_id);
      const creations = sandbox.state.requests.filter((r: any) => r.route === 'batch.create');
      assert.equal(creations.length, 1);
    });
  });
});
