/** Frame helpers: previews in messages, frame ids from URLs, the checks on each frame, natural order. */
import assert from 'node:assert/strict';
import { frameIdFromUrl, isPlainObject, normalizeFrames, preview, sortFramesNaturally } from '../../src/jobs/frames';
import type { PlaymentError } from '../../src/api/errors';

function refusal(input: unknown, label?: string): string {
  try {
    normalizeFrames(input, label);
  } catch (err) {
    assert.equal((err as PlaymentError).code, 'INVALID_INPUT');
    return (err as PlaymentError).message;
  }
  throw new Error(`expected ${preview(input)} to be refused`);
}

describe('preview', () => {
  it('shows strings quoted and other values as JSON', () => {
    assert.equal(preview('a"b'), '"a\\"b"');
    assert.equal(preview({ a: [1, null] }), '{"a":[1,null]}');
    assert.equal(preview(NaN), 'null');
  });

  it('shows values JSON cannot write by their text or type', () => {
    assert.equal(preview(undefined), 'undefined');
    assert.equal(preview(Symbol('s')), 'Symbol(s)');
    assert.equal(preview(10n), '[object BigInt]');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.equal(preview(cyclic), '[object Object]');
  });

  it('cuts texts longer than 80 characters to 77 and an ellipsis', () => {
    assert.equal(preview('x'.repeat(78)), `"${'x'.repeat(78)}"`);
    assert.equal(preview('x'.repeat(79)), `"${'x'.repeat(76)}...`);
    assert.equal(preview('x'.repeat(79)).length, 80);
  });
});

describe('frameIdFromUrl', () => {
  it('takes the last path segment, before a query or a fragment, whichever comes first', () => {
    assert.equal(frameIdFromUrl('https://h/a/b.jpg#frag?x=1'), 'b.jpg');
    assert.equal(frameIdFromUrl('https://h/a/b.jpg?next=/c/d.jpg'), 'b.jpg');
    assert.equal(frameIdFromUrl('https://h/a/b.jpg?x=1#/c/d.jpg'), 'b.jpg');
    assert.equal(frameIdFromUrl('https://h/b.jpg'), 'b.jpg');
  });

  it('gives no id for a URL without a path, or an empty text', () => {
    assert.equal(frameIdFromUrl('https://host?x=/a.jpg'), '');
    assert.equal(frameIdFromUrl('https://host#/a.jpg'), '');
    assert.equal(frameIdFromUrl('s3://bucket'), '');
    assert.equal(frameIdFromUrl(''), '');
  });

  it('reads paths without a scheme too, and decodes percent-escapes, slashes included', () => {
    assert.equal(frameIdFromUrl('dir/a.jpg'), 'a.jpg');
    assert.equal(frameIdFromUrl('https://h/a%2Fb.jpg'), 'a/b.jpg');
    assert.equal(frameIdFromUrl('https://h/100%25.jpg'), '100%.jpg');
  });
});

describe('normalizeFrames checks', () => {
  it('refuses what is not a non-empty list, naming the label', () => {
    assert.match(
      refusal('https://h/a.jpg'),
      /^msg\.payload must be an array of frames \(URL strings or \{frame_id, src\}\), got "https:\/\/h\/a\.jpg"$/,
    );
    assert.equal(refusal([], 'sequence 1'), 'sequence 1 has no frames');
  });

  it('refuses items that are neither URL strings nor plain objects', () => {
    for (const item of [7, null, ['https://h/a.jpg'], new URL('https://h/a.jpg')]) {
      assert.match(refusal([item]), /^msg\.payload frame 0 must be a URL string or \{frame_id, src\}, got /, preview(item));
    }
    assert.deepEqual(normalizeFrames([Object.assign(Object.create(null), { src: 'https://h/a.jpg' })]), [
      { frame_id: 'a.jpg', src: 'https://h/a.jpg' },
    ]);
  });

  it('refuses sources that are empty, too long, relative, of another scheme, hostless or with spaces', () => {
    assert.match(refusal([{ src: '' }]), /frame 0: src must be a URL string, got ""/);
    assert.match(refusal([{ src: 5 }]), /frame 0: src must be a URL string, got 5/);
    assert.match(
      refusal([{ frame_id: 'a', src: `https://h/${'a'.repeat(8183)}` }]),
      /frame 0: src is 8193 characters long, more than 8192/,
    );
    assert.equal(normalizeFrames([{ frame_id: 'a', src: `https://h/${'a'.repeat(8182)}` }])[0].src.length, 8192);
    assert.match(refusal(['/a.jpg']), /frame 0: src must be an absolute http, https, s3 or gs URL, got "\/a\.jpg"/);
    assert.match(refusal(['ftp://h/a.jpg']), /frame 0: src scheme "ftp" is not allowed \(use http, https, s3 or gs\)/);
    assert.match(refusal(['file:///a.jpg']), /frame 0: src scheme "file" is not allowed/);
    assert.match(refusal(['s3:///a.jpg']), /frame 0: src "s3:\/\/\/a\.jpg" has no host or bucket/);
    assert.match(
      refusal(['https://h/a b.jpg']),
      /frame 0: src "https:\/\/h\/a b\.jpg" contains spaces or control characters; percent-encode them/,
    );
    assert.match(refusal(['https://h/a\u007f.jpg']), /contains spaces or control characters/);
  });

  it('accepts URLs the fast check does not know, when the URL parser does', () => {
    const src = 'https://user@h/a/[1].jpg?q=a|b';
    assert.deepEqual(normalizeFrames([src]), [{ frame_id: '[1].jpg', src }]);
    assert.deepEqual(normalizeFrames(['HTTPS://H/x.jpg']), [{ frame_id: 'x.jpg', src: 'HTTPS://H/x.jpg' }]);
  });

  it('derives a missing, null or empty frame id from the URL, and says when it cannot', () => {
    for (const frame_id of [undefined, null, '']) {
      assert.equal(normalizeFrames([{ frame_id, src: 'https://h/a.jpg' }])[0].frame_id, 'a.jpg');
    }
    assert.equal(
      refusal(['https://h/dir/']),
      'msg.payload frame 0: cannot derive a frame_id from "https://h/dir/" (no file name in its path); give {frame_id, src}',
    );
  });

  it('refuses frame ids that are blank, not text or too long', () => {
    for (const frame_id of [' ', '\u00a0', '\t', Infinity, true, {}]) {
      assert.match(
        refusal([{ frame_id, src: 'https://h/a.jpg' }]),
        /^msg\.payload frame 0: frame_id must be a non-empty string, got /,
        preview(frame_id),
      );
    }
    assert.equal(normalizeFrames([{ frame_id: ' a', src: 'https://h/a.jpg' }])[0].frame_id, ' a');
    assert.equal(normalizeFrames([{ frame_id: 'é', src: 'https://h/a.jpg' }])[0].frame_id, 'é');
    assert.match(refusal([{ frame_id: 'x'.repeat(1025), src: 'https://h/a.jpg' }]), /frame_id is 1025 characters long, more than 1024/);
    assert.equal(normalizeFrames([{ frame_id: 'x'.repeat(1024), src: 'https://h/a.jpg' }])[0].frame_id.length, 1024);
  });

  it('finds repeated frame ids among ids made to collide in the duplicate table', () => {
    // FNV-1a, as the table hashes: ids whose hashes share their low 10 bits all want one slot.
    const fnv = (s: string) => {
      let h = 0x811c9dc5 | 0;
      for (let k = 0; k < s.length; k++) h = Math.imul(h ^ s.charCodeAt(k), 0x01000193);
      return h;
    };
    const colliding: string[] = [];
    for (let n = 0; colliding.length < 300; n++) if ((fnv(`f${n}`) & 0x3ff) === 0) colliding.push(`f${n}`);
    const list = colliding.map((id) => ({ frame_id: id, src: `https://h/${id}.jpg` }));
    assert.equal(normalizeFrames(list).length, 300);
    for (const repeatAt of [10, 200]) {
      const repeated = [...list, { frame_id: colliding[repeatAt], src: 'https://h/again.jpg' }];
      assert.match(refusal(repeated), new RegExp(`^msg\\.payload frames ${repeatAt} and 300 share frame_id "${colliding[repeatAt]}"`));
    }
    // Found early in a long probe run, before the table gives way to a Set.
    const early = list.map((f, i) => (i === 40 ? { ...f, frame_id: colliding[10] } : f));
    assert.match(refusal(early), new RegExp(`^msg\\.payload frames 10 and 40 share frame_id "${colliding[10]}"`));
  });
});

describe('isPlainObject and sortFramesNaturally', () => {
  it('takes object literals and null-prototype objects only', () => {
    assert.equal(isPlainObject({}), true);
    assert.equal(isPlainObject(Object.create(null)), true);
    for (const v of [null, [], new Date(), 'x', 1, Object.create({})]) assert.equal(isPlainObject(v), false);
  });

  it('sorts numbers inside ids by value, and leaves the input list as it was', () => {
    const frames = ['b2', 'a10', 'a9', 'A1'].map((id) => ({ frame_id: id, src: `https://h/${id}` }));
    assert.deepEqual(
      sortFramesNaturally(frames).map((f) => f.frame_id),
      ['A1', 'a9', 'a10', 'b2'],
    );
    assert.deepEqual(
      frames.map((f) => f.frame_id),
      ['b2', 'a10', 'a9', 'A1'],
    );
  });
});
