/** One attempt over HTTP: the size cap, what is sent, and what a failure without an answer becomes. */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { AttemptControl, MAX_RESPONSE_BYTES, readCapped, sendAttempt, transportError, type AttemptState } from '../../src/api/transport';
import { PlaymentError } from '../../src/api/errors';

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
        else if (req.url === '/empty') res.writeHead(200, { 'content-length': '0' }).end();
        else if (req.url === '/unsized') {
          // Chunked: no Content-Length, the body in several pieces.
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"success":true,');
          res.write('"data":{"chunks":');
          res.end('3}}');
        } else res.end('{"success":true,"data":{"ok":true}}');
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

  it('no answer within the attempt time is a retryable TIMEOUT naming that time, caused by a TimeoutError', async () => {
    await assert.rejects(sendAttempt({ method: 'GET', path: '/slow' }, options(50)), (e: PlaymentError) => {
      assert.deepEqual([e.code, e.retryable, e.message], ['TIMEOUT', true, 'no answer from the API within 50 ms']);
      // As AbortSignal.timeout() would abort it: a cause that tells a timeout from an abort.
      const cause = e.cause as DOMException;
      assert.deepEqual([cause.name, cause.message], ['TimeoutError', 'The operation was aborted due to timeout']);
      return true;
    });
  });

  it('an answer without a length, or with a length of 0, is read whole', async () => {
    assert.deepEqual(await sendAttempt({ method: 'GET', path: '/unsized' }, options()), { chunks: 3 });
    // An empty 2xx body is not JSON: refused as an answer, after a read that did not fail.
    await assert.rejects(sendAttempt({ method: 'GET', path: '/empty' }, options()), (e: PlaymentError) => {
      assert.deepEqual([e.code, e.statusCode], ['BAD_RESPONSE', 200]);
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

describe('transportError: an abort by a followed signal', () => {
  it("ends with the signal's reason when that is a PlaymentError, else with ABORTED", () => {
    const reason = new PlaymentError({ code: 'ABORTED', message: 'the Playment config node was closed' });
    // undici may fail with an error of its own (a socket closed under it) rather than the reason.
    const failed = new Error('other side closed');
    assert.equal(transportError(failed, { timedOut: false, aborted: true, reason }, 1000), reason);
    const plain = transportError(failed, { timedOut: false, aborted: true, reason: new Error('node stopped') }, 1000);
    assert.deepEqual([plain.code, plain.message, plain.cause], ['ABORTED', 'request aborted', failed]);
  });
});

describe('AttemptControl: the abort side of one attempt', () => {
  it("a followed signal aborts the attempt with that signal's reason", () => {
    const node = new AbortController();
    const control = new AttemptControl([undefined, node.signal], 10_000);
    const reason = new PlaymentError({ code: 'ABORTED', message: 'closed' });
    node.abort(reason);
    assert.deepEqual([control.aborted, control.timedOut, control.reason, control.signal.reason], [true, false, reason, reason]);
    assert.equal(transportError(new Error('socket closed'), control, 10_000), reason);
    control.end();
  });

  it('an abort without a reason gets one of its own; the first reason stays', () => {
    const control = new AttemptControl([], 10_000);
    control.abort();
    const first = control.reason as Error;
    assert.equal(first.name, 'AbortError');
    control.abort(new Error('later'));
    assert.equal(control.reason, first);
    control.end();
  });

  it('once ended, neither its timer nor a followed signal aborts it any more', async () => {
    const node = new AbortController();
    const control = new AttemptControl([node.signal], 1);
    control.end();
    // Timers fire in the order they are due: the 1 ms timer, had it been left, fires before this one.
    await new Promise((resolve) => setTimeout(resolve, 20));
    node.abort(new Error('node closed'));
    assert.deepEqual([control.timedOut, control.aborted], [false, false]);
  });

  it('its timer aborts it as timed out', async () => {
    const control = new AttemptControl([], 1);
    await new Promise((resolve) => control.signal.addEventListener('abort', resolve, { once: true }));
    assert.deepEqual([control.timedOut, control.aborted, (control.reason as DOMException).name], [true, true, 'TimeoutError']);
    control.end();
  });
});

describe('readCapped: one buffer, at most the cap', () => {
  /** An answer as request() gives it: its headers and a body of `chunks`. */
  const answer = (headers: Record<string, string>, chunks: string[]) =>
    ({ statusCode: 200, headers, body: Readable.from(chunks.map((c) => Buffer.from(c))) }) as unknown as Dispatcher.ResponseData<unknown>;
  const tooLarge = () => new Error('too large');

  it('a declared length that is no size (negative, fractional, not a number) is not trusted: the body is read as it comes', async () => {
    for (const declared of ['-1', '1.5', 'abc', '']) {
      const bytes = await readCapped(answer({ 'content-length': declared }, ['{"a":', '1}']), 100, tooLarge);
      assert.equal(bytes.toString('utf8'), '{"a":1}', declared);
    }
  });

  it('a declared length shorter or longer than the body still gives the body read', async () => {
    assert.equal((await readCapped(answer({ 'content-length': '2' }, ['abc', 'def']), 100, tooLarge)).toString(), 'abcdef');
    assert.equal((await readCapped(answer({ 'content-length': '50' }, ['abc']), 100, tooLarge)).toString(), 'abc');
    await assert.rejects(readCapped(answer({ 'content-length': '3' }, ['abc', 'def']), 5, tooLarge), /too large/);
  });
});
