/**
 * How the client runs its calls, seen from outside: the log lines each call writes (route, method,
 * path), the rate limit it starts with, follow-up reads that a full queue does not refuse, an
 * error of the caller's own passed through, and close waiting for the calls it aborted.
 * A small local server answers each `METHOD /path` from a table; a handler may hold its answer.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent } from 'undici';
import { useClients, useLocalServer } from '../support/local-api';
import { PlaymentError } from '../../src/api/errors';
import type { VideoJobBody } from '../../src/jobs/job-body';

type Handler = (res: ServerResponse, req: IncomingMessage) => void;

const ok =
  (data: unknown): Handler =>
  (res) =>
    void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ success: true, data }));

const jobBody = (referenceId: string): VideoJobBody => ({
  reference_id: referenceId,
  work_flow_id: 'wf-1',
  data: { video_data: { frames: [{ frame_id: 'f0', src: 'https://cdn.example.com/0.jpg' }] } },
});

/** A log line without its duration (`in 3 ms`), which varies. */
const timeless = (line: string) => line.replace(/ in \d+ ms/, ' in N ms');

describe('the client: its calls as seen in logs, limits and close', function () {
  this.timeout(20_000);
  let routes: Record<string, Handler>;
  let hits: string[];
  let debug: string[];
  let trace: string[];

  const local = useLocalServer((req, res) => {
    req.resume();
    const key = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    hits.push(key);
    const handler = routes[key];
    if (handler) handler(res, req);
    else res.writeHead(404).end();
  });
  beforeEach(() => {
    routes = {};
    hits = [];
    debug = [];
    trace = [];
  });
  const client = useClients(() => ({
    baseUrl: local.baseUrl,
    apiVersion: 'v1',
    projectId: 'p1',
    apiKey: 'key-calls-0123',
    rateLimit: 0,
    maxRetries: 2,
    retryPolicy: { baseDelayMs: 1, maxDelayMs: 5 },
    logger: { debug: (text) => debug.push(text), trace: (text) => trace.push(text) },
  }));

  it("each call's attempt lines name its route, method and path", async () => {
    routes = {
      'POST /v1/projects/p1/jobs': ok({ job_id: 'j1', reference_id: 'ref-1' }),
      'POST /v1/projects/p1/batch': ok({ batch_id: 'b1' }),
      'GET /v1/projects/p1/jobs/j1': ok({ job_id: 'j1', status: 'queued' }),
      'GET /v1/projects/p1/batch/b1': ok({ jobs: [] }),
      'GET /v1/projects/p1/details': ok({ batches: [] }),
    };
    const c = client();
    await c.createJob(jobBody('ref-1'));
    await c.createBatch({ name: 'n', description: '' });
    await c.getJob('j1');
    await c.batchJobs('b1', 'page-2');
    await c.projectDetails();
    assert.deepEqual(trace.map(timeless), [
      'job.create POST /v1/projects/p1/jobs: attempt 1 answered ok (2xx) in N ms',
      'batch.create POST /v1/projects/p1/batch: attempt 1 answered ok (2xx) in N ms',
      'job.get GET /v1/projects/p1/jobs/j1: attempt 1 answered ok (2xx) in N ms',
      'batch.jobs GET /v1/projects/p1/batch/b1?…: attempt 1 answered ok (2xx) in N ms',
      'project.details GET /v1/projects/p1/details: attempt 1 answered ok (2xx) in N ms',
    ]);
  });

  it('a retried call names its route in the retry line', async () => {
    let answered = 0;
    routes = {
      'POST /v1/projects/p1/batch': (res, req) => (++answered === 1 ? res.writeHead(503).end() : ok({ batch_id: 'b1' })(res, req)),
    };
    await client().createBatch({ name: 'n', description: '' });
    assert.deepEqual(debug.filter((line) => line.includes('retry')).map(timeless), [
      'batch.create POST /v1/projects/p1/batch: retry 1 of 2 in N ms after 503 HTTP_ERROR',
    ]);
  });

  it('the rate limit is 5 requests a second unless set: a 429 halves the one in force', async () => {
    routes = { 'GET /v1/projects/p1/details': (res) => void res.writeHead(429).end() };
    const throttled = async (rateLimit: number | undefined) => {
      debug = [];
      const err = await client({ maxRetries: 0, rateLimit })
        .projectDetails()
        .then(
          () => assert.fail('expected a 429'),
          (e: PlaymentError) => e,
        );
      assert.equal(err.statusCode, 429);
      return debug.filter((line) => line.startsWith('limiter: throttled'));
    };
    assert.deepEqual(await throttled(undefined), [
      'limiter: throttled after a 429 (no Retry-After): new requests pause 5 ms, concurrency 2, rate 2.5/s',
    ]);
    assert.deepEqual(await throttled(2), [
      'limiter: throttled after a 429 (no Retry-After): new requests pause 5 ms, concurrency 2, rate 1/s',
    ]);
  });

  it('a lookup after a duplicate is follow-up work: a full queue does not refuse its listing reads', async () => {
    const held: ServerResponse[] = [];
    routes = {
      'GET /v1/projects/p1/jobs/slow': (res) => void held.push(res),
      'GET /v1/projects/p1/jobs/queued': ok({ job_id: 'queued', status: 'queued' }),
      'GET /v1/projects/p1/details': ok({ batches: [{ id: 'default-b', is_default: true }] }),
      'GET /v1/projects/p1/batch/default-b': ok({ jobs: [{ id: 'job-9', reference_id: 'ref-9' }] }),
    };
    const c = client({ maxConcurrent: 1, maxQueue: 1 });
    const inFlight = c.getJob('slow');
    const queued = c.getJob('queued');
    assert.equal(c.limiter.full, true, 'one call in flight, one queued: the queue is full');
    await assert.rejects(c.getJob('refused'), (e: PlaymentError) => e.code === 'QUEUE_FULL');
    const lookup = c.findJobByReference('ref-9', undefined);
    const settled = lookup.then(
      () => 'settled',
      () => 'settled',
    );
    while (held.length === 0 || c.limiter.queued < 2) {
      if ((await Promise.race([settled, new Promise((r) => setTimeout(r, 5))])) === 'settled') break;
    }
    held[0]?.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true,"data":{"job_id":"slow","status":"queued"}}');
    assert.equal(await lookup, 'job-9');
    await Promise.all([inFlight, queued]);
    assert.deepEqual(hits, [
      'GET /v1/projects/p1/jobs/slow',
      'GET /v1/projects/p1/jobs/queued',
      'GET /v1/projects/p1/details',
      'GET /v1/projects/p1/batch/default-b',
    ]);
  });

  it("a project without a default batch: the lookup's listing read counts no page of jobs", async () => {
    routes = { 'GET /v1/projects/p1/details': ok({ batches: [{ id: 'other' }] }) };
    assert.equal(await client().findJobByReference('ref-1', undefined), undefined);
    assert.deepEqual(debug.filter((line) => line.startsWith('reference ids:')).map(timeless), [
      "reference ids: listing of the project's default batch for 1 lookup(s) read: 1 page(s), 0 job(s) in N ms",
    ]);
    assert.deepEqual(hits, ['GET /v1/projects/p1/details']);
  });

  it("an error thrown by the caller's onStart reaches the caller of createJob as it is", async () => {
    routes = { 'POST /v1/projects/p1/jobs': ok({ job_id: 'j1', reference_id: 'ref-1' }) };
    const thrown = new Error('status update failed');
    await assert.rejects(
      client().createJob(jobBody('ref-1'), {
        onStart: () => {
          throw thrown;
        },
      }),
      (e) => e === thrown,
    );
    assert.deepEqual(hits, []);
  });

  it('a throwing onStart gives its request slot back: the next call is sent (one call at a time)', async () => {
    routes = { 'GET /v1/projects/p1/details': ok({ batches: [] }) };
    const c = client({ maxConcurrent: 1 });
    await assert.rejects(
      c.projectDetails({
        onStart: () => {
          throw new Error('status update failed');
        },
      }),
      /status update failed/,
    );
    assert.deepEqual(await c.projectDetails(), { batches: [] });
    assert.deepEqual(hits, ['GET /v1/projects/p1/details']);
  });

  it('close resolves once the calls it aborted after the grace have ended', async () => {
    const dispatcher = new Agent();
    try {
      const held: ServerResponse[] = [];
      routes = { 'GET /v1/projects/p1/details': (res) => void held.push(res) };
      const c = client({ dispatcher });
      const running = c.projectDetails().catch((e: PlaymentError) => e);
      while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
      await c.close(1);
      // The aborted attempt's line is written before its call ends; close's last line after that.
      assert.deepEqual(trace.map(timeless), ['project.details GET /v1/projects/p1/details: attempt 1 ended with ABORTED in N ms']);
      assert.equal(debug.at(-1), 'closed');
      assert.equal((await running).code, 'ABORTED');
    } finally {
      await dispatcher.destroy();
    }
  });
});
