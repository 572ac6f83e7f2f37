/**
 * The client against the sandbox over real HTTP: each endpoint, what a duplicate or a lost answer
 * of a create call becomes, and what closing does to calls queued and in flight.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PlaymentClient, type ClientOptions } from '../../src/api/client';
import { PlaymentError } from '../../src/api/errors';
import type { VideoJobBody } from '../../src/jobs/job-body';
import { DEFAULT_API_KEY, DEFAULT_PROJECT_ID, startSandbox, type Sandbox } from '../../src/sandbox/server';

const frames = (n: number) => Array.from({ length: n }, (_, i) => ({ frame_id: `f${i}`, src: `https://cdn.example.com/c/${i}.jpg` }));

function body(referenceId: string, extra: Partial<VideoJobBody> = {}): VideoJobBody {
  return { reference_id: referenceId, work_flow_id: 'wf-1', data: { video_data: { frames: frames(2) } }, ...extra };
}

async function failure(promise: Promise<unknown>): Promise<PlaymentError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof PlaymentError, String(err));
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('the Playment client against the sandbox', function () {
  this.timeout(20_000);
  let sandbox: Sandbox;
  const clients: PlaymentClient[] = [];
  let debug: string[];

  before(async () => {
    sandbox = await startSandbox({ completionDelayMs: 60_000 });
  });
  beforeEach(() => {
    sandbox.state.reset();
    debug = [];
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close(0)));
  });
  after(() => sandbox.close());

  function client(opts: Partial<ClientOptions> = {}): PlaymentClient {
    const c = new PlaymentClient({
      baseUrl: `${sandbox.url}/`,
      apiVersion: 'v1',
      projectId: DEFAULT_PROJECT_ID,
      apiKey: DEFAULT_API_KEY,
      rateLimit: 0,
      retryPolicy: { baseDelayMs: 1, maxDelayMs: 5 },
      logger: { debug: (text) => debug.push(text), trace: () => undefined },
      ...opts,
    });
    clients.push(c);
    return c;
  }

  const routeCount = (route: string) => sandbox.state.requests.filter((r) => r.route === route).length;

  describe('endpoints', () => {
    it('creates a job, then reads it back and finds it in its batch listing', async () => {
      const c = client();
      const created = await c.createJob(body('ref-1', { tag: 'tag-1' }));
      assert.equal(created.reference_id, 'ref-1');
      assert.ok(created.job_id);
      assert.equal(created.recovered, undefined);
      assert.equal(created.existing, undefined);
      const job = await c.getJob(created.job_id);
      assert.equal(job.job_id, created.job_id);
      assert.equal(job.reference_id, 'ref-1');
      const batchId = sandbox.state.jobs()[0].batchId;
      const page = await c.batchJobs(batchId, undefined);
      assert.deepEqual(
        page.jobs.map((j) => [j.id, j.reference_id]),
        [[created.job_id, 'ref-1']],
      );
    });

    it('the v0 profile sends jobs under /v0 and batches under /v1/project', async () => {
      const c = client({ apiVersion: 'v0' });
      await c.createJob(body('ref-v0', { work_flow_id: undefined, tag: 'tag-1' }));
      await c.createBatch({ name: 'b-v0', description: '' });
      const paths = sandbox.state.requests.map((r) => `${r.method} ${r.path}`);
      assert.deepEqual(paths, [`POST /v0/projects/${DEFAULT_PROJECT_ID}/jobs`, `POST /v1/project/${DEFAULT_PROJECT_ID}/batch`]);
    });

    it('creates a batch with its name as label and the description given', async () => {
      const c = client();
      const created = await c.createBatch({ name: 'night run', description: 'cars at night' });
      assert.equal(created.reused, undefined);
      const batch = sandbox.state.batches(DEFAULT_PROJECT_ID).find((b) => b.batchId === created.batch_id);
      assert.deepEqual([batch?.name, batch?.label, batch?.description], ['night run', 'night run', 'cars at night']);
    });

    it('finds a batch by name in the project details, undefined for an unknown name', async () => {
      const c = client();
      const { batch_id } = await c.createBatch({ name: 'wanted', description: '' });
      assert.equal(await c.findBatchByName('wanted'), batch_id);
      assert.equal(await c.findBatchByName('unknown'), undefined);
    });

    it("finds a job by reference id in the project's default batch (blank batch id) and in a named batch", async () => {
      const c = client();
      const inDefault = await c.createJob(body('ref-default'));
      const { batch_id } = await c.createBatch({ name: 'named', description: '' });
      const inNamed = await c.createJob(body('ref-named', { batch_id }));
      assert.equal(await c.findJobByReference('ref-default', ''), inDefault.job_id);
      assert.equal(await c.findJobByReference('ref-default', undefined), inDefault.job_id);
      assert.equal(await c.findJobByReference('ref-named', batch_id), inNamed.job_id);
      assert.equal(await c.findJobByReference('ref-named', ''), undefined, 'not in the default batch');
      assert.equal(routeCount('project.details'), 1, 'the default batch is looked up once');
    });

    it('a failed look-up of the default batch is tried again by the next lookup', async () => {
      const c = client({ maxRetries: 0 });
      const job = await c.createJob(body('ref-1'));
      sandbox.injectFault({ route: 'project.details', mode: 'status', status: 404 });
      await assert.rejects(c.findJobByReference('ref-1', undefined), (e: PlaymentError) => e.statusCode === 404);
      assert.equal(await c.findJobByReference('ref-1', undefined), job.job_id);
      assert.equal(routeCount('project.details'), 2);
    });
  });

  describe('a create call whose answer is a duplicate or lost', () => {
    it("a job that exists already: FS_0001 with its reference id, or the job with 'send'", async () => {
      const c = client();
      const first = await c.createJob(body('dup-1'));
      const err = await failure(c.createJob(body('dup-1')));
      assert.deepEqual([err.code, err.referenceId, err.mayExist], ['FS_0001', 'dup-1', undefined]);
      const sent = await c.createJob(body('dup-1'), {}, { ifExists: 'send' });
      assert.deepEqual(sent, { job_id: first.job_id, reference_id: 'dup-1', tag: undefined, work_flow_id: 'wf-1', existing: true });
      assert.equal(sandbox.state.jobs().length, 1);
    });

    it("a job stored by an attempt whose answer was lost is returned as recovered, even with ifExists 'error'", async () => {
      const c = client();
      sandbox.injectFault({ route: 'job.create', mode: 'reset-after' });
      const created = await c.createJob(body('lost-1'));
      assert.equal(created.recovered, true);
      assert.equal(created.existing, undefined);
      assert.equal(created.job_id, sandbox.state.jobsByReferenceId(DEFAULT_PROJECT_ID, 'lost-1')[0].jobId);
      assert.equal(sandbox.state.jobs().length, 1);
    });

    it('a 2xx whose data cannot be read, after the last attempt, is looked up by reference id: recovered', async () => {
      const c = client({ maxRetries: 0 });
      sandbox.injectFault({ route: 'job.create', mode: 'truncated' });
      const created = await c.createJob(body('garbled-1'));
      assert.equal(created.recovered, true);
      assert.equal(created.job_id, sandbox.state.jobsByReferenceId(DEFAULT_PROJECT_ID, 'garbled-1')[0].jobId);
    });

    it('a failed creation carries its reference id; an abort before sending says nothing was sent', async () => {
      const c = client({ maxRetries: 0 });
      sandbox.injectFault({ route: 'job.create', mode: 'status', status: 422 });
      const refused = await failure(c.createJob(body('ref-422')));
      assert.deepEqual([refused.code, refused.statusCode, refused.referenceId], ['api_error', 422, 'ref-422']);
      const aborted = await failure(c.createJob(body('ref-aborted'), { cancel: AbortSignal.abort() }));
      assert.equal(aborted.code, 'ABORTED');
      assert.equal(aborted.referenceId, 'ref-aborted');
      assert.match(aborted.message, /; nothing was sent$/);
    });

    it('a batch name that exists: BATCH_CREATION, or the batch with reuseExisting', async () => {
      const c = client();
      const first = await c.createBatch({ name: 'twice', description: '' });
      const err = await failure(c.createBatch({ name: 'twice', description: '' }));
      assert.equal(err.code, 'BATCH_CREATION');
      assert.deepEqual(await c.createBatch({ name: 'twice', description: '' }, {}, { reuseExisting: true }), {
        batch_id: first.batch_id,
        reused: true,
      });
    });

    it('concurrent calls that reuse a new batch name share one request; a later one sends again', async () => {
      const c = client();
      const calls = Array.from({ length: 3 }, () => c.createBatch({ name: 'shared', description: '' }, {}, { reuseExisting: true }));
      const results = await Promise.all(calls);
      assert.equal(routeCount('batch.create'), 1);
      const id = results[0].batch_id;
      assert.deepEqual(results, [{ batch_id: id }, { batch_id: id, reused: true }, { batch_id: id, reused: true }]);
      assert.deepEqual(await c.createBatch({ name: 'shared', description: '' }, {}, { reuseExisting: true }), {
        batch_id: id,
        reused: true,
      });
      assert.equal(routeCount('batch.create'), 2, 'the finished creation is not shared any more');
    });

    it('a batch created by an attempt whose answer was lost is found by name: recovered', async () => {
      const c = client();
      sandbox.injectFault({ route: 'batch.create', mode: 'reset-after' });
      const created = await c.createBatch({ name: 'lost batch', description: '' });
      assert.equal(created.recovered, true);
      assert.equal(created.batch_id, sandbox.state.batches(DEFAULT_PROJECT_ID).find((b) => b.name === 'lost batch')?.batchId);
    });
  });

  describe('closing', () => {
    it('a call queued when the client closes ends with ABORTED, nothing of it sent', async () => {
      const c = client({ maxConcurrent: 1 });
      sandbox.injectFault({ route: 'project.details', mode: 'delay', delayMs: 300 });
      const running = c.projectDetails();
      const queued = c.createJob(body('queued-1'));
      await new Promise((r) => setImmediate(r));
      const closed = c.close(5_000);
      const err = await failure(queued);
      assert.equal(err.code, 'ABORTED');
      assert.match(err.message, /nothing was sent/);
      assert.ok(await running, 'the call in flight finished within the grace');
      await closed;
      assert.equal(routeCount('job.create'), 0);
      assert.match(debug.join('\n'), /^closing: \d+ call\(s\) open; queued ones end with ABORTED, those in flight get 5000 ms to finish$/m);
      assert.equal(debug.at(-1), 'closed');
      assert.ok(!debug.some((line) => line.includes('still in flight')), 'every call ended within the grace');
    });

    it('a call still in flight after the grace is aborted', async () => {
      const c = client();
      sandbox.injectFault({ route: 'project.details', mode: 'delay', delayMs: 10_000 });
      let ended = false;
      const running = failure(c.projectDetails()).finally(() => (ended = true));
      await waitForRequest('project.details');
      await c.close(1);
      assert.ok(ended, 'close resolves once the aborted call has ended');
      const err = await running;
      assert.equal(err.code, 'ABORTED');
      assert.ok(debug.includes('closing: 1 call(s) still in flight after 1 ms aborted'), debug.join('\n'));
    });

    it('a lookup waiting on a listing read ends with ABORTED when its cancel aborts or the client closes', async () => {
      const c = client();
      const { batch_id } = await c.createBatch({ name: 'slow listing', description: '' });
      sandbox.injectFault({ route: 'batch.jobs', mode: 'delay', delayMs: 10_000, count: 5 });
      const nodeLifetime = new AbortController();
      const cancel = new AbortController();
      const cancelled = failure(c.findJobByReference('r1', batch_id, { cancel: cancel.signal }));
      const kept = failure(c.findJobByReference('r2', batch_id, { cancel: nodeLifetime.signal }));
      cancel.abort();
      assert.equal((await cancelled).code, 'ABORTED');
      await c.close(0);
      const closed = await kept;
      assert.deepEqual([closed.code, closed.message], ['ABORTED', 'batch.jobs aborted: the Playment config node was closed']);
    });

    it('a closed client takes no new call', async () => {
      const c = client();
      await c.close(0);
      const err = await failure(c.getJob('j1'));
      assert.equal(err.code, 'ABORTED');
      assert.equal(sandbox.state.requestCount, 0);
    });
  });

  async function waitForRequest(route: string): Promise<void> {
    while (routeCount(route) === 0) await new Promise((r) => setTimeout(r, 5));
  }
});

/**
 * Answers the sandbox does not give: data that does not match its schema, a project without a
 * default batch. A small local server answers each path from a table, counting requests.
 */
describe('the client with answers the sandbox does not give', () => {
  let server: Server;
  let baseUrl = '';
  let routes: Record<string, () => unknown>;
  let hits: Record<string, number>;
  const clients: PlaymentClient[] = [];

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      const path = (req.url ?? '').split('?')[0];
      hits[`${req.method} ${path}`] = (hits[`${req.method} ${path}`] ?? 0) + 1;
      const answer = routes[`${req.method} ${path}`];
      if (!answer) return void res.writeHead(404).end();
      const body = answer();
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(typeof body === 'string' ? body : JSON.stringify({ success: true, data: body }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    routes = {};
    hits = {};
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close(0)));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function client(): PlaymentClient {
    const c = new PlaymentClient({
      baseUrl,
      apiVersion: 'v1',
      projectId: 'p1',
      apiKey: 'key-5678',
      rateLimit: 0,
      maxRetries: 2,
      retryPolicy: { baseDelayMs: 1, maxDelayMs: 2 },
    });
    clients.push(c);
    return c;
  }

  it("data that does not match an endpoint's schema is BAD_RESPONSE naming that answer, and a read is not sent again", async () => {
    routes = {
      'POST /v1/projects/p1/batch': () => ({ batch: 'no id' }),
      'GET /v1/projects/p1/jobs/j1': () => ({ job_id: 'j1' }),
      'GET /v1/projects/p1/batch/b1': () => ({ jobs: 'none' }),
      'GET /v1/projects/p1/details': () => ({ batches: 'none' }),
    };
    const c = client();
    const cases: Array<[Promise<unknown>, string, string]> = [
      [c.createBatch({ name: 'n', description: '' }), 'create batch', 'POST /v1/projects/p1/batch'],
      [c.getJob('j1'), 'job', 'GET /v1/projects/p1/jobs/j1'],
      [c.batchJobs('b1', undefined), 'batch jobs', 'GET /v1/projects/p1/batch/b1'],
      [c.projectDetails(), 'project details', 'GET /v1/projects/p1/details'],
    ];
    for (const [call, what, route] of cases) {
      const err = await failure(call);
      assert.equal(err.code, 'BAD_RESPONSE');
      assert.ok(err.message.startsWith(`unexpected ${what} answer from the API: `), err.message);
      assert.equal(hits[route], 1, route);
    }
  });

  it('a garbled answer to a read is final: sent once', async () => {
    routes = { 'GET /v1/projects/p1/jobs/j1': () => '{"success":tr', 'GET /v1/projects/p1/batch/b1': () => '{"success":tr' };
    const c = client();
    assert.equal((await failure(c.getJob('j1'))).code, 'BAD_RESPONSE');
    assert.equal((await failure(c.batchJobs('b1', undefined))).code, 'BAD_RESPONSE');
    assert.deepEqual(hits, { 'GET /v1/projects/p1/jobs/j1': 1, 'GET /v1/projects/p1/batch/b1': 1 });
  });

  it('a created job whose data cannot be read is looked up by reference id: recovered', async () => {
    routes = {
      'POST /v1/projects/p1/jobs': () => ({ unexpected: true }),
      'GET /v1/projects/p1/details': () => ({ batches: [{ id: 'default-b', is_default: true }] }),
      'GET /v1/projects/p1/batch/default-b': () => ({ jobs: [{ id: 'job-77', reference_id: 'ref-77' }] }),
    };
    const c = client();
    const created = await c.createJob(body('ref-77'));
    assert.deepEqual(created, { job_id: 'job-77', reference_id: 'ref-77', tag: undefined, work_flow_id: 'wf-1', recovered: true });
    assert.equal(hits['POST /v1/projects/p1/jobs'], 1);
  });

  it('a created job whose data cannot be read and is not listed: BAD_RESPONSE saying so', async () => {
    routes = {
      'POST /v1/projects/p1/jobs': () => ({ unexpected: true }),
      'GET /v1/projects/p1/details': () => ({ batches: [{ id: 'default-b', is_default: true }] }),
      'GET /v1/projects/p1/batch/default-b': () => ({ jobs: [] }),
    };
    const err = await failure(client().createJob(body('ref-78')));
    assert.deepEqual([err.code, err.statusCode, err.referenceId], ['BAD_RESPONSE', 200, 'ref-78']);
    assert.match(
      err.message,
      /^the API answered the job creation with data that cannot be read; no job with reference id ref-78 is listed/,
    );
  });

  it('a project without a default batch finds no job in it, and the next lookup asks the details again', async () => {
    let withDefault = false;
    routes = {
      'GET /v1/projects/p1/details': () => ({ batches: withDefault ? [{ id: 'default-b', is_default: true }] : [{ id: 'other' }] }),
      'GET /v1/projects/p1/batch/default-b': () => ({ jobs: [{ id: 'job-1', reference_id: 'ref-1' }] }),
    };
    const c = client();
    assert.equal(await c.findJobByReference('ref-1', undefined), undefined);
    withDefault = true;
    assert.equal(await c.findJobByReference('ref-1', undefined), 'job-1');
    assert.equal(hits['GET /v1/projects/p1/details'], 2);
  });

  it('without reuseExisting, concurrent creations of one name each send their request', async () => {
    let created = 0;
    routes = {
      'POST /v1/projects/p1/batch': () =>
        ++created === 1 ? { batch_id: 'b-new' } : '{"success":false,"error":{"code":"BATCH_CREATION","message":"exists"}}',
    };
    const c = client();
    const [first, second] = await Promise.allSettled([
      c.createBatch({ name: 'n', description: '' }),
      c.createBatch({ name: 'n', description: '' }),
    ]);
    assert.deepEqual(first, { status: 'fulfilled', value: { batch_id: 'b-new' } });
    assert.equal(second.status, 'rejected');
    assert.equal(hits['POST /v1/projects/p1/batch'], 2);
  });
});
