/** API errors in a real Node-RED runtime: they reach the Catch node with their code, and the key shows up nowhere. */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { API_KEY, SUBMIT_NODE, everythingVisible, frames, helper, inject, loadFlow, useSandboxRuntime } from '../support/harness';

const SUBMIT = SUBMIT_NODE;

describe('core nodes against the sandbox', function () {
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  describe('API errors reach the Catch node with their code', () => {
    it('GE_0001 for a batch id that is not known', async () => {
      const rec = await loadFlow(sandbox, [{ ...SUBMIT, batchId: '6f1c2d4e-8a9b-4c3d-9e8f-0a1b2c3d4e5f' }]);
      inject({ payload: frames(2) });
      await rec.settled(1);
      assert.equal(rec.caught[0].error.code, 'GE_0001');
      assert.equal(rec.caught[0].statusCode, 400);
    });

    it('a wrong key gives UNAUTHORIZED, and the key shows up nowhere', async () => {
      const wrongKey = 'sk-wrong-91c3e5a7b2d4f608';
      const rec = await loadFlow(sandbox, [SUBMIT, { id: 'b1', type: 'playment-create-batch', wires: [['out']] }], { apiKey: wrongKey });
      inject({ payload: frames(2) });
      inject({ payload: 'a batch' }, 'b1');
      await rec.settled(2);
      assert.deepEqual(
        rec.caught.map((m) => m.error.code),
        ['UNAUTHORIZED', 'UNAUTHORIZED'],
      );
      assert.equal(rec.caught[0].statusCode, 401);
      const seen = everythingVisible(rec, ['n1', 'b1', 'cfg']);
      assert.ok(!seen.includes(wrongKey), 'the key leaked');
      assert.ok(!seen.includes(API_KEY));
    });

    it('a project the key cannot access gives UNAUTHORIZED (403)', async () => {
      const rec = await loadFlow(sandbox, [SUBMIT], { projectId: 'someone-elses' });
      inject({ payload: frames(1) });
      await rec.settled(1);
      assert.equal(rec.caught[0].error.code, 'UNAUTHORIZED');
      assert.equal(rec.caught[0].statusCode, 403);
    });

    it('NOT_CONFIGURED without a usable config node', async () => {
      const rec = await loadFlow(sandbox, [SUBMIT], { apiKey: '' });
      inject({ payload: frames(1) });
      await rec.settled(1);
      assert.equal(rec.caught[0].error.code, 'NOT_CONFIGURED');
      assert.match(rec.caught[0].error.message, /API key is missing/);
      await helper.unload();

      const rec2 = await loadFlow(sandbox, [SUBMIT], { baseUrl: 'http://api.example.com' });
      inject({ payload: frames(1) });
      await rec2.settled(1);
      assert.equal(rec2.caught[0].error.code, 'NOT_CONFIGURED');
      assert.match(rec2.caught[0].error.message, /must use https/);
      assert.equal(sandbox.state.requestCount, 0);
    });
  });
});
