/**
 * The result poller on its own, with a stand-in client on a mocked clock: what each wait costs in
 * requests, shared GETs, the sweep interval rule, TIMEOUT, aborts, and no timer beyond 2^31-1 ms.
 */
import assert from 'node:assert/strict';
import { mock } from 'node:test';
import { useMockClock } from '../support/mock-clock';
import { ResultPoller, closeResultPoller, duration, isDone, resultPollerOf, type PollerClient } from '../../src/api/result-poller';
import { PlaymentError } from '../../src/api/errors';
import { MAX_TIMER_DELAY_MS } from '../../src/api/timer-delay';
import type { BatchJobsPage, JobRecord, ProjectDetails } from '../../src/api/schemas';

/** Lets promise callbacks and timers due now run; the mocked clock does not move. */
async function turn(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    mock.timers.tick(0);
    await new Promise((r) => setImmediate(r));
  }
}

/** A project in memory: jobs by batch, in creation order; every call is recorded. */
export class FakeApi implements PollerClient {
  readonly calls: string[] = [];
  readonly batches = new Map<string, string[]>();
  readonly completed = new Set<string>();

  add(batchId: string, count: number): string[] {
    const jobs = this.batches.get(batchId) ?? [];
    const start = jobs.length;
    for (let i = 0; i < count; i++) jobs.push(`${batchId}-job-${start + i}`);
    this.batches.set(batchId, jobs);
    return jobs.slice(start);
  }

  private batchOf(jobId: string): string | undefined {
    for (const [batchId, jobs] of this.batches) if (jobs.includes(jobId)) return batchId;
    return undefined;
  }

  async getJob(jobId: string): Promise<JobRecord> {
    this.calls.push(`get ${jobId}`);
    const batchId = this.batchOf(jobId);
    if (!batchId) throw new PlaymentError({ code: 'FS_0006', message: `job not found: ${jobId}` });
    const done = this.completed.has(jobId);
    return { job_id: jobId, batch_id: batchId, status: done ? 'completed' : 'created', result: done ? `https://r/${jobId}.json` : '' };
  }

  /** Project details calls (not in `calls`): every batch's job counts. */
  details = 0;

  async projectDetails(): Promise<ProjectDetails> {
    this.details++;
    const batches = [...this.batches].map(([id, jobs]) => ({
      id,
      total_jobs: jobs.length,
      completed_jobs: jobs.filter((j) => this.completed.has(j)).length,
    }));
    return { batches };
  }

  async batchJobs(batchId: string, pageToken: string | undefined): Promise<BatchJobsPage> {
    this.calls.push(`list ${batchId} ${pageToken ?? 0}`);
    const jobs = this.batches.get(batchId);
    if (!jobs) throw new PlaymentError({ code: 'GE_0001', message: `batch_id ${batchId} is not a valid batch` });
    const offset = Number(pageToken ?? 0);
    const page = jobs.slice(offset, offset + 100).map((id) => ({ id, status: this.completed.has(id) ? 'completed' : 'created' }));
    return { jobs: page, next_page_token: offset + 100 < jobs.length ? String(offset + 100) : '' };
  }
}

const HOUR = 3_600_000;

describe('the result poller', () => {
  const clock = useMockClock(0);

  it('checks 250 waiting jobs of a batch with 3 listing requests per sweep, and one GET per completed job', async () => {
    const api = new FakeApi();
    const jobs = api.add('b1', 250);
    const poller = new ResultPoller(api);
    const results = new Map<string, JobRecord>();
    for (const id of jobs) void poller.watchJob(id, { batchId: 'b1', intervalMs: 30_000, maxWaitMs: HOUR }).then((r) => results.set(id, r));
    await turn();
    assert.deepEqual(api.calls, ['list b1 0', 'list b1 100', 'list b1 200'], 'the first sweep: 3 pages, no GET');
    jobs.slice(0, 10).forEach((id) => api.completed.add(id));
    api.calls.length = 0;
    mock.timers.tick(30_000);
    await turn();
    // The 10 waits that end were on the first page; the rest were seen by the third.
    assert.deepEqual(
      api.calls.filter((c) => c.startsWith('list')),
      ['list b1 0', 'list b1 100', 'list b1 200'],
    );
    assert.equal(api.calls.filter((c) => c.startsWith('get')).length, 10);
    assert.equal(results.size, 10);
    assert.equal(results.get(jobs[0])!.result, `https://r/${jobs[0]}.json`);
    assert.equal(poller.size, 240);
  });

  it('reads a listing only when the project details show a change in its batch, or new waits joined', async () => {
    const api = new FakeApi();
    const jobs = api.add('b1', 150);
    const poller = new ResultPoller(api);
    for (const id of jobs.slice(0, 2)) void poller.watchJob(id, { batchId: 'b1', intervalMs: 1000, maxWaitMs: HOUR });
    await turn();
    const lists = () => api.calls.filter((c) => c.startsWith('list')).length;
    assert.deepEqual([api.details, lists()], [1, 1], 'the first sweep reads the page with the new waits');
    for (let i = 0; i < 3; i++) {
      mock.timers.tick(1000);
      await turn();
    }
    assert.deepEqual([api.details, lists()], [4, 1], 'three sweeps without a change: one request each');
    api.completed.add(jobs[140]);
    mock.timers.tick(1000);
    await turn();
    assert.deepEqual([api.details, lists()], [5, 2], 'a job of the batch completed: its listing is read');
    void poller.watchJob(jobs[149], { batchId: 'b1', intervalMs: 1000, maxWaitMs: HOUR });
    mock.timers.tick(1000);
    await turn();
    assert.deepEqual([api.details, lists()], [6, 4], 'a new wait: read up to its page');
  });

  it('learns an unknown batch with one GET shared by every wait for the job', async () => {
    const api = new FakeApi();
    const [job] = api.add('b1', 1);
    const poller = new ResultPoller(api);
    const waits = [1, 2, 3].map(() => poller.watchJob(job, { intervalMs: 1000, maxWaitMs: HOUR }));
    await turn();
    assert.deepEqual(api.calls, [`get ${job}`, 'list b1 0']);
    api.completed.add(job);
    mock.timers.tick(1000);
    await turn();
    assert.deepEqual(api.calls.slice(2), ['list b1 0', `get ${job}`]);
    assert.deepEqual(
      (await Promise.all(waits)).map((r) => r.status),
      ['completed', 'completed', 'completed'],
    );
  });

  it('a batch id that does not list the job is not final: one GET learns the real one', async () => {
    const api = new FakeApi();
    const [job] = api.add('b1', 1);
    api.add('other', 3);
    api.completed.add(job);
    const poller = new ResultPoller(api);
    const wrongBatch = poller.watchJob(job, { batchId: 'other', intervalMs: 1000, maxWaitMs: HOUR });
    const refusedBatch = poller.watchJob(job, { batchId: 'nope', intervalMs: 1000, maxWaitMs: HOUR });
    await turn();
    assert.equal((await wrongBatch).status, 'completed');
    assert.equal((await refusedBatch).status, 'completed');
  });

  it('a passing listing failure leaves waits and watches for the next sweep; a refused batch ends a watch', async () => {
    const api = new FakeApi();
    const [job] = api.add('b1', 1);
    const poller = new ResultPoller(api);
    const listing = api.batchJobs.bind(api);
    let failures = 1;
    api.batchJobs = async (batchId, token) => {
      if (failures-- > 0) throw new PlaymentError({ code: 'NETWORK', message: 'connection reset', retryable: true });
      return listing(batchId, token);
    };
    const ended: string[] = [];
    const wait = poller.watchJob(job, { batchId: 'b1', intervalMs: 1000, maxWaitMs: HOUR });
    const sent = new Set<string>();
    const watch = poller.watchBatch('b1', {
      intervalMs: 1000,
      maxWaitMs: HOUR,
      sent,
      onJob: async (r) => void sent.add(r.job_id),
      onProgress: () => undefined,
    });
    void wait.then(
      () => ended.push('wait'),
      (e) => ended.push(`wait ${e.code}`),
    );
    void watch.then(
      () => ended.push('watch'),
      (e) => ended.push(`watch ${e.code}`),
    );
    await turn();
    assert.deepEqual(ended, [], 'the failed sweep ended nothing');
    api.completed.add(job);
    mock.timers.tick(1000);
    await turn();
    assert.deepEqual(ended.sort(), ['wait', 'watch']);
    const refused = poller.watchBatch('nope', {
      intervalMs: 1000,
      maxWaitMs: HOUR,
      sent: new Set(),
      onJob: async () => undefined,
      onProgress: () => undefined,
    });
    refused.catch(() => undefined);
    mock.timers.tick(1000);
    await turn();
    await assert.rejects(refused, (e: PlaymentError) => e.code === 'GE_0001');
  });

  it('sweeps at the smallest interval among the waits', async () => {
    const api = new FakeApi();
    const [a, b] = api.add('b1', 2);
    const poller = new ResultPoller(api);
    void poller.watchJob(a, { batchId: 'b1', intervalMs: 60_000, maxWaitMs: HOUR });
    await turn();
    const stop = new AbortController();
    void poller.watchJob(b, { batchId: 'b1', intervalMs: 5_000, maxWaitMs: HOUR, signal: stop.signal }).catch(() => undefined);
    await turn();
    // Each sweep reads the project details once.
    const sweeps = () => api.details;
    assert.equal(sweeps(), 1);
    mock.timers.tick(5_000);
    await turn();
    assert.equal(sweeps(), 2, 'the 5 s wait set the pace');
    stop.abort(new Error('gone'));
    mock.timers.tick(5_000);
    await turn();
    assert.equal(sweeps(), 2, 'with it gone, the 60 s wait sets the pace again');
    mock.timers.tick(54_999);
    await turn();
    assert.equal(sweeps(), 2);
    mock.timers.tick(1);
    await turn();
    assert.equal(sweeps(), 3, '60 s after the last sweep');
  });

  it('ends a wait with TIMEOUT when the next sweep would come after its maximum wait', async () => {
    const api = new FakeApi();
    const [job] = api.add('b1', 1);
    const poller = new ResultPoller(api);
    const wait = poller.watchJob(job, { batchId: 'b1', intervalMs: 30_000, maxWaitMs: 75_000 });
    const state: { error?: PlaymentError } = {};
    wait.catch((e) => (state.error = e));
    await turn();
    mock.timers.tick(30_000);
    await turn();
    assert.equal(state.error, undefined, 'at 30 s the next sweep (60 s) is within the limit');
    mock.timers.tick(30_000);
    await turn();
    const error = state.error as PlaymentError | undefined;
    assert.equal(error?.code, 'TIMEOUT');
    assert.equal(
      error?.message,
      `job ${job} was not completed within the maximum wait of 1.25 min: still created after 1 min, and the next poll would come after the limit`,
    );
  });

  it('ends waits with their signal and all waits on close; arms no timer beyond 2^31-1 ms', async () => {
    const api = new FakeApi();
    const [a, b] = api.add('b1', 2);
    const poller = new ResultPoller(api);
    const stop = new AbortController();
    const first = poller.watchJob(a, { batchId: 'b1', intervalMs: 30 * 24 * HOUR, maxWaitMs: 100 * 24 * HOUR, signal: stop.signal });
    const second = poller.watchJob(b, { batchId: 'b1', intervalMs: 30 * 24 * HOUR, maxWaitMs: 100 * 24 * HOUR });
    await turn();
    mock.timers.tick(1);
    await turn();
    assert.ok(
      clock.armed.every((ms) => ms <= MAX_TIMER_DELAY_MS),
      `clock.armed ${clock.armed.join(', ')} ms`,
    );
    stop.abort(new PlaymentError({ code: 'ABORTED', message: 'node closed' }));
    await assert.rejects(first, /node closed/);
    poller.close(new PlaymentError({ code: 'ABORTED', message: 'config closed' }));
    await assert.rejects(second, /config closed/);
    await assert.rejects(poller.watchJob(a, { intervalMs: 1000, maxWaitMs: HOUR }), /config closed/);
  });

  it('watches a batch: each completed job once, progress when counts change, ends when all are sent', async () => {
    const api = new FakeApi();
    const jobs = api.add('b1', 150);
    const poller = new ResultPoller(api);
    const sent = new Set<string>([jobs[0]]);
    const delivered: string[] = [];
    const progress: unknown[] = [];
    api.completed.add(jobs[0]);
    api.completed.add(jobs[1]);
    const watch = poller.watchBatch('b1', {
      intervalMs: 1000,
      maxWaitMs: HOUR,
      sent,
      onJob: async (record) => {
        delivered.push(record.job_id);
        sent.add(record.job_id);
      },
      onProgress: (p) => progress.push(p),
    });
    await turn();
    assert.deepEqual(delivered, [jobs[1]], 'the job sent before is skipped');
    assert.deepEqual(progress, [{ batch_id: 'b1', total: 150, completed: 2 }]);
    mock.timers.tick(1000);
    await turn();
    assert.equal(progress.length, 1, 'no change, no progress');
    jobs.forEach((id) => api.completed.add(id));
    mock.timers.tick(1000);
    await turn(30);
    assert.equal(delivered.length, 149);
    assert.equal(new Set(delivered).size, 149);
    assert.deepEqual(await watch, { batch_id: 'b1', total: 150, completed: 150 });
    assert.equal(progress.length, 1, 'the last progress is the resolved value, not sent twice');
    assert.equal(api.calls.filter((c) => c.startsWith('get')).length, 149, 'one GET per job delivered');
  });
});

describe('the result poller: lone jobs, log lines, watch failures and helpers', () => {
  useMockClock(0);

  it('a job whose record names no batch is checked with one GET per sweep until it completes', async () => {
    const api = new FakeApi();
    const [job] = api.add('b1', 1);
    const getJob = api.getJob.bind(api);
    api.getJob = async (jobId) => ({ ...(await getJob(jobId)), batch_id: null });
    const lines: string[] = [];
    Object.assign(api, { log: { debug: (t: string) => lines.push(t), trace: () => undefined } });
    const poller = new ResultPoller(api);
    const wait = poller.watchJob(job, { intervalMs: 1000, maxWaitMs: HOUR });
    await turn();
    // One GET learns that the record names no batch; the sweep it starts checks the job with another.
    assert.deepEqual(api.calls, [`get ${job}`, `get ${job}`]);
    mock.timers.tick(1000);
    await turn();
    assert.equal(api.calls.length, 3, 'one GET per sweep');
    assert.match(
      lines.at(-1)!,
      /^result poller: sweep read 0 batch listing\(s\), skipped 0 unchanged, checked 1 job\(s\) without a batch; 1 wait\(s\) left; \d+ ms$/,
    );
    api.completed.add(job);
    mock.timers.tick(1000);
    await turn();
    assert.equal((await wait).status, 'completed');
    assert.equal(poller.size, 0);
  });

  it('a job that cannot be looked up ends its waits with that error', async () => {
    const api = new FakeApi();
    const poller = new ResultPoller(api);
    await assert.rejects(poller.watchJob('missing-job', { intervalMs: 1000, maxWaitMs: HOUR }), (e: PlaymentError) => e.code === 'FS_0006');
    assert.equal(poller.size, 0);
  });

  it('logs each sweep: listings read, batches skipped unchanged, waits left', async () => {
    const api = new FakeApi();
    const [job] = api.add('b1', 2);
    const lines: string[] = [];
    Object.assign(api, { log: { debug: (t: string) => lines.push(t), trace: () => undefined } });
    const poller = new ResultPoller(api);
    void poller.watchJob(job, { batchId: 'b1', intervalMs: 1000, maxWaitMs: HOUR });
    await turn();
    mock.timers.tick(1000);
    await turn();
    assert.equal(lines.length, 2);
    assert.match(
      lines[0],
      /^result poller: sweep read 1 batch listing\(s\), skipped 0 unchanged, checked 0 job\(s\) without a batch; 1 wait\(s\) left; \d+ ms$/,
    );
    assert.match(
      lines[1],
      /^result poller: sweep read 0 batch listing\(s\), skipped 1 unchanged, checked 0 job\(s\) without a batch; 1 wait\(s\) left; \d+ ms$/,
    );
    poller.close(new PlaymentError({ code: 'ABORTED', message: 'closed' }));
  });

  it('a batch watch that runs out of time says how many jobs completed', async () => {
    const api = new FakeApi();
    const jobs = api.add('b1', 4);
    api.completed.add(jobs[0]);
    const poller = new ResultPoller(api);
    const sent = new Set<string>();
    const watch = poller.watchBatch('b1', {
      intervalMs: 30_000,
      maxWaitMs: 45_000,
      sent,
      onJob: async (r) => void sent.add(r.job_id),
      onProgress: () => undefined,
    });
    watch.catch(() => undefined);
    await turn();
    mock.timers.tick(30_000);
    await turn();
    await assert.rejects(watch, (e: PlaymentError) => {
      assert.equal(e.code, 'TIMEOUT');
      assert.equal(
        e.message,
        'batch b1 was not completed within the maximum wait of 45 s: 1 of 4 jobs completed after 30 s, and the next poll would come after the limit',
      );
      return true;
    });
  });

  it('a watch whose onJob or onProgress throws ends with that error', async () => {
    const api = new FakeApi();
    const jobs = api.add('b1', 2);
    api.completed.add(jobs[0]);
    const poller = new ResultPoller(api);
    const base = { intervalMs: 1000, maxWaitMs: HOUR, sent: new Set<string>() };
    const failingJob = poller.watchBatch('b1', {
      ...base,
      onJob: async () => {
        throw new Error('output failed');
      },
      onProgress: () => undefined,
    });
    const failingProgress = poller.watchBatch('b1', {
      ...base,
      sent: new Set<string>(),
      onJob: async () => undefined,
      onProgress: () => {
        throw new Error('progress failed');
      },
    });
    failingJob.catch(() => undefined);
    failingProgress.catch(() => undefined);
    await turn();
    await assert.rejects(failingJob, /output failed/);
    await assert.rejects(failingProgress, /progress failed/);
    poller.close(new PlaymentError({ code: 'ABORTED', message: 'closed' }));
  });

  it('one poller per client; closing it ends its waits, and the next one is new', async () => {
    const api = new FakeApi();
    const [job] = api.add('b1', 1);
    const poller = resultPollerOf(api);
    assert.equal(resultPollerOf(api), poller);
    const wait = poller.watchJob(job, { batchId: 'b1', intervalMs: 1000, maxWaitMs: HOUR });
    closeResultPoller(api, new PlaymentError({ code: 'ABORTED', message: 'config node closed' }));
    await assert.rejects(wait, /config node closed/);
    assert.notEqual(resultPollerOf(api), poller);
  });

  it('a job is done when completed with a result URL', () => {
    assert.equal(isDone({ job_id: 'j', status: 'completed', result: 'https://r/j.json' }), true);
    assert.equal(isDone({ job_id: 'j', status: 'completed', result: '' }), false);
    assert.equal(isDone({ job_id: 'j', status: 'completed' }), false);
    assert.equal(isDone({ job_id: 'j', status: 'created', result: 'https://r/j.json' }), false);
  });

  it('durations read as people read them, without rounding a limit away', () => {
    assert.equal(duration(2_500), '2.5 s');
    assert.equal(duration(59_999), '59.999 s');
    assert.equal(duration(60_000), '1 min');
    assert.equal(duration(75_000), '1.25 min');
    assert.equal(duration(3_600_000), '1 h');
    // Rounding never gives 60 of a unit.
    assert.equal(duration(59_999.9), '1 min');
    assert.equal(duration(3_599_999), '1 h');
    assert.equal(duration(5_400_000), '1.5 h');
  });
});
