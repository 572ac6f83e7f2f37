/**
 * 2,000 generated payloads through a real flow: each ends in INVALID_INPUT or a success, exactly
 * once, and the runtime keeps running. Seeded, so a failure can be replayed.
 */
import assert from 'node:assert/strict';
import type { Sandbox } from '../src/sandbox/server';
import { API_KEY, assertDoneOnce, everythingVisible, inject, loadFlow, useSandboxRuntime } from './support/harness';
import { waitFor } from './support/wait';

const COUNT = 2000;
const SEED = 20261129;

/** mulberry32: small, seedable, good enough to spread cases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generator(random: () => number) {
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  const deep = (depth: number): unknown => (depth === 0 ? 'x' : { a: deep(depth - 1) });
  const url = (i: number) => `https://cdn.example.com/f${Math.floor(random() * 1e9)}/frame_${i}.jpg`;
  const scalar = (): unknown =>
    pick<() => unknown>([
      () => undefined,
      () => null,
      () => true,
      () => 0,
      () => -1.5,
      () => NaN,
      () => '',
      () => 'x'.repeat(Math.floor(random() * 20_000)),
      () => '\ud800lone surrogate',
      () => 'https://cdn.example.com/ok/frame_1.jpg',
      () => 'javascript:alert(1)',
      () => 'https://cdn.example.com/a b.jpg',
      () => `https://cdn.example.com/${'%'.repeat(3)}.jpg`,
      () => 'gs://bucket/\ud83d\ude00.jpg',
      () => [],
      () => ({}),
      () => deep(200),
      () => JSON.parse('{"__proto__": {"polluted": true}, "src": "https://cdn.example.com/p/1.jpg"}'),
      () => ({ constructor: { prototype: { polluted: true } }, src: url(1) }),
      () => new Date(),
      () => Buffer.from('frames'),
    ])();
  return (): Record<string, unknown> => {
    const kind = Math.floor(random() * 10);
    const n = 1 + Math.floor(random() * 6);
    switch (kind) {
      case 0:
        return { payload: scalar() };
      case 1:
        return { payload: Array.from({ length: n }, scalar) };
      case 2:
        return { payload: Array.from({ length: n }, (_, i) => (random() < 0.8 ? url(i) : scalar())) };
      case 3:
        return {
          payload: Array.from({ length: n }, (_, i) => ({
            frame_id: random() < 0.7 ? `f${i}` : scalar(),
            src: random() < 0.8 ? url(i) : scalar(),
          })),
        };
      case 4:
        return {
          payload: Array.from({ length: n }, (_, i) => url(i)),
          reference_id: scalar(),
          priority_weight: scalar(),
          batch_id: random() < 0.5 ? scalar() : undefined,
        };
      case 5:
        return {
          payload: Array.from({ length: n }, () => ({ frames: random() < 0.7 ? [url(0), url(1)] : scalar(), reference_id: scalar() })),
        };
      case 6:
        // Long sequences: valid or with one bad frame somewhere.
        return {
          payload: Array.from({ length: 20_000 }, (_, i) =>
            random() < 0.00005 ? scalar() : `https://cdn.example.com/long${kind}/${i}.jpg`,
          ),
          dry_run: true,
        };
      case 7:
        return { payload: [url(0)], tag: scalar(), work_flow_id: scalar() };
      case 8:
        return { payload: deep(1000) };
      default:
        return { payload: Array.from({ length: n }, (_, i) => url(i)) };
    }
  };
}

describe('fuzzing the submit node', function () {
  this.timeout(180_000);
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  it(`${COUNT} generated payloads end in INVALID_INPUT or a success, each exactly once`, async () => {
    const rec = await loadFlow(sandbox, [
      { id: 'n1', type: 'playment-submit-video-job', tag: '', tagType: 'str', workFlowId: 'wf-1', workFlowIdType: 'str', wires: [['out']] },
    ]);
    const next = generator(prng(SEED));
    for (let i = 0; i < COUNT; i++) {
      inject({ ...next(), _msgid: `z${i}` });
      // Let the runtime breathe so queued work does not pile up unboundedly in the test itself.
      if (i % 100 === 99) await rec.settled(i + 1 - 100, 60_000);
    }
    await rec.settled(COUNT, 120_000);
    await new Promise((r) => setTimeout(r, 200));
    const ended = new Set([...rec.outputs, ...rec.caught].map((m) => m._msgid));
    assert.equal(ended.size, COUNT, 'every message ended');
    // Bulk messages included: one done per message, a Complete event or a Catch.
    await waitFor('every message to call done', () => rec.completed.length + rec.caught.length >= COUNT, 60_000, 5);
    assertDoneOnce(rec, new Set(Array.from({ length: COUNT }, (_, i) => `z${i}`)));
    const caughtIds = rec.caught.map((m) => m._msgid);
    assert.equal(new Set(caughtIds).size, caughtIds.length, 'no message reported two errors');
    // A bulk payload gives one output per job, each marked with its place in msg.parts.
    const outputsById = new Map<string, any[]>();
    for (const m of rec.outputs) outputsById.set(m._msgid, [...(outputsById.get(m._msgid) ?? []), m]);
    for (const [id, outs] of outputsById) {
      if (outs.length === 1 && !outs[0].parts) continue;
      const indexes = outs.map((m) => m.parts.index);
      assert.equal(new Set(indexes).size, indexes.length, `${id}: each job of a bulk message is sent once`);
    }
    const codes = new Map<string, number>();
    for (const m of rec.caught) codes.set(m.error.code, (codes.get(m.error.code) ?? 0) + 1);
    assert.deepEqual(
      [...codes.keys()].filter((c) => c !== 'INVALID_INPUT' && c !== 'FS_0001'),
      [],
      JSON.stringify([...codes]),
    );
    assert.ok(rec.outputs.length > 100 && rec.caught.length > 100, `${rec.outputs.length} outputs, ${rec.caught.length} errors`);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
    for (const m of rec.caught) assert.ok(m.error.message.length < 2000, 'error messages stay short');
    assert.ok(!everythingVisible(rec, ['n1', 'cfg']).includes(API_KEY));
  });
});
