/**
 * Long waits through a real flow, and no timer beyond 2^31-1 ms (Node.js fires a longer one after
 * 1 ms): a hostile Retry-After ends its message at once with RATE_LIMITED and
 * pauses the account only up to the backoff ceiling (30 s); a huge close grace is kept.
 */
import assert from 'node:assert/strict';
import type { Sandbox } from '../src/sandbox/server';
import {
  API_KEY,
  SUBMIT_NODE,
  everythingVisible,
  frames,
  helper,
  inject,
  loadFlow,
  useSandboxRuntime,
  watchEndings,
} from './support/harness';
import { waitFor } from './support/wait';

const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);
const overflowWarnings = () => warnings.filter((w) => w.name === 'TimeoutOverflowWarning').map((w) => w.message);
before(() => process.on('warning', onWarning));
after(() => process.off('warning', onWarning));

describe('a huge Retry-After', function () {
  // The second message waits out the 30 s cap on the account's pause.
  this.timeout(90_000);
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  it('ends its message with RATE_LIMITED, sends nothing more, and the next message goes after the cap', async () => {
    const rec = await loadFlow(sandbox, [SUBMIT_NODE], { config: { maxRetries: 4 } });
    const createCalls = () => sandbox.state.requests.filter((r) => r.route === 'job.create');
    sandbox.injectFault({ route: 'job.create', mode: 'status', status: 429, retryAfter: '1000000000', count: 1 });

    inject({ _msgid: 'first', payload: frames(2, 'https://cdn.example.com/first') });
    await rec.settled(1);
    assert.equal(rec.outputs.length, 0);
    const [failed] = rec.caught;
    assert.equal(failed._msgid, 'first');
    assert.equal(failed.error.code, 'RATE_LIMITED');
    assert.equal(failed.statusCode, 429);
    assert.match(failed.error.message, /asked to wait 1000000000 s before retrying \(Retry-After\).*nothing more was sent/);
    assert.deepEqual(
      createCalls().map((r) => r.status),
      [429],
      'one attempt, no resend',
    );

    inject({ _msgid: 'second', payload: frames(2, 'https://cdn.example.com/second') });
    await rec.settled(2, 60_000);
    assert.equal(rec.outputs.length, 1, JSON.stringify(rec.caught.map((m) => m.error)));
    assert.equal(rec.outputs[0]._msgid, 'second');
    assert.deepEqual(
      createCalls().map((r) => r.status),
      [429, 200],
    );

    // Give a timer that overflowed (it would fire every millisecond) a moment to show itself.
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(overflowWarnings(), []);
    assert.ok(!everythingVisible(rec, ['n1', 'cfg']).includes(API_KEY), 'the key leaked');
  });
});

describe('a close grace longer than a timer holds', function () {
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));
  let saved: Record<string, unknown>;
  before(() => {
    saved = helper.settings();
    helper.settings({ ...saved, playmentConfigCloseGrace: 30 * 24 * 3600 * 1000 });
  });
  after(() => helper.settings(saved));

  it('lets a request in flight finish when the flow stops, with no timer overflow', async () => {
    await loadFlow(sandbox, [SUBMIT_NODE]);
    const ended = watchEndings('n1');
    sandbox.injectFault({ route: 'job.create', mode: 'delay', delayMs: 500, count: 1 });
    inject({ _msgid: 'late', payload: frames(2, 'https://cdn.example.com/late') });
    await waitFor('the request to arrive', () => sandbox.state.routeCounts['job.create'] === 1, 10_000, 5);
    await helper.unload();
    assert.deepEqual(overflowWarnings(), []);
    assert.deepEqual(ended, [{ id: 'late', code: undefined }], 'finished within the grace, not aborted');
  });
});
