/** Result-file downloads: parsed in slices like JSON.parse, and a few at a time per account. */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { parseJsonSliced } from '../../src/api/sliced-json';
import { DownloadGate } from '../../src/api/download-gate';
import { fetchAttachment, parseResultFile, type AttachmentOptions } from '../../src/api/attachments';
import { PlaymentError } from '../../src/api/errors';

/** A result file of many small objects, about `bytes` long. */
function resultFile(bytes: number): string {
  const trackers: string[] = [];
  let size = 0;
  for (let t = 0; size < bytes; t++) {
    const frames = Array.from(
      { length: 20 },
      (_, f) => `"frame${f}":{"_id":"f${t}_${f}","label":"Car \\"é\\" }]","coordinates":[{"x":0.1,"y":0.2}]}`,
    );
    const tracker = `{"_id":"t${t}","type":"rectangle","label":"Car","frames":{${frames.join(',')}}}`;
    trackers.push(tracker);
    size += tracker.length + 1;
  }
  return `{"data":{"annotation_data":{"annotations":[${trackers.join(',')}]}},"__proto__":{"polluted":true},"long":"${'x'.repeat(100_000)}"}`;
}

describe('result file parsing', () => {
  it('gives what JSON.parse gives, for small and large documents', async () => {
    for (const text of ['{"a":1}', ' [1, "two", null, true, -1.5e3] ', '"x"', '{"__proto__":{"x":1}}', resultFile(1024 * 1024)]) {
      const parsed = await parseJsonSliced(Buffer.from(text));
      assert.deepEqual(parsed, JSON.parse(text));
      assert.equal(JSON.stringify(parsed), JSON.stringify(JSON.parse(text)));
    }
    const big = (await parseJsonSliced(Buffer.from(resultFile(1024 * 1024)))) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(big), Object.prototype, '__proto__ is an own property, as with JSON.parse');
    assert.deepEqual(Object.getOwnPropertyDescriptor(big, '__proto__')?.value, { polluted: true });
  });

  it('refuses what JSON.parse refuses, as BAD_RESPONSE for a result file', async () => {
    const text = resultFile(1024 * 1024);
    const broken = [
      text + 'x',
      text.slice(0, -1),
      text.replace('},"__proto__"', '},,"__proto__"'),
      text.replace('"long":', '"long"'),
      text.replace(']}},', ']},'),
      '',
    ];
    for (const bad of broken) {
      assert.throws(() => JSON.parse(bad));
      await assert.rejects(parseJsonSliced(Buffer.from(bad)), SyntaxError);
      await assert.rejects(
        parseResultFile(Buffer.from(bad)),
        (e: PlaymentError) => e.code === 'BAD_RESPONSE' && /not JSON/.test(e.message),
      );
    }
  });

  it('lets other callbacks run while it parses a large file', async () => {
    const bytes = Buffer.from(resultFile(8 * 1024 * 1024));
    let ticks = 0;
    let parsing = true;
    const tick = (): void => {
      ticks++;
      if (parsing) setImmediate(tick);
    };
    setImmediate(tick);
    await parseJsonSliced(bytes);
    parsing = false;
    assert.ok(ticks > 1, `other callbacks ran ${ticks} times during the parse`);
  });
});

describe('download gate', () => {
  it('lets at most `limit` downloads run at once, and a cancelled waiter never starts', async () => {
    const gate = new DownloadGate(2);
    let running = 0;
    let most = 0;
    const cancel = new AbortController();
    const download = async () => {
      const release = await gate.acquire();
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setImmediate(r));
      running--;
      release();
    };
    const all = Promise.all(Array.from({ length: 7 }, download));
    const cancelled = gate.acquire(cancel.signal);
    cancel.abort(new Error('stop'));
    await assert.rejects(
      cancelled.then((release) => release()),
      /stop/,
    );
    await all;
    assert.equal(most, 2);
    // Every slot came back: two more start at once.
    const [a, b] = await Promise.all([gate.acquire(), gate.acquire()]);
    a();
    b();
  });
});

describe('result file download: the API redirect, then the signed URL without the key', () => {
  let server: Server;
  let agent: Agent;
  let baseUrl = '';
  let seen: Array<{ method?: string; url?: string; headers: IncomingHttpHeaders }>;
  /** What the attachment API answers, by the `url` query parameter; the file routes under /files/. */
  const routes = new Map<string, (res: ServerResponse) => void>();
  const held: ServerResponse[] = [];

  const options = (extra: Partial<AttachmentOptions> = {}): AttachmentOptions => ({
    dispatcher: agent,
    baseUrl,
    apiKey: 'secret-key',
    signals: [],
    timeoutMs: 5000,
    maxBytes: 1024 * 1024,
    ...extra,
  });
  const get = (name: string, extra?: Partial<AttachmentOptions>): Promise<Buffer> =>
    fetchAttachment(`/v1/attachments?url=${name}`, options(extra));
  const redirectTo =
    (location: string | undefined, status = 302) =>
    (res: ServerResponse) => {
      res.writeHead(status, location === undefined ? {} : { location });
      res.end();
    };
  const answer =
    (status: number, body: string, headers: Record<string, string> = {}) =>
    (res: ServerResponse) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    };
  const failsWith =
    (code: string, message: RegExp | string, more: Record<string, unknown> = {}) =>
    (e: PlaymentError) => {
      assert.equal(e.code, code, e.message);
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      for (const [k, v] of Object.entries(more)) assert.equal((e as unknown as Record<string, unknown>)[k], v, k);
      return true;
    };

  before(async () => {
    server = createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, headers: req.headers });
      const url = new URL(req.url ?? '/', 'http://x');
      const route = routes.get(url.pathname === '/v1/attachments' ? (url.searchParams.get('url') ?? '') : url.pathname);
      if (route) route(res);
      else answer(404, '{"success":false,"error":{"code":"E404","message":"no route"}}')(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    agent = new Agent();
    routes.set('/files/a.json', answer(200, '{"a":1}'));
    routes.set('/files/big.json', answer(200, 'x'.repeat(1024 * 1024 + 1)));
    routes.set('/files/forbidden.json', answer(403, 'AccessDenied'));
    routes.set('/files/down.json', answer(500, 'oops'));
    routes.set('/files/moved.json', redirectTo('/files/a.json'));
    routes.set('/files/multiple.json', answer(300, '{"a":1}'));
    routes.set('/files/held.json', (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      held.push(res);
    });
  });
  beforeEach(() => {
    seen = [];
  });
  after(async () => {
    for (const res of held) res.destroy();
    await agent.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('follows the API redirect (301, 302, 303, 307, 308) to the signed URL, which gets no key', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      routes.set(`r${status}`, redirectTo('/files/a.json', status));
      seen = [];
      assert.equal((await get(`r${status}`)).toString(), '{"a":1}', `HTTP ${status}`);
      assert.deepEqual(
        seen.map((r) => `${r.method} ${r.url}`),
        [`GET /v1/attachments?url=r${status}`, 'GET /files/a.json'],
      );
      assert.equal(seen[0].headers['x-api-key'], 'secret-key', 'the API gets the key');
      assert.equal(seen[1].headers['x-api-key'], undefined, 'the storage host never does');
      for (const r of seen) assert.equal(r.headers.accept, 'application/json');
    }
  });

  it('takes a file the API answers with directly (2xx), and fails on an error answer without following anything', async () => {
    routes.set('direct', answer(200, '{"direct":true}'));
    assert.equal((await get('direct')).toString(), '{"direct":true}');
    routes.set('empty', answer(204, ''));
    assert.equal((await get('empty')).length, 0);
    routes.set('missing', answer(404, '{"success":false,"error":{"code":"FS_0006","message":"no such file"}}'));
    await assert.rejects(get('missing'), failsWith('FS_0006', 'FS_0006: no such file (HTTP 404)', { retryable: false }));
    routes.set('down', answer(503, '<html>busy</html>'));
    await assert.rejects(get('down'), failsWith('HTTP_ERROR', 'the API answered HTTP 503 without a JSON body', { retryable: true }));
    routes.set('choices', answer(300, '{"a":1}', { location: '/files/a.json' }));
    await assert.rejects(get('choices'), failsWith('HTTP_ERROR', 'the API answered HTTP 300', { statusCode: 300 }));
    routes.set('refused', answer(401, '{"success":false,"error":{"code":"E401","message":"bad key"}}'));
    await assert.rejects(get('refused'), failsWith('UNAUTHORIZED', /^the API key was refused/));
    assert.ok(
      seen.every((r) => r.url?.startsWith('/v1/attachments')),
      'nothing but the API was asked',
    );
  });

  it('refuses a redirect without a usable location, and asks nobody else', async () => {
    for (const location of [undefined, '', 'ftp://files.example/a.json', 'file:///etc/passwd', 'http://[broken']) {
      const name = `bad-${String(location)}`;
      routes.set(name, redirectTo(location));
      seen = [];
      await assert.rejects(
        get(encodeURIComponent(name)),
        failsWith('BAD_RESPONSE', 'the attachment redirect has no usable location', { statusCode: 302 }),
        String(location),
      );
      assert.equal(seen.length, 1, `only the API was asked for ${String(location)}`);
    }
  });

  it('says how the signed URL failed: 4xx final, 5xx retried, a redirect not followed', async () => {
    routes.set('forbidden', redirectTo('/files/forbidden.json'));
    await assert.rejects(
      get('forbidden'),
      failsWith('HTTP_ERROR', 'the signed result URL answered HTTP 403', { statusCode: 403, retryable: false }),
    );
    routes.set('down-file', redirectTo('/files/down.json'));
    await assert.rejects(get('down-file'), failsWith('HTTP_ERROR', 'the signed result URL answered HTTP 500', { retryable: true }));
    routes.set('moved', redirectTo('/files/moved.json'));
    await assert.rejects(get('moved'), failsWith('HTTP_ERROR', 'the signed result URL answered HTTP 302', { retryable: false }));
    routes.set('multiple', redirectTo('/files/multiple.json'));
    await assert.rejects(get('multiple'), failsWith('HTTP_ERROR', 'the signed result URL answered HTTP 300'));
  });

  it('refuses a file above the cap, naming the cap in MB or bytes and where it is set', async () => {
    routes.set('big', redirectTo('/files/big.json'));
    await assert.rejects(
      get('big'),
      failsWith('BAD_RESPONSE', 'the result file is larger than the download cap of 1 MB', { statusCode: 200 }),
    );
    await assert.rejects(
      get('big', { maxBytes: 1000, capHint: 'raise "Largest result file" in the node' }),
      failsWith('BAD_RESPONSE', 'the result file is larger than the download cap of 1000 bytes: raise "Largest result file" in the node'),
    );
    assert.equal((await get('big', { maxBytes: 2 * 1024 * 1024 })).length, 1024 * 1024 + 1, 'under a larger cap it arrives whole');
  });

  it('ends with TIMEOUT when the file does not arrive in time, and with the reason when aborted', async () => {
    routes.set('held', redirectTo('/files/held.json'));
    await assert.rejects(
      get('held', { timeoutMs: 300 }),
      failsWith('TIMEOUT', 'no answer from the API within 300 ms', { retryable: true }),
    );
    const stop = new AbortController();
    const pending = get('held', { signals: [stop.signal] });
    while (held.length < 2) await new Promise((r) => setTimeout(r, 10));
    stop.abort(new PlaymentError({ code: 'ABORTED', message: 'node closed' }));
    await assert.rejects(pending, failsWith('ABORTED', 'node closed'));
  });
});
