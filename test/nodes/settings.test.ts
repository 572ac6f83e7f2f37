/**
 * Runtime settings (settings.js): `playmentConfigCloseGrace`, declared through registerType's
 * `settings` under a name Node-RED accepts, sets how long requests in flight get when a flow
 * stops; unset, or not a number of milliseconds, the default (5 s) applies.
 */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { SUBMIT_NODE, frames, helper, inject, loadFlow, useSandboxRuntime, watchEndings } from '../support/harness';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeSettings = require('@node-red/runtime/lib/settings');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const registerConfig = require('../../src/nodes/playment-config');

describe('runtime settings', function () {
  this.timeout(30_000);
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));
  let saved: Record<string, unknown>;
  beforeEach(() => (saved = helper.settings()));
  afterEach(() => helper.settings(saved));

  it('declares playmentConfigCloseGrace through registerType under a name Node-RED accepts', () => {
    const registered: Array<{ type: string; opts: { settings?: Record<string, { value: unknown; exportable?: boolean }> } }> = [];
    const RED = {
      settings: {},
      log: { warn: () => undefined },
      nodes: { registerType: (type: string, _ctor: unknown, opts: never) => registered.push({ type, opts }) },
      httpAdmin: { post: () => undefined, get: () => undefined },
      auth: { needsPermission: () => () => undefined },
    };
    registerConfig(RED);
    const config = registered.find((r) => r.type === 'playment-config');
    assert.deepEqual(config?.opts.settings, { playmentConfigCloseGrace: { value: 5000, exportable: false } });
    // Node-RED's own check (the runtime the helper started): names must start with the type in
    // camelCase, or it refuses them.
    assert.doesNotThrow(() => runtimeSettings.registerNodeSettings('playment-config', config!.opts.settings));
    assert.throws(
      () => runtimeSettings.registerNodeSettings('playment-config', { closeGrace: { value: 1 } }),
      /must start with 'playmentConfig'/,
    );
    assert.ok(!('playmentConfigCloseGrace' in runtimeSettings.exportNodeSettings({})), 'not sent to the editor');
  });

  let logs = '';
  /** Stops the flow while a create request is held for `delayMs`; how the message ended. */
  async function stopDuringRequest(delayMs: number): Promise<Array<{ id: string; code?: string }>> {
    await loadFlow(sandbox, [SUBMIT_NODE]);
    const ended = watchEndings('n1');
    sandbox.injectFault({ route: 'job.create', mode: 'delay', delayMs, count: 1 });
    inject({ _msgid: 'late', payload: frames(2, `https://cdn.example.com/${Math.random()}`) });
    await waitFor('the request to arrive', () => sandbox.state.routeCounts['job.create'] === 1, 10_000, 5);
    logs = JSON.stringify(helper.log().args);
    await helper.unload();
    return ended;
  }

  it('takes playmentConfigCloseGrace from settings: 0 ends a request in flight at once when the flow stops', async () => {
    helper.settings({ ...saved, playmentConfigCloseGrace: 0 });
    assert.deepEqual(await stopDuringRequest(3000), [{ id: 'late', code: 'ABORTED' }]);
  });

  it('without the setting, gives a request in flight the default grace to finish', async () => {
    const { playmentConfigCloseGrace: _unset, ...rest } = saved;
    helper.settings(rest);
    assert.deepEqual(await stopDuringRequest(500), [{ id: 'late', code: undefined }], 'finished within the grace, not aborted');
  });

  it('warns about a setting that is not a number of milliseconds, and uses the default', async () => {
    helper.settings({ ...saved, playmentConfigCloseGrace: 'soon' });
    assert.deepEqual(await stopDuringRequest(500), [{ id: 'late', code: undefined }], 'finished within the default grace');
    assert.match(logs, /settings\.js playmentConfigCloseGrace must be a number of milliseconds from 0, got soon: using 5000 ms/);
  });
});
