/** Frames and payloads built in another context (a Function node's vm) read like our own. */
import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import { isPlainObject, normalizeFrames } from '../../src/jobs/frames';
import { isBulkPayload } from '../../src/jobs/plan';

/** Evaluates `code` in a fresh vm context, as a Function node runs its code. */
function fromOtherContext(code: string): any {
  return runInNewContext(`(${code})`);
}

describe('frames from other contexts', () => {
  it('isPlainObject accepts object literals from any context and objects without a prototype', () => {
    assert.equal(isPlainObject(fromOtherContext(`{ src: 'https://h.example/a.jpg' }`)), true);
    assert.equal(isPlainObject(Object.create(null)), true);
    assert.equal(isPlainObject(fromOtherContext('Object.create(null)')), true);
    assert.equal(isPlainObject(JSON.parse('{"a":1}')), true);
  });

  it('isPlainObject still refuses arrays, class instances, maps, buffers and dates from any context', () => {
    class Frame {
      src = 'https://h.example/a.jpg';
    }
    for (const value of [[], new Frame(), new Map(), Buffer.from('x'), new Date(), null, 'x']) {
      assert.equal(isPlainObject(value), false, String(value));
    }
    for (const code of ['[]', 'new Map()', 'new Date()', 'new (class Frame { constructor() { this.src = "x"; } })()']) {
      assert.equal(isPlainObject(fromOtherContext(code)), false, code);
    }
  });

  it('normalizeFrames reads {frame_id, src} objects made in another context', () => {
    const input = fromOtherContext(`[{ frame_id: 'a', src: 'https://h.example/a.jpg' }, { src: 'https://h.example/b.jpg' }]`);
    assert.deepEqual(normalizeFrames(input), [
      { frame_id: 'a', src: 'https://h.example/a.jpg' },
      { frame_id: 'b.jpg', src: 'https://h.example/b.jpg' },
    ]);
    const bare = Object.assign(Object.create(null), { frame_id: 'c', src: 'https://h.example/c.jpg' });
    assert.deepEqual(normalizeFrames([bare]), [{ frame_id: 'c', src: 'https://h.example/c.jpg' }]);
  });

  it('isBulkPayload recognises sequences made in another context', () => {
    assert.equal(isBulkPayload(fromOtherContext(`[{ frames: ['https://h.example/a.jpg'] }, { frames: ['https://h.example/b.jpg'] }]`)), true);
    assert.equal(isBulkPayload(fromOtherContext(`[{ frame_id: 'a', src: 'https://h.example/a.jpg' }]`)), false);
  });
});
