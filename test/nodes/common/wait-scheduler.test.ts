/** Many waits on one timer: each ends at its own time, in order, or when its signal aborts. */
import assert from 'node:assert/strict';
import { WaitScheduler } from '../../../src/nodes/common/wait-scheduler';

/** Starts waits as if all were asked for at the same instant, so their order is exact. */
function startAt<T>(start: () => T): T {
  const realNow = Date.now;
  const frozen = realNow();
  Date.now = () => frozen;
  try {
    return start();
  } finally {
    Date.now = realNow;
  }
}

/** mulberry32, seeded: the same shuffle on every run. */
function shuffled(values: number[], seed: number): number[] {
  let a = seed;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...values];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('WaitScheduler', () => {
  it('ends waits in the order they are due, whatever order they were asked for in', async () => {
    const scheduler = new WaitScheduler();
    const delays = shuffled(Array.from({ length: 60 }, (_, i) => 2 * i), 7);
    const ended: number[] = [];
    await Promise.all(startAt(() => delays.map((ms) => scheduler.wait(ms).then(() => void ended.push(ms)))));
    assert.deepEqual(ended, [...delays].sort((x, y) => x - y));
  });

  it('does not make a short wait wait for a longer one asked for first', async () => {
    const scheduler = new WaitScheduler();
    const controller = new AbortController();
    const long = scheduler.wait(600_000, controller.signal).catch((err) => err);
    await scheduler.wait(5);
    controller.abort('done');
    assert.equal(await long, 'done');
  });

  it('serves waits asked for after the timer fired', async () => {
    const scheduler = new WaitScheduler();
    await scheduler.wait(1);
    await scheduler.wait(1);
    const order: string[] = [];
    await Promise.all(startAt(() => [scheduler.wait(20).then(() => order.push('20')), scheduler.wait(1).then(() => order.push('1'))]));
    assert.deepEqual(order, ['1', '20']);
  });

  it('rejects with the reason of a signal that aborted before or during the wait, and keeps the others', async () => {
    const scheduler = new WaitScheduler();
    await assert.rejects(scheduler.wait(1, AbortSignal.abort('before')), (err) => err === 'before');
    const controller = new AbortController();
    const ended: string[] = [];
    const waits = startAt(() => [
      scheduler.wait(5).then(() => ended.push('first')),
      scheduler.wait(10, controller.signal).then(
        () => ended.push('aborted one ended'),
        (err) => ended.push(`rejected: ${err}`),
      ),
      scheduler.wait(15).then(() => ended.push('last')),
    ]);
    controller.abort('stop');
    await Promise.all(waits);
    assert.deepEqual(ended, ['rejected: stop', 'first', 'last']);
  });

  it('stops listening to the signal of a wait that ended', async () => {
    const scheduler = new WaitScheduler();
    const controller = new AbortController();
    let listeners = 0;
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => (listeners++, add(...args))) as AbortSignal['addEventListener'];
    signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => (listeners--, remove(...args))) as AbortSignal['removeEventListener'];
    await scheduler.wait(1, signal);
    assert.equal(listeners, 0);
  });
});
