/** One attempt over HTTP (sendAttempt): answers, status codes, the size cap, timeouts and aborts. */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { MAX_RESPONSE_BYTES, sendAttempt } from '../../src/api/transport';
import { PlaymentError } from '../../src/api/errors';

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
      await assert.rejects(
        attempt(path),
        (e: PlaymentError) => e.code === 'BAD_RESPONSE' && /answer larger than 1048576 bytes \(HTTP 200\)/.test(e.message),
      );
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
