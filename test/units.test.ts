/** Pure modules, tested directly: frames, reference ids, planning, retry policy, answers. */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { frameIdFromUrl, normalizeFrames, sortFramesNaturally } from '../src/jobs/frames';
import { deriveReferenceId, withoutSigningParams } from '../src/jobs/reference-id';
import { planJobs, splitFrames } from '../src/jobs/plan';
import { backoffDelay, retryAfterMs } from '../src/api/retry';
import { MAX_RESPONSE_BYTES, sendAttempt } from '../src/api/transport';
import { parseAnswer } from '../src/api/answers';
import { PlaymentError, redact } from '../src/api/errors';
import { PROFILES } from '../src/api/profiles';
import { checkBaseUrl } from '../src/nodes/common/base-url';

function thrown(fn: () => unknown): PlaymentError {
  try {
    fn();
  } catch (err) {
    return err as PlaymentError;
  }
  throw new Error('expected a throw');
}

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
    assert.deepEqual(sorted.map((f) => f.frame_id), ['f1', 'f2', 'f10']);
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

describe('planning jobs', () => {
  const opts = { projectId: 'p', frameOrder: 'given' as const, maxFramesPerJob: 0, overlap: 0 };

  it('lets node values win over msg values', () => {
    const [job] = planJobs(['https://h/1.jpg'], { tag: 'node' }, { tag: 'msg', work_flow_id: 'wf', priority_weight: '3' }, opts);
    assert.equal(job.body.tag, 'node');
    assert.equal(job.body.work_flow_id, 'wf');
    assert.equal(job.body.priority_weight, 3);
  });

  it('numbers a shared reference id across bulk sequences', () => {
    const jobs = planJobs([{ frames: ['https://h/1.jpg'] }, { frames: ['https://h/2.jpg'] }], { tag: 't' }, { reference_id: 'run' }, opts);
    assert.deepEqual(jobs.map((j) => j.body.reference_id), ['run-1', 'run-2']);
  });

  it('refuses two bulk sequences with the same reference id', () => {
    const err = thrown(() => planJobs([{ frames: ['https://h/1.jpg'], reference_id: 'x' }, { frames: ['https://h/2.jpg'], reference_id: 'x' }], { tag: 't' }, {}, opts));
    assert.match(err.message, /msg\.payload\[0\] and msg\.payload\[1\] have the same reference_id/);
  });

  it('splits with overlap into windows that cover every frame', () => {
    assert.deepEqual(splitFrames([1, 2, 3, 4, 5, 6, 7], 3, 1), [[1, 2, 3], [3, 4, 5], [5, 6, 7]]);
    assert.deepEqual(splitFrames([1, 2, 3, 4], 3, 0), [[1, 2, 3], [4]]);
    assert.deepEqual(splitFrames([1, 2], 3, 2), [[1, 2]]);
  });
});

describe('retry policy', () => {
  it('backs off exponentially with full jitter, capped', () => {
    const policy = { maxRetries: 4, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(backoffDelay(0, policy, () => 0.999), 99);
    assert.equal(backoffDelay(3, policy, () => 0.5), 400);
    assert.equal(backoffDelay(10, policy, () => 0.999), 999);
    assert.equal(backoffDelay(2, policy, () => 0), 0);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(retryAfterMs('3'), 3000);
    assert.equal(retryAfterMs('0.5'), 500);
    const now = Date.parse('2026-11-29T10:00:00Z');
    assert.equal(retryAfterMs('Sun, 29 Nov 2026 10:00:05 GMT', now), 5000);
    assert.equal(retryAfterMs('Sun, 29 Nov 2026 09:00:00 GMT', now), 0);
    assert.equal(retryAfterMs('soon'), undefined);
    assert.equal(retryAfterMs(undefined), undefined);
  });
});

describe('answers from the API', () => {
  it('maps the envelope, statuses and non-JSON bodies to codes', () => {
    assert.deepEqual(parseAnswer(200, '{"success":true,"data":{"job_id":"j"}}'), { job_id: 'j' });
    const dup = thrown(() => parseAnswer(400, '{"success":false,"error":{"code":"FS_0001","message":"dup"}}'));
    assert.deepEqual([dup.code, dup.statusCode, dup.retryable], ['FS_0001', 400, false]);
    const server = thrown(() => parseAnswer(400, '{"success":false,"error":{"code":"FS_0000","message":"later"}}'));
    assert.equal(server.retryable, true);
    const notFound = thrown(() => parseAnswer(404, '{"success":false,"error":{"code":"api_error","message":"x"}}'));
    assert.equal(notFound.retryable, false);
    assert.equal(thrown(() => parseAnswer(401, 'nope')).code, 'UNAUTHORIZED');
    const gateway = thrown(() => parseAnswer(502, '<html>'));
    assert.deepEqual([gateway.code, gateway.retryable], ['HTTP_ERROR', true]);
    assert.equal(thrown(() => parseAnswer(200, '<html>')).code, 'BAD_RESPONSE');
    assert.equal(thrown(() => parseAnswer(200, '{"ok":1}')).code, 'BAD_RESPONSE');
  });

  it('redacts a secret from any text', () => {
    assert.equal(redact('key sk-123456 leaked sk-123456', 'sk-123456'), 'key *** leaked ***');
    assert.equal(redact('nothing here', undefined), 'nothing here');
  });
});

describe('profiles and base URLs', () => {
  it('build both path layouts with encoded segments', () => {
    assert.equal(PROFILES.v0.createBatch('p 1'), '/v1/project/p%201/batch');
    assert.equal(PROFILES.v1.createBatch('p'), '/v1/projects/p/batch');
    assert.equal(PROFILES.v0.batchJobs('p', 'b', 't/1'), '/v0/projects/p/batch/b?page_token=t%2F1');
    assert.equal(PROFILES.v1.getJob('p', '../x'), '/v1/projects/p/jobs/..%2Fx');
  });

  it('accept https anywhere and plain http only on loopback', () => {
    assert.equal(checkBaseUrl('https://api.playment.io/'), 'https://api.playment.io');
    assert.equal(checkBaseUrl('http://127.0.0.1:4010'), 'http://127.0.0.1:4010');
    assert.equal(checkBaseUrl('http://localhost:4010/base/'), 'http://localhost:4010/base');
    assert.throws(() => checkBaseUrl('http://api.playment.io'), /must use https/);
    assert.throws(() => checkBaseUrl('ftp://x'), /must use https/);
    assert.throws(() => checkBaseUrl('https://u:p@x'), /user name/);
  });
});

describe('one attempt over HTTP', () => {
  let server: Server;
  let agent: Agent;
  let baseUrl = '';
  const answers: Record<string, (res: import('node:http').ServerResponse) => void> = {
    '/ok': (res) => res.end('{"success":true,"data":{"job_id":"j"}}'),
    '/slow': (res) => setTimeout(() => res.end('{"success":true,"data":{}}'), 300),
    '/busy': (res) => res.writeHead(429, { 'retry-after': '7' }).end('{"success":false,"error":{"code":"rate_limited"}}'),
    '/huge': (res) => res.end(Buffer.alloc(MAX_RESPONSE_BYTES + 1, 32)),
    '/chunked-huge': (res) => {
      for (let i = 0; i <= MAX_RESPONSE_BYTES / 65536; i++) res.write(Buffer.alloc(65536, 32));
      res.end();
    },
    '/bom': (res) => res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"success":true,"data":1}')])),
  };

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      answers[req.url ?? '']?.(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    agent = new Agent({ connections: 4 });
  });
  after(async () => {
    await agent.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const attempt = (path: string, signals: Array<AbortSignal | undefined> = [], timeoutMs = 2000) =>
    sendAttempt({ method: 'POST', path, body: { a: 1 } }, { dispatcher: agent, baseUrl, apiKey: 'k', signals, timeoutMs });

  it('returns the data, or maps status, Retry-After and oversized answers', async () => {
    assert.deepEqual(await attempt('/ok'), { job_id: 'j' });
    await assert.rejects(attempt('/busy'), (e: PlaymentError) => e.code === 'rate_limited' && e.retryable && e.retryAfter === '7');
    for (const path of ['/huge', '/chunked-huge']) {
      await assert.rejects(attempt(path), (e: PlaymentError) => e.code === 'BAD_RESPONSE' && /answer larger than 1048576 bytes \(HTTP 200\)/.test(e.message));
    }
    // A byte-order mark is not JSON: the answer is refused as before.
    await assert.rejects(attempt('/bom'), (e: PlaymentError) => e.code === 'BAD_RESPONSE' && /not JSON/.test(e.message));
  });

  it('tells its own timeout from an abort by the caller', async () => {
    await assert.rejects(attempt('/slow', [], 50), (e: PlaymentError) => e.code === 'TIMEOUT' && e.retryable);
    const closing = new AbortController();
    const reason = new PlaymentError({ code: 'ABORTED', message: 'closed' });
    setTimeout(() => closing.abort(reason), 30);
    await assert.rejects(attempt('/slow', [closing.signal]), (e) => e === reason);
    const before = new AbortController();
    before.abort();
    await assert.rejects(attempt('/ok', [before.signal]), (e: PlaymentError) => e.code === 'ABORTED' && e.message === 'request aborted');
  });

  it('leaves no listener behind on a long-lived signal', async () => {
    const nodeLife = new AbortController();
    for (let i = 0; i < 30; i++) await attempt('/ok', [nodeLife.signal, undefined]);
    await Promise.allSettled(Array.from({ length: 20 }, () => attempt('/slow', [nodeLife.signal], 20)));
    assert.ok(getEventListeners(nodeLife.signal, 'abort').length <= 1);
    // The one listener it keeps is shared: aborting now reaches no finished attempt.
    nodeLife.abort();
  });
});

