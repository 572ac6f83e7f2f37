/** The sandbox server: where it listens, its defaults and options, and how it closes. */
import assert from 'node:assert/strict';
import http from 'node:http';
import { request } from 'undici';
import { DEFAULT_API_KEY, DEFAULT_PROJECT_ID, startSandbox, type Sandbox } from '../../src/sandbox/server';
import { KEY, PID, OTHER_PID, UUID, sleep, expectSocketError, useSandbox } from '../support/sandbox-http';

describe('playment sandbox', function () {
  let sb: Sandbox;
  useSandbox((s) => (sb = s));

  describe('startup', () => {
    it('listens on 127.0.0.1 with a separate storage listener', () => {
      assert.match(sb.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(sb.storageUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(sb.url, `http://127.0.0.1:${sb.port}`);
      assert.notEqual(sb.url, sb.storageUrl);
    });

    it('creates a default batch per project', () => {
      for (const pid of [PID, OTHER_PID]) {
        const batches = sb.state.batches(pid);
        assert.equal(batches.length, 1);
        assert.equal(batches[0].name, 'Default');
        assert.equal(batches[0].isDefault, true);
        assert.match(batches[0].batchId, UUID);
      }
      assert.deepEqual(sb.state.batches('nope'), []);
    });

    it('defaults to the key and project the examples and the CLI help name', () => {
      assert.equal(DEFAULT_API_KEY, 'sandbox-key');
      assert.equal(DEFAULT_PROJECT_ID, 'demo-project');
    });

    it('rejects invalid options', async () => {
      await assert.rejects(startSandbox({ port: 70000 }), RangeError);
      await assert.rejects(startSandbox({ apiKeys: [] }), RangeError);
      await assert.rejects(startSandbox({ completionDelayMs: -1 }), RangeError);
    });
  });

  describe('close()', () => {
    it('does not hang with a keep-alive connection open', async () => {
      const temp = await startSandbox();
      const agent = new http.Agent({ keepAlive: true });
      try {
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.get(`${temp.url}/v1/projects/${PID}/details`, { agent, headers: { 'x-api-key': KEY } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
        });
        assert.equal(status, 200);
        assert.equal(Object.keys(agent.freeSockets).length, 1, 'the connection is idle but open');
        const outcome = await Promise.race([temp.close().then(() => 'closed'), sleep(3000).then(() => 'hung')]);
        assert.equal(outcome, 'closed');
        await expectSocketError(request(`${temp.url}/v1/projects/${PID}/details`, { headers: { 'x-api-key': KEY } }));
      } finally {
        agent.destroy();
      }
    });

    it('also closes while a delayed request is in flight', async () => {
      const temp = await startSandbox();
      temp.injectFault({ route: '*', mode: 'delay', delayMs: 60_000 });
      const pending = request(`${temp.url}/v1/projects/${PID}/details`, { headers: { 'x-api-key': KEY } });
      await sleep(50);
      const outcome = await Promise.race([temp.close().then(() => 'closed'), sleep(3000).then(() => 'hung')]);
      assert.equal(outcome, 'closed');
      await expectSocketError(pending);
    });
  });
});
