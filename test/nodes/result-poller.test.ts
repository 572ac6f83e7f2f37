/**
 * The account's result poller through real flows against the sandbox: waits beyond the request
 * queue's size, polls and submissions sharing the budget (counted in the request log, not
 * timed), and watching a whole batch with progress, once per job across a restart.
 */
import assert from 'node:assert/strict';
import { startSandbox, type Sandbox } from '../../src/sandbox/server';
import { PlaymentClient } from '../../src/api/client';
import {
  API_KEY,
  PROJECT,
  SUBMIT_NODE,
  frames,
  helper,
  inject,
  loadFlow,
  useSandboxRuntime,
  assertEachEndedOnce,
} from '../support/harness';
import { startRestartableNodeRed, type Recorded } from '../support/restartable-node-red';
import { waitFor } from '../support/wait';

const RESULT = { id: 'n1', type: 'playment-job-result', pollInterval: '1', wires: [['out']] };
/** The config node's default request queue (limits.ts). */
const DEFAULT_MAX_QUEUE = 1000;

/** Jobs made straight through a client: the setup, not the part under test. */
async function seedJobs(sandbox: Sandbox, count: number, batchId?: string, rateLimit = 0): Promise<string[]> {
  const client = new PlaymentClient({
    baseUrl: sandbox.url,
    apiVersion: 'v0',
    projectId: PROJECT,
    apiKey: API_KEY,
    rateLimit,
    maxConcurrent: 16,
    maxQueue: count,
  });
  try {
    const tag = Math.random().toString(36).slice(2);
    const ids = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        client
          .createJob({
            reference_id: `seed-${tag}-${i}`,
            tag: 'track_bounding_boxes',
            batch_id: batchId,
            data: { video_data: { frames: frames(1).map((src, j) => ({ frame_id: `f${j}`, src })) } },
          } as any)
          .then((r) => r.job_id),
      ),
    );
    return ids;
  } finally {
    await client.close(0);
  }
}

async function seedBatch(sandbox: Sandbox, name: string): Promise<string> {
  const client = new PlaymentClient({ baseUrl: sandbox.url, apiVersion: 'v0', projectId: PROJECT, apiKey: API_KEY, rateLimit: 0 });
  try {
    return (await client.createBatch({ name, description: name })).batch_id;
  } finally {
    await client.close(0);
  }
}

/** Requests the sandbox received from index `from` on, by route. */
function routesSince(sandbox: Sandbox, from: number): string[] {
  return sandbox.state.requests.slice(from).map((r: any) => r.route);
}

describe('the result poller in a flow', function () {
  this.timeout(90_000);
  let sandbox!: Sandbox;
  useSandboxRuntime({ completionDelayMs: 3000 }, (s) => (sandbox = s));

  it(`serves ${DEFAULT_MAX_QUEUE + 500} waits at the default queue size: none QUEUE_FULL, about one request per result`, async () => {
    const count = DEFAULT_MAX_QUEUE + 500;
    const batchId = await seedBatch(sandbox, 'many-waits');
    const jobIds = await seedJobs(sandbox, count, batchId);
    const rec = await loadFlow(sandbox, [{ ...RESULT, mode: 'wait' }], { config: { maxConcurrent: 4 } });
    const mark = sandbox.state.requests.length;
    const msgIds = new Set<string>();
    jobIds.forEach((jobId, i) => {
      msgIds.add(`w${i}`);
      inject({ _msgid: `w${i}`, job_id: jobId, batch_id: batchId });
    });
    await assertEachEndedOnce(rec, msgIds, 60_000, 50);
    assert.deepEqual(
      rec.caught.map((m) => m.error.code),
      [],
      'no wait ended with an error (QUEUE_FULL or other)',
    );
    assert.deepEqual(new Set(rec.outputs.map((m) => m.payload.job_id)), new Set(jobIds));
    assert.ok(rec.outputs.every((m) => m.payload.status === 'completed' && m.payload.result));
    const routes = routesSince(sandbox, mark);
    const gets = routes.filter((r) => r === 'job.get').length;
    const pages = routes.filter((r) => r === 'batch.jobs').length;
    const details = routes.filter((r) => r === 'project.details').length;
    assert.equal(gets, count, 'one GET job per completed job (the batch was known)');
    assert.ok(pages >= Math.ceil(count / 100), `the listing was read: ${pages} pages`);
    assert.ok(details >= 1, 'each sweep read the project details once');
    assert.equal(routes.length, gets + pages + details, 'nothing else was requested');
    assert.ok(routes.length / count <= 1.4, `${routes.length} requests for ${count} results`);
  });

  it('a wait without a batch id learns it with one GET, then joins the sweeps', async () => {
    const [jobId] = await seedJobs(sandbox, 1);
    const rec = await loadFlow(sandbox, [{ ...RESULT, mode: 'wait' }]);
    const mark = sandbox.state.requests.length;
    inject({ job_id: jobId });
    await rec.settled(1, 20_000);
    assert.equal(rec.outputs[0]?.payload.status, 'completed', JSON.stringify(rec.caught.map((m) => m.error)));
    const routes = routesSince(sandbox, mark);
    assert.equal(routes[0], 'job.get', 'the first request learns the batch');
    assert.equal(routes.at(-1), 'job.get', 'the last fetches the result URL');
    const between = routes.slice(1, -1);
    assert.ok(
      between.every((r) => r === 'batch.jobs' || r === 'project.details'),
      `between them only sweeps: ${routes.join(', ')}`,
    );
    assert.ok(between.includes('batch.jobs'), 'the sweeps read the listing');
  });

  it('refuses a msg.batch_id that is not a string with INVALID_INPUT, sending nothing', async () => {
    const rec = await loadFlow(sandbox, [{ ...RESULT, mode: 'wait' }]);
    inject({ job_id: '6c7b34b0-65fe-4be5-9912-935f7c2bfe8a', batch_id: 42 });
    await rec.settled(1);
    assert.equal(rec.caught[0].error.code, 'INVALID_INPUT');
    assert.match(rec.caught[0].error.message, /msg\.batch_id \(or msg\.payload\.batch_id\) must be a batch id string when set; got 42/);
    assert.equal(sandbox.state.requestCount, 0);
  });

  describe('with the sandbox rate limit on', () => {
    let limited!: Sandbox;
    before(async () => {
      const { startSandbox } = await import('../../src/sandbox/server');
      limited = await startSandbox({ apiKeys: [API_KEY], projectIds: [PROJECT], completionDelayMs: 600_000, rateLimitPerSecond: 50 });
    });
    after(() => limited.close());

    it('shares the budget: submissions and polls interleave while both are queued, neither starves', async () => {
      const waits = 120;
      const submissions = 40;
      const jobIds = await seedJobs(limited, waits, undefined, 40);
      await loadFlow(
        limited,
        [
          { ...RESULT, mode: 'wait' },
          { ...SUBMIT_NODE, id: 'n2' },
        ],
        { config: { rateLimit: 40, maxConcurrent: 1 } },
      );
      const mark = limited.state.requests.length;
      // Waits first: with one line for both, every submission would queue behind every poll.
      jobIds.forEach((jobId) => inject({ job_id: jobId }));
      for (let i = 0; i < submissions; i++) inject({ payload: frames(2, `https://cdn.example.com/fair-${i}`) }, 'n2');
      const created = () => limited.state.requests.slice(mark).filter((r: any) => r.route === 'job.create' && r.status === 200).length;
      await waitFor('the submissions to be answered', () => created() >= submissions, 30_000, 20);
      const routes = routesSince(limited, mark);
      const firstCreate = routes.indexOf('job.create');
      const lastCreate = routes.lastIndexOf('job.create');
      const window = routes.slice(firstCreate, lastCreate + 1);
      const creates = window.filter((r) => r === 'job.create').length;
      const polls = window.filter((r) => r === 'job.get' || r === 'batch.jobs').length;
      assert.equal(creates, submissions);
      assert.ok(firstCreate <= 2, `the first submission went within the first grants, at ${firstCreate}`);
      // Alternating grants: while both lines wait, each kind gets every other request.
      assert.ok(
        polls >= creates - 2 && polls <= creates + 2,
        `${creates} submissions and ${polls} polls between the first and last submission`,
      );
      const learned = routes.slice(0, lastCreate).filter((r) => r === 'job.get').length;
      assert.ok(learned < waits, `the submissions did not wait for all ${waits} polls (${learned} went before the last one)`);
      assert.equal(limited.state.requests.slice(mark).filter((r: any) => r.status === 429).length, 0, 'no request was throttled');
      await helper.unload();
      limited.state.reset();
    });
  });

  describe('watching a batch', () => {
    const WATCH = { ...RESULT, mode: 'batch' };

    it('sends each job once as it completes, progress messages, and ends with the last progress', async () => {
      const batchId = await seedBatch(sandbox, 'watched');
      const jobIds = await seedJobs(sandbox, 150, batchId);
      const rec = await loadFlow(sandbox, [WATCH]);
      const mark = sandbox.state.requests.length;
      inject({ _msgid: 'watch-1', batch_id: batchId, topic: 'ignored' });
      await waitFor('the watch to end', () => helper.getNode('n1') && rec.completed.length + rec.caught.length >= 1, 30_000, 20);
      assert.deepEqual(
        rec.caught.map((m) => m.error),
        [],
      );
      const jobs = rec.outputs.filter((m) => m.topic === 'job');
      const progress = rec.outputs.filter((m) => m.topic === 'progress');
      assert.equal(jobs.length + progress.length, rec.outputs.length, 'every message is a job or progress');
      assert.deepEqual(jobs.map((m) => m.payload.job_id).sort(), [...jobIds].sort(), 'each job once');
      assert.ok(jobs.every((m) => m.job_id === m.payload.job_id && m.payload.status === 'completed' && m.payload.batch_id === batchId));
      const last = progress.at(-1)!;
      assert.deepEqual(last.payload, { batch_id: batchId, total: 150, completed: 150 });
      assert.equal(rec.completed.length, 1, 'the input message ended once');
      for (let i = 1; i < progress.length; i++) assert.ok(progress[i].payload.completed >= progress[i - 1].payload.completed);
      assert.ok(progress.every((m) => m.payload.total === 150 && m.payload.batch_id === batchId));
      const routes = routesSince(sandbox, mark);
      assert.equal(routes.filter((r) => r === 'job.get').length, 150, 'one GET per completed job');
      assert.deepEqual(
        routes.filter((r) => r !== 'job.get' && r !== 'batch.jobs' && r !== 'project.details'),
        [],
      );
    });

    it('a job whose download fails goes to Catch with its job id; the watch goes on and ends', async () => {
      const batchId = await seedBatch(sandbox, 'one-fails');
      const jobIds = await seedJobs(sandbox, 3, batchId);
      sandbox.injectFault({ route: 'attachment', mode: 'status', status: 404, count: 1 });
      const rec = await loadFlow(sandbox, [{ ...WATCH, download: true }]);
      inject({ batch_id: batchId });
      await waitFor('the watch to end', () => rec.completed.length >= 1, 30_000, 20);
      const jobs = rec.outputs.filter((m) => m.topic === 'job');
      assert.equal(rec.caught.length, 1, 'one job failed');
      assert.equal(rec.caught[0].topic, 'job');
      assert.equal(rec.caught[0].error.code, 'api_error', "the code of the sandbox's 404 answer");
      assert.deepEqual([...jobs.map((m) => m.job_id), rec.caught[0].job_id].sort(), [...jobIds].sort(), 'every job once: sent or reported');
      assert.ok(jobs.every((m) => Array.isArray(m.payload.annotations)));
      assert.deepEqual(rec.outputs.at(-1).payload, { batch_id: batchId, total: 3, completed: 3 });
    });

    it('with a persistent store, sends each job once across a restart: a later watch sends only new jobs', async function () {
      this.timeout(180_000);
      const batchId = await seedBatch(sandbox, 'watched-twice');
      const first = await seedJobs(sandbox, 120, batchId);
      const live = await startRestartableNodeRed(sandbox);
      try {
        await live.deploy(WATCH);
        await live.inject({ batch_id: batchId });
        const completed = (records: Recorded[], count: number) =>
          records.some((m) => m.topic === 'progress' && m.payload.completed === count);
        await waitFor('the first watch to end', () => completed(live.records(), 120), 30_000, 20);
        await live.stop();
        const outputs = live.records();
        const second = await seedJobs(sandbox, 30, batchId);
        await live.start();
        await live.inject({ batch_id: batchId });
        await waitFor('the second watch to end', () => completed(live.records().slice(outputs.length), 150), 30_000, 20);
        const after = live.records().slice(outputs.length);
        const sentFirst = outputs.filter((m) => m.topic === 'job').map((m) => m.payload.job_id);
        const sentAfter = after.filter((m) => m.topic === 'job').map((m) => m.payload.job_id);
        assert.deepEqual(sentFirst.sort(), [...first].sort());
        assert.deepEqual(sentAfter.sort(), [...second].sort(), 'after the restart only the jobs not sent before');
      } finally {
        await live.close();
      }
    });

    it('a watch stopped half-way resumes by itself after the restart, sending only the jobs not sent before', async function () {
      this.timeout(180_000);
      // Its own sandbox, whose jobs complete 10 s after creation: the stop comes between the
      // early jobs' completion and the late ones', with room to spare for a real process.
      const slow = await startSandbox({ apiKeys: [API_KEY], projectIds: [PROJECT], completionDelayMs: 10_000 });
      const live = await startRestartableNodeRed(slow);
      try {
        await live.deploy(WATCH);
        const batchId = await seedBatch(slow, 'resumed');
        const early = await seedJobs(slow, 50, batchId);
        await waitFor('the early jobs to complete', () => slow.state.jobs().every((j) => j.completesAtMs <= Date.now()), 30_000, 50);
        const late = await seedJobs(slow, 20, batchId);
        await live.inject({ batch_id: batchId, topic: 'resume-me' });
        const jobsSent = () => live.records().filter((m) => m.topic === 'job');
        await waitFor('the early jobs', () => jobsSent().length >= early.length, 30_000, 20);
        await live.stop();
        assert.equal(live.errors()[0]?.code, 'ABORTED', 'the watch was still going when the node stopped');
        const before = live.records();
        await live.start();
        await waitFor(
          'the resumed watch to end',
          () =>
            live
              .records()
              .slice(before.length)
              .some((m) => m.topic === 'progress' && m.payload.completed === 70),
          30_000,
          20,
        );
        const after = live.records().slice(before.length);
        assert.deepEqual(
          before
            .filter((m) => m.topic === 'job')
            .map((m) => m.payload.job_id)
            .sort(),
          [...early].sort(),
        );
        assert.deepEqual(
          after
            .filter((m) => m.topic === 'job')
            .map((m) => m.payload.job_id)
            .sort(),
          [...late].sort(),
        );
      } finally {
        await live.close();
        await slow.close();
      }
    });

    it('refuses a message without a batch id with INVALID_INPUT, sending nothing', async () => {
      const rec = await loadFlow(sandbox, [WATCH]);
      inject({ payload: { job_id: 'x' } });
      await rec.settled(1);
      assert.equal(rec.caught[0].error.code, 'INVALID_INPUT');
      assert.match(rec.caught[0].error.message, /batch id is required to watch a batch: send msg\.batch_id/);
      assert.equal(sandbox.state.requestCount, 0);
    });
  });
});
