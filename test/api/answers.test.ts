/** How answers from the API become errors: Playment's auth codes, and which failures are retried. */
import assert from 'node:assert/strict';
import { z } from 'zod';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PlaymentClient } from '../../src/api/client';
import { PlaymentError, authFailure } from '../../src/api/errors';
import { parseAnswer, parseData } from '../../src/api/answers';

function thrown(fn: () => unknown): PlaymentError {
  try {
    fn();
  } catch (err) {
    return err as PlaymentError;
  }
  throw new Error('expected a throw');
}

const envelope = (code: string) => JSON.stringify({ success: false, error: { code, message: 'refused' } });

describe("Playment's auth codes", () => {
  // Playment's error-code documents: these codes, every failure sent with HTTP 400.
  const WRONG_KEY = ['auth-failure', 'core.webutil.token_auth'];
  const NO_ACCESS = ['unauthorized', 'core.webutil.auther', 'resource_error'];

  it('become UNAUTHORIZED at HTTP 400 and at any other status, keeping their own code in apiCode', () => {
    for (const status of [400, 401, 403, 404, 200, 500]) {
      for (const code of [...WRONG_KEY, ...NO_ACCESS]) {
        const err = thrown(() => parseAnswer(status, envelope(code)));
        assert.equal(err.code, 'UNAUTHORIZED', `${code} at HTTP ${status}`);
        assert.equal(err.apiCode, code);
        assert.equal(err.statusCode, status);
        assert.equal(err.retryable, false, `${code} at HTTP ${status} is final`);
        const keyRefused = WRONG_KEY.includes(code);
        assert.match(err.message, keyRefused ? /API key was refused/ : /no access to this project/, `${code} at HTTP ${status}`);
        assert.ok(err.message.includes(`HTTP ${status}, ${code}`), err.message);
        assert.equal(authFailure(err.statusCode, err.apiCode), keyRefused ? 'key' : 'access');
      }
    }
  });

  it('the code decides over the status; without one of them, 401 is the key and 403 the project', () => {
    assert.equal(authFailure(401, 'unauthorized'), 'access');
    assert.equal(authFailure(403, 'auth-failure'), 'key');
    const plain401 = thrown(() => parseAnswer(401, 'nope'));
    assert.deepEqual(
      [plain401.code, plain401.apiCode, authFailure(plain401.statusCode, plain401.apiCode)],
      ['UNAUTHORIZED', undefined, 'key'],
    );
    const other403 = thrown(() => parseAnswer(403, envelope('GE_0001')));
    assert.deepEqual(
      [other403.code, other403.apiCode, authFailure(other403.statusCode, other403.apiCode)],
      ['UNAUTHORIZED', 'GE_0001', 'access'],
    );
  });

  it('other codes at HTTP 400 stay what they are', () => {
    for (const code of ['FS_0001', 'GE_0001', 'BATCH_CREATION', 'invalid_request_error', 'Unauthorized', 'auth_failure']) {
      const err = thrown(() => parseAnswer(400, envelope(code)));
      assert.equal(err.code, code);
      assert.equal(err.apiCode, undefined);
    }
  });
});

describe('error pages without the envelope (a proxy or gateway page)', () => {
  let server: Server;
  let baseUrl = '';
  const hits = new Map<number, number>();

  before(async () => {
    // /v0/projects/<status>/details answers that status with an HTML page, never the envelope.
    server = createServer((req, res) => {
      req.resume();
      const status = Number(/^\/v0\/projects\/(\d{3})\/details$/.exec(req.url ?? '')?.[1] ?? 500);
      hits.set(status, (hits.get(status) ?? 0) + 1);
      res.writeHead(status, { 'content-type': 'text/html' }).end(`<html><body><h1>${status}</h1>proxy error page</body></html>`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function callWith(status: number): Promise<PlaymentError> {
    const client = new PlaymentClient({
      baseUrl,
      apiVersion: 'v0',
      projectId: String(status),
      apiKey: 'k',
      maxRetries: 2,
      rateLimit: 0,
      retryPolicy: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    try {
      await client.projectDetails();
    } catch (err) {
      return err as PlaymentError;
    } finally {
      await client.close(0);
    }
    throw new Error('expected a failure');
  }

  it('a 4xx page is final: one request only', async () => {
    for (const status of [400, 404, 410, 422]) {
      const err = await callWith(status);
      assert.deepEqual([err.code, err.statusCode, err.retryable], ['HTTP_ERROR', status, false]);
      assert.equal(hits.get(status), 1, `HTTP ${status} was sent ${hits.get(status)} times`);
    }
    // 401 and 403 pages are refusals of the key or project: final as well.
    for (const status of [401, 403]) {
      assert.equal((await callWith(status)).code, 'UNAUTHORIZED');
      assert.equal(hits.get(status), 1);
    }
  });

  it('a 5xx, 408 or 429 page is retried', async () => {
    for (const status of [502, 503, 429, 408]) {
      const err = await callWith(status);
      assert.deepEqual([err.code, err.statusCode], ['HTTP_ERROR', status]);
      assert.equal(hits.get(status), 3, `HTTP ${status}: 1 request and 2 retries`);
    }
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
});

describe('what an answer says when it is not data', () => {
  const success = '{"success":true,"data":{"job_id":"j"}}';

  it('a success envelope outside 2xx is an HTTP error, not data', () => {
    for (const status of [199, 300, 304, 500]) {
      const err = thrown(() => parseAnswer(status, success));
      assert.deepEqual([err.code, err.statusCode, err.message], ['HTTP_ERROR', status, `the API answered HTTP ${status}`]);
    }
    assert.deepEqual(parseAnswer(299, success), { job_id: 'j' });
  });

  it('is retried from HTTP 500 up, and at 408 and 429; any other 4xx is final', () => {
    const envelope = '{"success":false,"error":{"code":"E_X","message":"x"}}';
    for (const [status, retryable] of [
      [499, false],
      [500, true],
      [501, true],
      [408, true],
      [429, true],
      [404, false],
    ] as const) {
      assert.equal(thrown(() => parseAnswer(status, 'page')).retryable, retryable, `HTTP ${status} page`);
      assert.equal(thrown(() => parseAnswer(status, envelope)).retryable, retryable, `HTTP ${status} envelope`);
    }
  });

  it('names the status alone when the refusal carries no code of its own', () => {
    assert.equal(thrown(() => parseAnswer(401, 'nope')).message, 'the API key was refused (HTTP 401): check the key in the config node');
    assert.equal(thrown(() => parseAnswer(403, '{}')).message, 'the API key has no access to this project (HTTP 403)');
  });

  it("an error envelope's message is Playment's code, its message (or 'no message') and the status", () => {
    assert.equal(
      thrown(() => parseAnswer(400, '{"success":false,"error":{"code":"FS_0003","message":"bad frames"}}')).message,
      'FS_0003: bad frames (HTTP 400)',
    );
    assert.equal(thrown(() => parseAnswer(400, '{"success":false,"error":{"code":"FS_0003"}}')).message, 'FS_0003: no message (HTTP 400)');
  });

  it('tells a non-JSON body from JSON without the envelope', () => {
    assert.equal(thrown(() => parseAnswer(502, '<html>')).message, 'the API answered HTTP 502 without a JSON body');
    assert.equal(thrown(() => parseAnswer(502, '{"status":"bad gateway"}')).message, 'the API answered HTTP 502');
    assert.equal(thrown(() => parseAnswer(200, '<html>')).message, 'the API answered HTTP 200 with a body that is not JSON');
    assert.equal(thrown(() => parseAnswer(200, '{"ok":1}')).message, 'the API answered HTTP 200 without the {success, data} envelope');
  });
});

describe('parseData: the data of an answer read with its schema', () => {
  const jobData = z.object({ job_id: z.string() });

  it('gives the parsed data', () => {
    assert.deepEqual(parseData(jobData, { job_id: 'j1', extra: 1 }, 'job.create'), { job_id: 'j1' });
  });

  it("a mismatch is BAD_RESPONSE naming the answer, the field's path and zod's reason", () => {
    const err = thrown(() => parseData(jobData, { job_id: 5 }, 'job.create'));
    assert.deepEqual([err.code, err.statusCode, err.retryable], ['BAD_RESPONSE', 200, false]);
    assert.match(err.message, /^unexpected job\.create answer from the API: job_id \S.*$/);
    assert.ok(err.message.endsWith(jobData.safeParse({ job_id: 5 }).error!.issues[0].message), err.message);
  });

  it('a nested mismatch names its path with dots', () => {
    const page = z.object({ jobs: z.array(z.object({ id: z.string() })) });
    const err = thrown(() => parseData(page, { jobs: [{ id: 'j1' }, { id: 2 }] }, 'batch jobs'));
    assert.match(err.message, /^unexpected batch jobs answer from the API: jobs\.1\.id \S.*$/);
  });

  it("a mismatch of the data as a whole names 'data'", () => {
    const err = thrown(() => parseData(jobData, 'text', 'job.create'));
    assert.match(err.message, /^unexpected job\.create answer from the API: data \S.*$/);
  });
});
