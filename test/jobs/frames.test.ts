/** Frames and payloads built in another context (a Function node's vm) read like our own. */
import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import { frameIdFromUrl, isPlainObject, normalizeFrames, sortFramesNaturally } from '../../src/jobs/frames';
import { isBulkPayload } from '../../src/jobs/plan';
import { thrown } from '../support/thrown';

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
    assert.equal(
      isBulkPayload(fromOtherContext(`[{ frames: ['https://h.example/a.jpg'] }, { frames: ['https://h.example/b.jpg'] }]`)),
      true,
    );
    assert.equal(isBulkPayload(fromOtherContext(`[{ frame_id: 'a', src: 'https://h.example/a.jpg' }]`)), false);
  });
});

describe('frames', () => {
  it('derives frame ids as Playment does: last path segment, no query or fragment, percent-decoded', () => {
    assert.equal(frameIdFromUrl('https://h/a/b/frame_01.jpg?X-Amz-Signature=1#x'), 'frame_01.jpg');
    assert.equal(frameIdFromUrl('s3://bucket/dir/caf%C3%A9%201.png'), 'café 1.png');
    assert.equal(frameIdFromUrl('gs://bucket/bad%E0%A4%A.png'), 'bad%E0%A4%A.png');
    assert.equal(frameIdFromUrl('https://host'), '');
    assert.equal(frameIdFromUrl('https://host/dir/'), '');
  });

  it('keeps order and accepts numbers as frame ids', () => {
    const frames = normalizeFrames([{ frame_id: 2, src: 'https://h/x.jpg' }, 'https://h/a.jpg']);
    assert.deepEqual(frames, [
      { frame_id: '2', src: 'https://h/x.jpg' },
      { frame_id: 'a.jpg', src: 'https://h/a.jpg' },
    ]);
  });

  it('names the frame and field in errors', () => {
    const err = thrown(() => normalizeFrames(['https://h/a.jpg', { frame_id: 'b', src: 'mailto:x@y' }], 'sequence 2'));
    assert.equal(err.code, 'INVALID_INPUT');
    assert.match(err.message, /^sequence 2 frame 1: src scheme "mailto"/);
  });

  it('finds a repeated frame id in short and long lists and names both frames', () => {
    for (const count of [10, 5_000]) {
      const urls = Array.from({ length: count }, (_, i) => `https://h/s/${i}.jpg`);
      assert.equal(normalizeFrames(urls).length, count);
      const repeated = [...urls, `https://h/other/${count - 7}.jpg`];
      const err = thrown(() => normalizeFrames(repeated));
      assert.equal(err.code, 'INVALID_INPUT');
      assert.equal(
        err.message,
        `msg.payload frames ${count - 7} and ${count} share frame_id "${count - 7}.jpg"; frame ids must be unique within a job`,
      );
    }
  });

  it('sorts naturally', () => {
    const sorted = sortFramesNaturally(['f10', 'f2', 'f1'].map((id) => ({ frame_id: id, src: `https://h/${id}` })));
    assert.deepEqual(
      sorted.map((f) => f.frame_id),
      ['f1', 'f2', 'f10'],
    );
  });
});

describe('frame ids from URLs at their edges', () => {
  it('finds the file name when the query or fragment starts with a slash or holds another URL', () => {
    assert.equal(frameIdFromUrl('https://h/a/b.jpg?/x'), 'b.jpg');
    assert.equal(frameIdFromUrl('https://h/a/b.jpg#/x'), 'b.jpg');
    assert.equal(frameIdFromUrl('dir/f.jpg?next=https://x/y'), 'f.jpg');
    assert.equal(frameIdFromUrl('dir/f.jpg?//x'), 'f.jpg');
    assert.equal(frameIdFromUrl('d/f.jpg?u=//x'), 'f.jpg');
  });
});
