/**
 * An attempt through an http proxy that refuses to open the tunnel: undici's ProxyAgent tells the
 * proxy's status only in its error message, which transport.ts reads back into the error the
 * caller sees (407: the credentials, not retried; any other status: retried).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ProxyAgent } from 'undici';
import { sendAttempt, transportError, type AttemptState } from '../../src/api/transport';
import type { PlaymentError } from '../../src/api/errors';

describe('transport: a proxy that refuses CONNECT', () => {
  let proxy: Server;
  let proxyUrl = '';
  /** The status the proxy answers to every CONNECT. */
  let refusal = 407;
  let connects: string[];
  const agents: ProxyAgent[] = [];

  before(async () => {
    proxy = createServer((req, res) => {
      // A plain (non-CONNECT) request: this proxy only tunnels.
      req.resume();
      res.writeHead(502).end();
    });
    proxy.on('connect', (req, socket: Socket) => {
      connects.push(`${req.method} ${req.url}`);
      const reason = refusal === 407 ? 'Proxy Authentication Required' : 'Bad Gateway';
      const challenge = refusal === 407 ? 'Proxy-Authenticate: Basic realm="proxy"\r\n' : '';
      socket.end(`HTTP/1.1 ${refusal} ${reason}\r\n${challenge}Content-Length: 0\r\nConnection: close\r\n\r\n`);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    connects = [];
  });
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.destroy()));
  });
  after(async () => {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
  });

  /** One attempt to an API host only the proxy could reach: nothing leaves the machine. */
  function attemptThroughProxy(): Promise<unknown> {
    const agent = new ProxyAgent({ uri: proxyUrl });
    agents.push(agent);
    return sendAttempt(
      { method: 'GET', path: '/v1/projects/p1/details' },
      { dispatcher: agent, baseUrl: 'http://api.example.test', apiKey: 'key-proxy', signals: [], timeoutMs: 10_000 },
    );
  }

  it('407: a NETWORK error about the proxy credentials, not retryable', async () => {
    refusal = 407;
    await assert.rejects(attemptThroughProxy(), (e: PlaymentError) => {
      assert.deepEqual(
        [e.code, e.retryable, e.message],
        [
          'NETWORK',
          false,
          'the proxy refused its credentials (HTTP 407 to CONNECT): check the user and password of the http proxy node or proxy variable',
        ],
      );
      return true;
    });
    assert.deepEqual(connects, ['CONNECT api.example.test:80']);
  });

  it('any other status (502): a retryable NETWORK error naming that status', async () => {
    refusal = 502;
    await assert.rejects(attemptThroughProxy(), (e: PlaymentError) => {
      assert.deepEqual(
        [e.code, e.retryable, e.message],
        ['NETWORK', true, 'the proxy answered HTTP 502 to CONNECT instead of opening a tunnel to the API'],
      );
      return true;
    });
    assert.deepEqual(connects, ['CONNECT api.example.test:80']);
  });
});

describe("transportError: only undici's whole proxy refusal reads as one", () => {
  const running: AttemptState = { timedOut: false, aborted: false, reason: undefined };
  const refusal = 'Proxy response (502) !== 200 when HTTP Tunneling';
  const failure = (code: string | undefined, message: string) => transportError(Object.assign(new Error(message), { code }), running, 1000);

  it('the refusal text with undici abort code is the proxy refusal', () => {
    const e = failure('UND_ERR_ABORTED', refusal);
    assert.deepEqual(
      [e.code, e.retryable, e.message],
      ['NETWORK', true, 'the proxy answered HTTP 502 to CONNECT instead of opening a tunnel to the API'],
    );
  });

  it('a message that merely contains the refusal text, or another code, is a plain network error', () => {
    for (const message of [`upstream: ${refusal}`, `${refusal} (after 3 tries)`, 'Proxy response (5020) !== 200 when HTTP Tunneling']) {
      const e = failure('UND_ERR_ABORTED', message);
      assert.deepEqual([e.code, e.retryable, e.message], ['NETWORK', true, 'network error: UND_ERR_ABORTED'], message);
    }
    const reset = failure('ECONNRESET', refusal);
    assert.deepEqual([reset.code, reset.retryable, reset.message], ['NETWORK', true, 'network error: ECONNRESET']);
    const codeless = failure(undefined, refusal);
    assert.equal(codeless.message, `network error: ${refusal}`);
  });
});
