/** Result-file downloads: parsed in slices like JSON.parse, and a few at a time per account. */
import assert from 'node:assert/strict';
import { parseJsonSliced } from '../../src/api/sliced-json';
import { DownloadGate } from '../../src/api/download-gate';
import { parseResultFile } from '../../src/api/attachments';
import { PlaymentError } from '../../src/api/errors';

/** A result file of many small objects, about `bytes` long. */
function resultFile(bytes: number): string {
  const trackers: string[] = [];
  let size = 0;
  for (let t = 0; size < bytes; t++) {
    const frames = Array.from(
      { length: 20 },
      (_, f) => `"frame${f}":{"_id":"f${t}_${f}","label":"Car \\"é\\" }]","coordinates":[{"x":0.1,"y":0.2}]}`,
    );
    const tracker = `{"_id":"t${t}","type":"rectangle","label":"Car","frames":{${frames.join(',')}}}`;
    trackers.push(tracker);
    size += tracker.length + 1;
  }
  return `{"data":{"annotation_data":{"annotations":[${trackers.join(',')}]}},"__proto__":{"polluted":true},"long":"${'x'.repeat(100_000)}"}`;
}

describe('result file parsing', () => {
  it('gives what JSON.parse gives, for small and large documents', async () => {
    for (const text of ['{"a":1}', ' [1, "two", null, true, -1.5e3] ', '"x"', '{"__proto__":{"x":1}}', resultFile(3 * 1024 * 1024)]) {
      const parsed = await parseJsonSliced(Buffer.from(text));
      assert.deepEqual(parsed, JSON.parse(text));
      assert.equal(JSON.stringify(parsed), JSON.stringify(JSON.parse(text)));
    }
    const big = (await parseJsonSliced(Buffer.from(resultFile(1024 * 1024)))) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(big), Object.prototype, '__proto__ is an own property, as with JSON.parse');
    assert.deepEqual(Object.getOwnPropertyDescriptor(big, '__proto__')?.value, { polluted: true });
  });

  it('refuses what JSON.parse refuses, as BAD_RESPONSE for a result file', async () => {
    const text = resultFile(1024 * 1024);
    const broken = [
      text + 'x',
      text.slice(0, -1),
      text.replace('},"__proto__"', '},,"__proto__"'),
      text.replace('"long":', '"long"'),
      text.replace(']}},', ']},'),
      '',
    ];
    for (const bad of broken) {
      assert.throws(() => JSON.parse(bad));
      await assert.rejects(parseJsonSliced(Buffer.from(bad)), SyntaxError);
      await assert.rejects(
        parseResultFile(Buffer.from(bad)),
        (e: PlaymentError) => e.code === 'BAD_RESPONSE' && /not JSON/.test(e.message),
      );
    }
  });

  it('lets other callbacks run while it parses a large file', async () => {
    const bytes = Buffer.from(resultFile(8 * 1024 * 1024));
    let ticks = 0;
    let parsing = true;
    const tick = (): void => {
      ticks++;
      if (parsing) setImmediate(tick);
    };
    setImmediate(tick);
    await parseJsonSliced(bytes);
    parsing = false;
    assert.ok(ticks > 1, `other callbacks ran ${ticks} times during the parse`);
  });
});

describe('download gate', () => {
  it('lets at most `limit` downloads run at once, and a cancelled waiter never starts', async () => {
    const gate = new DownloadGate(2);
    let running = 0;
    let most = 0;
    const cancel = new AbortController();
    const download = async () => {
      const release = await gate.acquire();
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setImmediate(r));
      running--;
      release();
    };
    const all = Promise.all(Array.from({ length: 7 }, download));
    const cancelled = gate.acquire(cancel.signal);
    cancel.abort(new Error('stop'));
    await assert.rejects(
      cancelled.then((release) => release()),
      /stop/,
    );
    await all;
    assert.equal(most, 2);
    // Every slot came back: two more start at once.
    const [a, b] = await Promise.all([gate.acquire(), gate.acquire()]);
    a();
    b();
  });
});
