/**
 * Proxies from the environment or a core http proxy node: a real proxy on 127.0.0.1 records what
 * reaches it. Loopback targets (plain http, the key in clear) never go through it; other hosts do.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { request, type Dispatcher } from 'undici';
import { PlaymentClient } from '../../src/api/client';
import { createDispatcher } from '../../src/api/dispatcher';
import { PlaymentError } from '../../src/api/errors';
import {
  PROXIED_HOST,
  PROXIED_HOST_CERT,
  basicAuthorization,
  replaceProxyEnvironment,
  startRecordingProxy,
  type RecordingProxy,
} from '../support/recording-proxy';
import { waitFor } from '../support/wait';

const KEY = 'sk-proxy-test-5d1e0c9a';

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
  let restoreEnv: () => void;
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
    restoreEnv = replaceProxyEnvironment({
      HTTP_PROXY: `http://127.0.0.1:${proxyPort}`,
      HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`,
      NO_PROXY: '',
    });
  });

  after(async () => {
    restoreEnv();
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
      const restore = replaceProxyEnvironment({ [name]: url });
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
        restore();
      }
    });
  }
});

describe("a core http proxy node's proxy (client option `proxy`)", () => {
  const USER = 'corp-user';
  const PASSWORD = 'proxy-pw-19ab4c';
  let restoreEnv: () => void;
  let nodeProxy: RecordingProxy;
  /** The environment's proxy: a proxy node's settings win over it. */
  let envProxy: RecordingProxy;
  /** The API on loopback: answers the attachment route with a redirect to a non-loopback host. */
  let api: Server;
  let apiPaths: string[];
  /** What the proxy's tunnel to https://api.example.test reaches: the signed URL's storage. */
  let storage: Server;
  let storageHeaders: Array<Record<string, unknown>>;
  const clients: PlaymentClient[] = [];

  before(async () => {
    apiPaths = [];
    api = createServer((req, res) => {
      apiPaths.push(String(req.url));
      req.resume();
      if (req.url?.startsWith('/v1/attachments')) {
        res.writeHead(302, { location: `https://${PROXIED_HOST}/signed/result.json?sig=abc` }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true,"data":{"batches":[]}}');
    });
    await listen(api, '127.0.0.1');
    storageHeaders = [];
    storage = createServer((req, res) => {
      storageHeaders.push(req.headers);
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"frames":[]}');
    });
    nodeProxy = await startRecordingProxy();
    nodeProxy.tunnelToPort = await listen(storage, '127.0.0.1');
    envProxy = await startRecordingProxy();
    restoreEnv = replaceProxyEnvironment({ HTTP_PROXY: envProxy.url, HTTPS_PROXY: envProxy.url });
  });

  after(async () => {
    restoreEnv();
    await Promise.all(clients.map((c) => c.close(0)));
    await nodeProxy.close();
    await envProxy.close();
    await close(api);
    await close(storage);
  });

  function client(): PlaymentClient {
    const { port } = api.address() as AddressInfo;
    const c = new PlaymentClient({
      baseUrl: `http://127.0.0.1:${port}`,
      apiVersion: 'v1',
      projectId: 'p1',
      apiKey: KEY,
      maxRetries: 0,
      rateLimit: 0,
      tls: { ca: PROXIED_HOST_CERT },
      proxy: { url: nodeProxy.url, noProxy: [], username: USER, password: PASSWORD },
    });
    clients.push(c);
    return c;
  }

  it('the API on loopback is reached directly, the signed download through the proxy with its credentials', async () => {
    const file = await client().downloadAttachment('https://results.example/r.json', {}, { maxBytes: 1024 });
    assert.deepEqual(file, { frames: [] });
    assert.equal(apiPaths.length, 1);
    assert.match(apiPaths[0], /^\/v1\/attachments\?url=/);
    assert.deepEqual(nodeProxy.records, [{ line: `CONNECT ${PROXIED_HOST}:443`, proxyAuthorization: basicAuthorization(USER, PASSWORD) }]);
    assert.equal(storageHeaders.length, 1);
    assert.equal(storageHeaders[0]['x-api-key'], undefined, 'the key stays with the API');
    assert.equal(storageHeaders[0]['proxy-authorization'], undefined, 'the proxy credentials stay with the proxy');
    assert.deepEqual(envProxy.records, []);
  });
});

describe('the proxy-or-direct dispatcher: close and destroy reach both routes', () => {
  /** Accepts connections and never answers: as the API on loopback and as the proxy. */
  let silent: NetServer;
  let port: number;
  let connections: Socket[];

  beforeEach(async () => {
    connections = [];
    silent = createNetServer((socket) => void connections.push(socket));
    port = await new Promise<number>((resolve) => silent.listen(0, '127.0.0.1', () => resolve((silent.address() as AddressInfo).port)));
  });

  afterEach(async () => {
    connections.forEach((s) => s.destroy());
    await new Promise((r) => silent.close(r));
  });

  const proxied = () => createDispatcher({ connectTimeoutMs: 10_000, proxy: { url: `http://127.0.0.1:${port}`, noProxy: [] } });

  /** One request straight to loopback, one through the proxy; both wait for an answer. */
  async function twoWaiting(dispatcher: Dispatcher): Promise<Array<Promise<unknown>>> {
    const waiting = [`http://127.0.0.1:${port}/v1/direct`, `http://${PROXIED_HOST}/v1/proxied`].map((url) =>
      request(url, { dispatcher }).then(
        () => 'answered',
        (err: Error & { code?: string }) => err,
      ),
    );
    await waitFor('both requests to reach the silent server', () => connections.length === 2);
    return waiting;
  }

  const refusal = async (dispatcher: Dispatcher, url: string) =>
    request(url, { dispatcher }).then(
      () => 'answered',
      (err: Error & { code?: string }) => err.code,
    );

  async function turns(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }

  async function calls(count: () => number): Promise<number> {
    // A callback called more than once would be so within these turns.
    await turns();
    return count();
  }

  it('close(callback) calls back once, after which neither route takes a request', async () => {
    const dispatcher = proxied();
    let called = 0;
    await new Promise<void>((resolve) =>
      dispatcher.close(() => {
        called++;
        resolve();
      }),
    );
    assert.equal(await calls(() => called), 1);
    assert.equal(await refusal(dispatcher, `http://127.0.0.1:${port}/`), 'UND_ERR_DESTROYED');
    assert.equal(await refusal(dispatcher, `http://${PROXIED_HOST}/`), 'UND_ERR_DESTROYED');
  });

  it('close() resolves once the requests in flight are answered, and both routes are closed', async () => {
    const dispatcher = proxied();
    const answer = request(`http://127.0.0.1:${port}/v1/direct`, { dispatcher }).then((res) => res.body.text());
    await waitFor('the request to reach the silent server', () => connections.length === 1);
    let closed = false;
    const closing = dispatcher.close().then(() => (closed = true));
    await turns();
    assert.equal(closed, false, 'not closed while a request waits for its answer');
    connections[0].end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
    assert.equal(await answer, 'ok');
    await closing;
    assert.equal(await refusal(dispatcher, `http://127.0.0.1:${port}/`), 'UND_ERR_DESTROYED');
    assert.equal(await refusal(dispatcher, `http://${PROXIED_HOST}/`), 'UND_ERR_DESTROYED');
  });

  // undici fails a request waiting on a direct connection with destroy's error, one waiting on
  // a proxy tunnel as destroyed.
  it('destroy(err, callback) fails the waiting requests of both routes, the direct one with err, then calls back once', async () => {
    const dispatcher = proxied();
    const waiting = await twoWaiting(dispatcher);
    let called = 0;
    await new Promise<void>((resolve) =>
      dispatcher.destroy(new Error('node closed'), () => {
        called++;
        resolve();
      }),
    );
    const [direct, throughProxy] = await Promise.all(waiting);
    assert.match(String((direct as Error).message), /node closed/);
    assert.ok(throughProxy instanceof Error, 'the request waiting on the proxy failed');
    assert.equal(await calls(() => called), 1);
  });

  it('destroy(callback) fails the waiting requests as destroyed, then calls back once', async () => {
    const dispatcher = proxied();
    const waiting = await twoWaiting(dispatcher);
    let called = 0;
    await new Promise<void>((resolve) =>
      dispatcher.destroy(() => {
        called++;
        resolve();
      }),
    );
    for (const outcome of await Promise.all(waiting)) assert.equal((outcome as { code?: string }).code, 'UND_ERR_DESTROYED');
    assert.equal(await calls(() => called), 1);
  });

  it('destroy(err) resolves once the waiting requests of both routes failed, the direct one with err', async () => {
    const dispatcher = proxied();
    const waiting = await twoWaiting(dispatcher);
    assert.equal(await dispatcher.destroy(new Error('node closed')), undefined);
    const [direct, throughProxy] = await Promise.all(waiting);
    assert.match(String((direct as Error).message), /node closed/);
    assert.ok(throughProxy instanceof Error, 'the request waiting on the proxy failed');
    assert.equal(await refusal(dispatcher, `http://127.0.0.1:${port}/`), 'UND_ERR_DESTROYED');
    assert.equal(await refusal(dispatcher, `http://${PROXIED_HOST}/`), 'UND_ERR_DESTROYED');
  });
});

describe("a proxy node's credentials", () => {
  let proxy: RecordingProxy;
  const dispatchers: Dispatcher[] = [];

  before(async () => {
    proxy = await startRecordingProxy();
  });
  after(async () => {
    await Promise.all(dispatchers.map((d) => d.destroy()));
    await proxy.close();
  });

  /** What the proxy saw as Proxy-Authorization for one request through it (it refuses the tunnel). */
  async function authorizationSent(credentials: { username?: string; password?: string }): Promise<string | undefined> {
    const dispatcher = createDispatcher({ connectTimeoutMs: 10_000, proxy: { url: proxy.url, noProxy: [], ...credentials } });
    dispatchers.push(dispatcher);
    proxy.records.length = 0;
    await assert.rejects(request(`https://${PROXIED_HOST}/v1/x`, { dispatcher }));
    assert.equal(proxy.records.length, 1);
    return proxy.records[0].proxyAuthorization;
  }

  it('sends none without a user name and password', async () => {
    assert.equal(await authorizationSent({}), undefined);
    assert.equal(await authorizationSent({ username: '', password: '' }), undefined);
  });

  it('sends Basic credentials when either is set, the other empty', async () => {
    assert.equal(await authorizationSent({ username: 'corp-user' }), basicAuthorization('corp-user', ''));
    assert.equal(await authorizationSent({ password: 'pw-only' }), basicAuthorization('', 'pw-only'));
  });
});
