/**
 * Proxies from the environment: a real proxy on 127.0.0.1 records what reaches it. Loopback
 * targets (plain http, the key in clear) never go through it; other hosts do.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PlaymentClient } from '../../src/api/client';
import { PlaymentError } from '../../src/api/errors';

const KEY = 'sk-proxy-test-5d1e0c9a';
const PROXY_VARIABLES = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'];

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

describe('proxies and loopback', () => {
  const savedEnv = new Map<string, string | undefined>();
  /** Everything that reached the proxy: CONNECT targets and absolute-form request lines. */
  let proxied: string[];
  let proxy: Server;
  let api: Server;
  let apiRequests: number;
  const clients: PlaymentClient[] = [];

  before(async () => {
    proxied = [];
    proxy = createServer((req, res) => {
      proxied.push(`${req.method} ${req.url}`);
      res.writeHead(502).end();
    });
    proxy.on('connect', (req, socket) => {
      proxied.push(`CONNECT ${req.url}`);
      // The proxy answers itself: nothing leaves this machine.
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
    });
    const proxyPort = await listen(proxy, '127.0.0.1');
    apiRequests = 0;
    api = createServer((req, res) => {
      apiRequests++;
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true,"data":{"batches":[]}}');
    });
    await listen(api, '127.0.0.1');
    for (const name of PROXY_VARIABLES) savedEnv.set(name, process.env[name]);
    for (const name of PROXY_VARIABLES) delete process.env[name];
    process.env.HTTP_PROXY = `http://127.0.0.1:${proxyPort}`;
    process.env.HTTPS_PROXY = `http://127.0.0.1:${proxyPort}`;
    process.env.NO_PROXY = '';
  });

  after(async () => {
    for (const [name, value] of savedEnv) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await Promise.all(clients.map((c) => c.close(0)));
    await close(proxy);
    await close(api);
  });

  beforeEach(() => {
    proxied.length = 0;
    apiRequests = 0;
  });

  function client(baseUrl: string): PlaymentClient {
    const c = new PlaymentClient({ baseUrl, apiVersion: 'v1', projectId: 'p1', apiKey: KEY, maxRetries: 0, rateLimit: 0 });
    clients.push(c);
    return c;
  }

  for (const host of ['127.0.0.1', 'localhost']) {
    it(`a loopback base URL (http://${host}) goes straight to the API, never to the proxy`, async () => {
      const { port } = api.address() as AddressInfo;
      const details = await client(`http://${host}:${port}`).projectDetails();
      assert.deepEqual(details, { batches: [] });
      assert.equal(apiRequests, 1);
      assert.deepEqual(proxied, []);
    });
  }

  it('a loopback base URL on [::1] goes straight to the API, never to the proxy', async function () {
    const api6 = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true,"data":{"batches":[]}}');
    });
    let port: number;
    try {
      port = await listen(api6, '::1');
    } catch {
      this.skip(); // no IPv6 loopback on this machine
    }
    try {
      assert.deepEqual(await client(`http://[::1]:${port}`).projectDetails(), { batches: [] });
      assert.deepEqual(proxied, []);
    } finally {
      await close(api6);
    }
  });

  it('another host goes through the proxy (the proxy sees it, so the tests above can fail)', async () => {
    await assert.rejects(client('http://example.invalid').projectDetails(), (e: PlaymentError) => e instanceof PlaymentError);
    assert.equal(proxied.length, 1, JSON.stringify(proxied));
    assert.match(proxied[0], /example\.invalid/);
    assert.equal(apiRequests, 0);
  });

  for (const name of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy']) {
    it(`${name} alone sends another host through the proxy, loopback still straight`, async () => {
      const url = process.env.HTTP_PROXY!;
      const saved = Object.fromEntries(PROXY_VARIABLES.map((n) => [n, process.env[n]]));
      for (const n of PROXY_VARIABLES) delete process.env[n];
      process.env[name] = url;
      try {
        const scheme = name.toLowerCase().startsWith('https') ? 'https' : 'http';
        const other = client(`${scheme}://example.invalid`);
        const { port } = api.address() as AddressInfo;
        const loopback = client(`http://127.0.0.1:${port}`);
        await assert.rejects(other.projectDetails(), (e: PlaymentError) => e instanceof PlaymentError);
        assert.equal(proxied.length, 1, JSON.stringify(proxied));
        assert.match(proxied[0], /example\.invalid/);
        assert.deepEqual(await loopback.projectDetails(), { batches: [] });
        assert.equal(proxied.length, 1);
      } finally {
        for (const [n, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[n];
          else process.env[n] = v;
        }
      }
    });
  }
});
