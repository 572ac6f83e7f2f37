/** The gate that lets a few result-file downloads of one account run at once. */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { DownloadGate } from '../../src/api/download-gate';

/** Lets promise callbacks run. */
async function turns(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** An acquire whose outcome can be looked at without awaiting it. */
function watched(promise: Promise<() => void>) {
  let release: (() => void) | undefined;
  let error: unknown;
  promise.then(
    (r) => (release = r),
    (err: unknown) => (error = err),
  );
  return {
    started: () => release !== undefined,
    release: () => release!(),
    error: () => error,
  };
}

describe('download gate: slots handed on in order', () => {
  it('a waiter that got its slot from a release holds it: the next waits for it', async () => {
    const gate = new DownloadGate(1);
    const first = await gate.acquire();
    const second = watched(gate.acquire());
    const third = watched(gate.acquire());
    await turns();
    assert.equal(second.started(), false);
    first();
    await turns();
    assert.ok(second.started(), 'the second starts when the first ends');
    assert.equal(third.started(), false, 'the third waits for the second');
    const latecomer = watched(gate.acquire());
    await turns();
    assert.equal(latecomer.started(), false, 'a new download waits too');
    second.release();
    await turns();
    assert.ok(third.started());
    assert.equal(latecomer.started(), false);
    third.release();
    await turns();
    assert.ok(latecomer.started());
    latecomer.release();
  });

  it('a release function called twice frees one slot', async () => {
    const gate = new DownloadGate(1);
    const first = await gate.acquire();
    const second = watched(gate.acquire());
    const third = watched(gate.acquire());
    first();
    first();
    await turns();
    assert.ok(second.started());
    assert.equal(third.started(), false, 'still one download at a time');
    second.release();
    await turns();
    assert.ok(third.started());
    third.release();
  });

  it('a cancelled waiter anywhere in the line gives up its place: no slot is lost to it', async () => {
    const gate = new DownloadGate(1);
    const first = await gate.acquire();
    const second = watched(gate.acquire());
    const cancel = new AbortController();
    const cancelled = watched(gate.acquire(cancel.signal));
    cancel.abort(new Error('node closed'));
    await turns();
    assert.match(String(cancelled.error()), /node closed/);
    first();
    await turns();
    assert.ok(second.started());
    second.release();
    const later = watched(gate.acquire());
    await turns();
    assert.ok(later.started(), 'the slot the cancelled waiter would have taken is free');
    later.release();
  });

  it('a signal aborted before the call rejects with its reason and takes no slot', async () => {
    const gate = new DownloadGate(1);
    await assert.rejects(gate.acquire(AbortSignal.abort(new Error('closed'))), /closed/);
    const release = await gate.acquire();
    release();
  });

  it('a waiter that starts leaves no listener on its signal', async () => {
    const gate = new DownloadGate(1);
    const nodeLifetime = new AbortController();
    const first = await gate.acquire(nodeLifetime.signal);
    const second = watched(gate.acquire(nodeLifetime.signal));
    assert.equal(getEventListeners(nodeLifetime.signal, 'abort').length, 1);
    first();
    await turns();
    assert.ok(second.started());
    assert.equal(getEventListeners(nodeLifetime.signal, 'abort').length, 0);
    second.release();
  });
});
