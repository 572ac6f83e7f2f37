/**
 * A hostile Retry-After through a real flow: the message it hits ends at once with RATE_LIMITED,
 * the account pauses only up to the backoff ceiling (30 s), and no timer overflows.
 */
import assert from 'node:assert/strict';
import type { Sandbox } from '../src/sandbox/server';
import { API_KEY, SUBMIT_NODE, everythingVisible, frames, inject, loadFlow, useSandboxRuntime } from './support/harness';

describe('a huge Retry-After', function () {
  // The second message waits out the 30 s cap on the account's pause.
  this.timeout(90_000);
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  before(() => process.on('warning', onWarning));
  after(() => process.off('warning', onWarning));

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
    assert.deepEqual(createCalls().map((r) => r.status), [429], 'one attempt, no resend');

    inject({ _msgid: 'second', payload: frames(2, 'https://cdn.example.com/second') });
    await rec.settled(2, 60_000);
    assert.equal(rec.outputs.length, 1, JSON.stringify(rec.caught.map((m) => m.error)));
    assert.equal(rec.outputs[0]._msgid, 'second');
    assert.deepEqual(createCalls().map((r) => r.status), [429, 200]);

    // Give a timer that overflowed (it would fire every millisecond) a moment to show itself.
    await new Promise((r) => setTimeout(r, 50));
    const overflow = warnings.filter((w) => w.name === 'TimeoutOverflowWarning');
    assert.deepEqual(overflow.map((w) => w.message), []);
    assert.ok(!everythingVisible(rec, ['n1', 'cfg']).includes(API_KEY), 'the key leaked');
  });
});
