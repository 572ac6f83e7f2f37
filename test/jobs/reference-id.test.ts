/** Reference ids: which parts of a frame URL count, and that every field changes the id. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { normalizeFrames } from '../../src/jobs/frames';
import { deriveReferenceId, withoutSigningParams } from '../../src/jobs/reference-id';

describe('withoutSigningParams', () => {
  it('leaves URLs without a query as they are', () => {
    assert.equal(withoutSigningParams('https://h/a.jpg'), 'https://h/a.jpg');
    assert.equal(withoutSigningParams('https://h/a.jpg#sig=1'), 'https://h/a.jpg#sig=1');
  });

  it('drops signing parameters of S3, GCS and Azure, in any case, with or without a value', () => {
    assert.equal(withoutSigningParams('https://h/a.jpg?X-Amz-Date=1&x-goog-credential=2&v=3'), 'https://h/a.jpg?v=3');
    assert.equal(withoutSigningParams('https://h/a.jpg?SIG=1&Policy=2&Key-Pair-Id=3&sv=4&srt=5&skoid=6'), 'https://h/a.jpg');
    assert.equal(withoutSigningParams('https://h/a.jpg?signature&w=1'), 'https://h/a.jpg?w=1');
  });

  it('keeps parameters that only resemble signing ones, and looks at names only', () => {
    const kept = 'https://h/a.jpg?sigma=1&xsig=2&my-x-amz-date=3&v=sig&expiresAt=4';
    assert.equal(withoutSigningParams(kept), kept);
  });

  it('drops the fragment after a query and skips empty pairs', () => {
    assert.equal(withoutSigningParams('https://h/a.jpg?&v=1&&sig=2#part'), 'https://h/a.jpg?v=1');
    assert.equal(withoutSigningParams('https://h/a.jpg?v=1#x?sig=2'), 'https://h/a.jpg?v=1');
  });
});

describe('deriveReferenceId', () => {
  const frames = [
    { frame_id: '1.jpg', src: 'https://h/s/1.jpg' },
    { frame_id: '2.jpg', src: 'https://h/s/2.jpg' },
  ];
  const base = { projectId: 'p', tag: 't', workFlowId: 'w', batchId: 'b', frames };

  it('changes with the work flow id, a frame id or a frame source', () => {
    const id = deriveReferenceId(base);
    assert.notEqual(deriveReferenceId({ ...base, workFlowId: 'x' }), id);
    assert.notEqual(deriveReferenceId({ ...base, workFlowId: undefined }), id);
    assert.notEqual(deriveReferenceId({ ...base, frames: [{ ...frames[0], frame_id: 'x' }, frames[1]] }), id);
    assert.notEqual(deriveReferenceId({ ...base, frames: [{ ...frames[0], src: 'https://h/t/1.jpg' }, frames[1]] }), id);
    assert.notEqual(deriveReferenceId({ ...base, frames: frames.slice(0, 1) }), id);
  });

  it('tells a missing field from an empty one only by position, never by concatenation', () => {
    // A field moved between neighbours must change the id.
    assert.notEqual(
      deriveReferenceId({ projectId: 'p', tag: 'a', frames }),
      deriveReferenceId({ projectId: 'p', workFlowId: 'a', frames }),
    );
    assert.notEqual(
      deriveReferenceId({ projectId: 'p', tag: 't', frames: [{ frame_id: 'a;', src: 'b' }] }),
      deriveReferenceId({ projectId: 'p', tag: 't', frames: [{ frame_id: 'a', src: ';b' }] }),
    );
  });

  it('is the same for a sequence whose URLs were signed again', () => {
    const signed = frames.map((f, i) => ({ ...f, src: `${f.src}?X-Amz-Signature=${i}&X-Amz-Expires=60` }));
    assert.equal(deriveReferenceId({ ...base, frames: signed }), deriveReferenceId(base));
  });

  it('is the SHA-256 of the length-prefixed fields, for short sequences and ones hashed in pieces', () => {
    // The format is a contract: ids already sent to Playment must stay the same after an upgrade.
    const field = (v: string | undefined) => `${(v ?? '').length}:${v ?? ''};`;
    for (const count of [1, 3000]) {
      const seq = Array.from({ length: count }, (_, i) => ({ frame_id: `f${i}`, src: `https://cdn.example.com/seq/f${i}.jpg?sig=${i}` }));
      const text = [
        field('playment-video-job/1'),
        field('p'),
        field('t'),
        field(undefined),
        field(undefined),
        field(String(count)),
        ...seq.flatMap((f) => [field(f.frame_id), field(f.src.replace(/\?sig=\d+$/, ''))]),
      ].join('');
      const digest = createHash('sha256').update(text).digest('hex').slice(0, 32);
      assert.equal(deriveReferenceId({ projectId: 'p', tag: 't', frames: seq }), `nr-${digest}`);
    }
  });
});

describe('reference ids', () => {
  const frames = normalizeFrames(['https://h/s/1.jpg', 'https://h/s/2.jpg']);
  const base = { projectId: 'p', tag: 't', frames };

  it('are stable for the same content and differ when any part differs', () => {
    const id = deriveReferenceId(base);
    assert.match(id, /^nr-[0-9a-f]{32}$/);
    assert.equal(deriveReferenceId({ ...base }), id);
    assert.notEqual(deriveReferenceId({ ...base, projectId: 'q' }), id);
    assert.notEqual(deriveReferenceId({ ...base, tag: 'u' }), id);
    assert.notEqual(deriveReferenceId({ ...base, batchId: 'b' }), id);
    assert.notEqual(deriveReferenceId({ ...base, frames: [...frames].reverse() }), id);
    // No ambiguity from concatenation.
    assert.notEqual(deriveReferenceId({ projectId: 'ab', tag: 'c', frames }), deriveReferenceId({ projectId: 'a', tag: 'bc', frames }));
  });

  it('keep their exact digest (ids already sent to Playment must not change)', () => {
    // Pinned from the implementation before the hash input was batched: any change here breaks
    // duplicate detection for sequences resent after an upgrade.
    assert.equal(deriveReferenceId(base), 'nr-6edc02f6b9053aa18e0520ce3b14a1e6');
    const big = normalizeFrames(
      Array.from({ length: 5000 }, (_, i) =>
        i % 7 === 0
          ? { frame_id: `café ${i} ✓`, src: `s3://bucket/seq/caf%C3%A9_${i}.png?X-Amz-Signature=${i}&v=${i % 3}` }
          : `https://cdn.example.com/run/seq-000001/frame_${String(i).padStart(5, '0')}.jpg`,
      ),
    );
    assert.equal(
      deriveReferenceId({ projectId: 'proj-é', tag: 'track', workFlowId: 'wf', batchId: 'b', frames: big }),
      'nr-3fecfd770ed59e73813e4dab8e3a696a',
    );
    // Lone surrogates at field edges (each field is hashed as UTF-8, so U+FFFD each).
    const odd = [
      { frame_id: 'a\uD83D', src: 'https://h/\uDE00.jpg' },
      { frame_id: '\uDE00b', src: 'https://h/x.jpg?sig=1' },
    ];
    assert.equal(deriveReferenceId({ projectId: 'p\uD800', tag: '\uDC00t', frames: odd }), 'nr-6ed3aeef884fcbd075b45d915ce5b255');
  });

  it('ignore URL signing parameters, so a re-signed sequence keeps its id', () => {
    assert.equal(withoutSigningParams('https://h/a.jpg?X-Amz-Signature=1&X-Amz-Expires=2&v=3'), 'https://h/a.jpg?v=3');
    assert.equal(withoutSigningParams('https://h/a.jpg?sig=abc&se=2026&sp=r'), 'https://h/a.jpg');
    const signed = normalizeFrames(['https://h/s/1.jpg?X-Goog-Signature=zz', 'https://h/s/2.jpg?Signature=y&Expires=1']);
    assert.equal(deriveReferenceId({ ...base, frames: signed }), deriveReferenceId(base));
  });
});
