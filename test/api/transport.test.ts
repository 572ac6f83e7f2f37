/** One attempt over HTTP: the size cap, what is sent, and what a failure without an answer becomes. */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { MAX_RESPONSE_BYTES, sendAttempt, transportError, type AttemptState } from '../../src/api/transport';
import type { PlaymentError } from '../../src/api/errors';

describe('transport: answer size cap', () => {
  let server: Server;
  let agent: Agent;
  let baseUrl = '';
  const held: ServerResponse[] = [];

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      // Declares a body over the cap, sends its headers, and holds the body back.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(MAX_RESPONSE_BYTES + 1) });
      res.flushHeaders();
      held.push(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    agent = new Agent({ connections: 1 });
  });
  after(async () => {
    await agent.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses a declared length over the cap from the headers, without waiting for the body', async () => {
    // Read to the end, the held body would end the attempt with TIMEOUT instead.
    const attempt = sendAttempt({ method: 'GET', path: '/big' }, { dispatcher: agent, baseUrl, apiKey: 'k', signals: [], timeoutMs: 5000 });
    await assert.rejects(attempt, (e: PlaymentError) => {
      assert.equal(e.code, 'BAD_RESPONSE');
      assert.match(e.message, new RegExp(`answer larger than ${MAX_RESPONSE_BYTES} bytes \\(HTTP 200\\)`));
      return true;
    });
    assert.equal(held.length, 1);
  });
});

describe('transport: what is sent, and what a failure becomes', () => {
  let server: Server;
  let agent: Agent;
  let baseUrl = '';
  let received: Array<{ method?: string; headers: Record<string, unknown>; body: string }>;

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        if (req.url === '/slow') setTimeout(() => res.end('{"success":true,"data":{}}'), 2000);
        else res.end('{"success":true,"data":{"ok":true}}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    agent = new Agent({ connections: 2 });
  });
  beforeEach(() => {
    received = [];
  });
  after(async () => {
    await agent.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const options = (timeoutMs = 5000) => ({ dispatcher: agent, baseUrl, apiKey: 'key-1234', signals: [], timeoutMs });

  it('a POST sends its body as JSON with the key; a GET sends no body and no content type', async () => {
    assert.deepEqual(await sendAttempt({ method: 'POST', path: '/jobs', body: { a: 1 } }, options()), { ok: true });
    assert.deepEqual(await sendAttempt({ method: 'GET', path: '/jobs/1' }, options()), { ok: true });
    const [post, get] = received;
    assert.deepEqual(
      [post.method, post.headers['x-api-key'], post.headers.accept, post.headers['content-type'], post.body],
      ['POST', 'key-1234', 'application/json', 'application/json', '{"a":1}'],
    );
    assert.deepEqual(
      [get.method, get.headers['x-api-key'], get.headers.accept, get.headers['content-type'], get.body],
      ['GET', 'key-1234', 'application/json', undefined, ''],
    );
  });

  it('a body serialised already is sent as that text', async () => {
    await sendAttempt({ method: 'POST', path: '/jobs', body: { a: 1 }, json: '{"a":1,"serialised":"once"}' }, options());
    assert.equal(received[0].body, '{"a":1,"serialised":"once"}');
  });

  it('no answer within the attempt time is a retryable TIMEOUT naming that time', async () => {
    await assert.rejects(sendAttempt({ method: 'GET', path: '/slow' }, options(50)), (e: PlaymentError) => {
      assert.deepEqual([e.code, e.retryable, e.message], ['TIMEOUT', true, 'no answer from the API within 50 ms']);
      return true;
    });
  });

  it('a refused connection is a retryable NETWORK error naming its code', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const attempt = sendAttempt({ method: 'GET', path: '/x' }, { ...options(), baseUrl: `http://127.0.0.1:${port}` });
    await assert.rejects(attempt, (e: PlaymentError) => {
      assert.deepEqual([e.code, e.retryable, e.message], ['NETWORK', true, 'network error: ECONNREFUSED']);
      return true;
    });
  });
});

describe('transportError: a failure without an answer as a PlaymentError', () => {
  const running: AttemptState = { timedOut: false, aborted: false, reason: undefined };

  it('a connect timeout is a retryable TIMEOUT', () => {
    const e = transportError(Object.assign(new Error('Connect Timeout Error'), { code: 'UND_ERR_CONNECT_TIMEOUT' }), running, 1000);
    assert.deepEqual([e.code, e.retryable, e.message], ['TIMEOUT', true, 'connection timed out: UND_ERR_CONNECT_TIMEOUT']);
  });

  it('any other failure is a retryable NETWORK error naming its code, else its message', () => {
    const reset = transportError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), running, 1000);
    assert.deepEqual([reset.code, reset.retryable, reset.message], ['NETWORK', true, 'network error: ECONNRESET']);
    assert.equal(transportError(new Error('other side closed'), running, 1000).message, 'network error: other side closed');
    assert.equal(transportError({}, running, 1000).message, 'network error: unknown');
  });

  it("the attempt's own timer wins over the failure it caused", () => {
    const e = transportError(new Error('aborted'), { timedOut: true, aborted: true, reason: undefined }, 250);
    assert.deepEqual([e.code, e.message], ['TIMEOUT', 'no answer from the API within 250 ms']);
  });
});
