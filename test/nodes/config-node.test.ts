/**
 * The config node refuses settings it cannot use — out-of-range limits, a project id that would
 * leave its path segment, a key an HTTP header cannot carry — so every message that uses it ends
 * once with a clear NOT_CONFIGURED and nothing is sent.
 */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { NUMERIC_SETTINGS } from '../../src/nodes/common/limits';
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

const limits = NUMERIC_SETTINGS['playment-config'];

describe('playment-config refuses settings it cannot use', function () {
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  /** Sends one frame list through a submit node using `config`; returns how the message ended. */
  async function submitOnce(config: Record<string, unknown>, opts: { apiKey?: string; projectId?: string } = {}) {
    const rec = await loadFlow(sandbox, [SUBMIT_NODE], { config, ...opts });
    const msgid = 'm-1';
    inject({ _msgid: msgid, payload: frames(2) });
    await assertEachEndedOnce(rec, new Set([msgid]), 15_000, 300);
    return rec;
  }

  const aboveMax: Array<[string, number, RegExp]> = [
    ['maxConcurrent', limits.maxConcurrent.max + 1, /maxConcurrent: must be a whole number from 1 to 256 \(requests at a time\); got 257/],
    [
      'rateLimit',
      limits.rateLimit.max + 1,
      /rateLimit: must be 0 \(no limit\) or a number from 0\.01 to 1,000 \(requests per second\); got 1001/,
    ],
    ['maxQueue', limits.maxQueue.max + 1, /maxQueue: must be a whole number from 1 to 1,000,000 \(waiting requests\); got 1000001/],
    ['maxConcurrent', 2000, /maxConcurrent: must be a whole number from 1 to 256/],
    ['requestTimeout', 0.05, /requestTimeout: must be a number from 0\.1 to 3,600 \(seconds\); got 0\.05/],
  ];
  for (const [field, value, message] of aboveMax) {
    it(`${field} ${value} (out of range): NOT_CONFIGURED naming the field and its range, nothing sent`, async () => {
      const rec = await submitOnce({ [field]: value });
      assert.equal(rec.outputs.length, 0);
      assert.equal(rec.caught[0].error.code, 'NOT_CONFIGURED');
      assert.match(rec.caught[0].error.message, /the playment-config node is not usable/);
      assert.match(rec.caught[0].error.message, message);
      assert.equal(sandbox.state.requestCount, 0);
    });
  }

  it('the largest value of every limit is accepted and works', async () => {
    const atMax = Object.fromEntries(Object.entries(limits).map(([name, s]) => [name, String(s.max)]));
    const rec = await submitOnce(atMax);
    assert.equal(rec.caught.length, 0, rec.caught[0]?.error?.message);
    assert.equal(rec.outputs.length, 1);
    assert.equal(sandbox.state.requestCount, 1);
  });

  for (const projectId of ['..', '.', ' .. ']) {
    it(`project id ${JSON.stringify(projectId)}: NOT_CONFIGURED, no request leaves its path segment`, async () => {
      const rec = await submitOnce({}, { projectId });
      assert.equal(rec.caught[0].error.code, 'NOT_CONFIGURED');
      assert.match(rec.caught[0].error.message, /not usable: projectId: the project id cannot be "\." or "\.\."/);
      assert.equal(sandbox.state.requestCount, 0);
    });
  }

  const badKeys: Array<[string, string, RegExp]> = [
    ['CR/LF', `${API_KEY}\r\n`, /a line break \(CR or LF\) at character 25/],
    ['LF inside', `${API_KEY.slice(0, 8)}\nX-Injected: 1`, /a line break \(CR or LF\) at character 9/],
    ['NUL', `${API_KEY}\u0000`, /a control character/],
    ['non-ASCII', `${API_KEY}é`, /a non-ASCII character/],
    ['space', ` ${API_KEY}`, /a space at character 1/],
  ];
  for (const [label, apiKey, reason] of badKeys) {
    it(`an API key with ${label}: NOT_CONFIGURED at once, never sent or retried, the key shown nowhere`, async () => {
      const rec = await submitOnce({ maxRetries: 4 }, { apiKey });
      const err = rec.caught[0].error;
      assert.equal(err.code, 'NOT_CONFIGURED');
      assert.match(err.message, /the playment-config node is not usable: the API key contains/);
      assert.match(err.message, reason);
      assert.match(err.message, /which an HTTP header cannot carry/);
      assert.equal(sandbox.state.requestCount, 0);
      const visible = everythingVisible(rec, ['n1', 'cfg']);
      for (const secret of [apiKey, JSON.stringify(apiKey).slice(1, -1), API_KEY, API_KEY.slice(0, 12), 'X-Injected']) {
        assert.ok(!visible.includes(secret), `the key (${label}) is visible`);
      }
      assert.equal(helper.getNode('cfg').client, undefined);
    });
  }
});
