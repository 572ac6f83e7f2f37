/** Per-call signals that follow long-lived ones, with one listener per source at most. */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { follow, linkSignals } from '../../src/api/signal-links';

function recorder() {
  const reasons: unknown[] = [];
  return { reasons, abort: (reason?: unknown) => void reasons.push(reason) };
}

describe('signal links', () => {
  it('aborts the linked signal with the reason of whichever source aborts', () => {
    const a = new AbortController();
    const b = new AbortController();
    const linked = linkSignals([a.signal, undefined, b.signal]);
    assert.equal(linked.signal.aborted, false);
    b.abort('closed');
    assert.equal(linked.signal.aborted, true);
    assert.equal(linked.signal.reason, 'closed');
  });

  it('aborts at once when a source has aborted already, and adds no listener then', () => {
    const live = new AbortController();
    const f = recorder();
    const unlink = follow([AbortSignal.abort('gone'), live.signal], f);
    assert.deepEqual(f.reasons, ['gone']);
    assert.equal(getEventListeners(live.signal, 'abort').length, 0);
    unlink();
  });

  it('keeps one listener per source however many calls follow it, and tells each follower once', () => {
    const source = new AbortController();
    const followers = [recorder(), recorder(), recorder()];
    for (const f of followers) follow([source.signal], f);
    assert.equal(getEventListeners(source.signal, 'abort').length, 1);
    source.abort('stop');
    assert.deepEqual(
      followers.map((f) => f.reasons),
      [['stop'], ['stop'], ['stop']],
    );
  });

  it('tells no follower that unlinked before the abort', () => {
    const a = new AbortController();
    const b = new AbortController();
    const gone = recorder();
    const stays = recorder();
    follow([a.signal, b.signal], gone)();
    follow([b.signal], stays);
    a.abort('a');
    b.abort('b');
    assert.deepEqual(gone.reasons, []);
    assert.deepEqual(stays.reasons, ['b']);
  });

  it('does nothing without sources', () => {
    const f = recorder();
    const unlink = follow([undefined], f);
    unlink();
    assert.deepEqual(f.reasons, []);
    assert.equal(linkSignals([]).signal.aborted, false);
  });
});
