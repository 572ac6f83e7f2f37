/**
 * Result-file downloads through the client: the attachment API redirects to a file on another
 * host (here a second path of the same local server), at most two downloads run at once, a
 * download waiting for its turn ends when its caller cancels or the client closes, and a file over
 * the cap is not asked for again.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { MAX_CONCURRENT_DOWNLOADS, type PlaymentClient } from '../../src/api/client';
import { useClients, useLocalServer } from '../support/local-api';
import type { PlaymentError } from '../../src/api/errors';

const FILE = '{"annotations":[]}';

describe('the client: result-file downloads', function () {
  this.timeout(20_000);
  let hits: string[];
  /** When set, file answers wait here until the test ends them. */
  let holdFiles: boolean;
  let heldFiles: ServerResponse[];
  let fileStatus: number;
  let trace: string[];

  const local = useLocalServer((req, res) => {
    req.resume();
    const path = (req.url ?? '').split('?')[0];
    hits.push(path);
    if (path === '/v1/attachments') {
      res.writeHead(302, { location: `${local.baseUrl}/files/result.json` }).end();
    } else if (path === '/files/result.json') {
      if (holdFiles) heldFiles.push(res);
      else res.writeHead(fileStatus, { 'content-type': 'application/json' }).end(FILE);
    } else res.writeHead(404).end();
  });
  beforeEach(() => {
    hits = [];
    holdFiles = false;
    heldFiles = [];
    fileStatus = 200;
    trace = [];
  });
  const client = useClients(() => ({
    baseUrl: local.baseUrl,
    apiVersion: 'v1',
    projectId: 'p1',
    apiKey: 'key-downloads-0123',
    rateLimit: 0,
    maxRetries: 2,
    retryPolicy: { baseDelayMs: 1, maxDelayMs: 5 },
    logger: { debug: () => undefined, trace: (text) => trace.push(text) },
  }));

  const download = (c: PlaymentClient, cancel?: AbortSignal, maxBytes = 1024) =>
    c.downloadAttachment('https://results.example/r.json', { cancel }, { maxBytes });

  async function filesRequested(count: number): Promise<void> {
    while (heldFiles.length < count) await new Promise((r) => setTimeout(r, 5));
  }

  function releaseFiles(): void {
    for (const res of heldFiles.splice(0)) res.writeHead(200, { 'content-type': 'application/json' }).end(FILE);
  }

  it('a download logs its attempt as the attachment route, without the signed URL', async () => {
    assert.deepEqual(await download(client()), { annotations: [] });
    assert.deepEqual(
      trace.map((line) => line.replace(/ in \d+ ms/, ' in N ms')),
      ['attachment GET /v1/attachments?…: attempt 1 answered ok (2xx) in N ms'],
    );
  });

  it('a download waiting for its turn ends with ABORTED when its caller cancels, while the others go on', async () => {
    assert.equal(MAX_CONCURRENT_DOWNLOADS, 2);
    holdFiles = true;
    const c = client();
    const running = [download(c), download(c)];
    await filesRequested(2);
    const cancel = new AbortController();
    const waiting = download(c, cancel.signal);
    cancel.abort();
    await assert.rejects(waiting, (e: PlaymentError) => {
      assert.deepEqual([e.code, e.message], ['ABORTED', 'attachment aborted: the node was closed']);
      return true;
    });
    releaseFiles();
    assert.deepEqual(await Promise.all(running), [{ annotations: [] }, { annotations: [] }]);
    assert.equal(hits.filter((p) => p === '/v1/attachments').length, 2, 'the cancelled download asked nothing');
  });

  it('a download waiting for its turn ends with ABORTED when the client closes', async () => {
    holdFiles = true;
    const c = client();
    const running = [download(c), download(c)].map((p) => p.catch((e: PlaymentError) => e));
    await filesRequested(2);
    const waiting = download(c);
    const closed = c.close(0);
    await assert.rejects(waiting, (e: PlaymentError) => {
      assert.deepEqual([e.code, e.message], ['ABORTED', 'attachment aborted: the Playment config node was closed']);
      return true;
    });
    await closed;
    assert.deepEqual(
      (await Promise.all(running)).map((e) => (e as PlaymentError).code),
      ['ABORTED', 'ABORTED'],
    );
  });

  it('a finished download frees its turn, however it ended', async () => {
    const c = client();
    fileStatus = 404;
    for (let i = 0; i < MAX_CONCURRENT_DOWNLOADS; i++) {
      await assert.rejects(download(c), (e: PlaymentError) => e.code === 'HTTP_ERROR' && e.statusCode === 404);
    }
    fileStatus = 200;
    for (let i = 0; i <= MAX_CONCURRENT_DOWNLOADS; i++) assert.deepEqual(await download(c), { annotations: [] });
  });

  it('a file over the cap is BAD_RESPONSE and is not asked for again: a download is a read', async () => {
    const err = await download(client(), undefined, 8).then(
      () => assert.fail('expected the cap to refuse the file'),
      (e: PlaymentError) => e,
    );
    assert.deepEqual(
      [err.code, err.message, err.mayExist],
      ['BAD_RESPONSE', 'the result file is larger than the download cap of 8 bytes', undefined],
    );
    assert.deepEqual(hits, ['/v1/attachments', '/files/result.json']);
  });
});
