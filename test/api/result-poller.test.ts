/**
 * The result poller on its own, with a stand-in client on a mocked clock: what each wait costs in
 * requests, shared GETs, the sweep interval rule, TIMEOUT, aborts, and no timer beyond 2^31-1 ms.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mock } from 'node:test';
import { useMockClock } from '../support/mock-clock';
import {
  MAX_SWEEP_PAGES,
  ResultPoller,
  closeResultPoller,
  duration,
  isDone,
  resultPollerOf,
  type BatchProgress,
  type BatchWatchOptions,
  type PollerClient,
} from '../../src/api/result-poller';
import type { CallOptions } from '../../src/api/client';
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

  async getJob(jobId: string, _call?: CallOptions): Promise<JobRecord> {
    this.calls.push(`get ${jobId}`);
    const batchId = this.batchOf(jobId);
    if (!batchId) throw new PlaymentError({ code: 'FS_0006', message: `job not found: ${jobId}` });
    const done = this.completed.has(jobId);
    return { job_id: jobId, batch_id: batchId, status: done ? 'completed' : 'created', result: done ? `https://r/${jobId}.json` : '' };
  }

  /** Project details calls (not in `calls`): every batch's job counts. */
  details = 0;

  async projectDetails(_call?: CallOptions): Promise<ProjectDetails> {
    this.details++;
    const batches = [...this.batches].map(([id, jobs]) => ({
      id,
      total_jobs: jobs.length,
      completed_jobs: jobs.filter((j) => this.completed.has(j)).length,
    }));
    return { batches };
  }

  async batchJobs(batchId: string, pageToken: string | undefined, _call?: CallOptions): Promise<BatchJobsPage> {
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

// ---- edge cases: ends in the middle of a sweep, pacing, pruning, odd answers ------------------

interface Probe<T> {
  done: boolean;
  value?: T;
  error?: any;
}

/** The state of a promise, readable after `turn()` without awaiting a wait that may never end. */
function probe<T>(promise: Promise<T>): Probe<T> {
  const state: Probe<T> = { done: false };
  promise.then(
    (value) => Object.assign(state, { done: true, value }),
    (error) => Object.assign(state, { done: true, error }),
  );
  return state;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Holds every listing request until the returned function is called. */
function holdListings(api: FakeApi): () => void {
  const gate = deferred();
  const listing = api.batchJobs.bind(api);
  api.batchJobs = async (batchId, token) => {
    await gate.promise;
    return listing(batchId, token);
  };
  return gate.resolve;
}

function logOf(api: FakeApi): string[] {
  const lines: string[] = [];
  Object.assign(api, { log: { debug: (t: string) => lines.push(t), trace: () => undefined } });
  return lines;
}

const gets = (api: FakeApi) => api.calls.filter((c) => c.startsWith('get'));
const lists = (api: FakeApi, batchId: string) => api.calls.filter((c) => c.startsWith(`list ${batchId} `)).length;
const wait = (extra: { batchId?: string; signal?: AbortSignal; intervalMs?: number; maxWaitMs?: number } = {}) => ({
  intervalMs: 1000,
  maxWaitMs: HOUR,
  ...extra,
});

/** A batch watch that records what it delivers and reports (onJob marks the job sent). */
function watchAll(poller: ResultPoller, batchId: string, extra: Partial<BatchWatchOptions> = {}) {
  const sent = new Set<string>();
  const delivered: string[] = [];
  const progress: BatchProgress[] = [];
  const result = probe(
    poller.watchBatch(batchId, {
      intervalMs: 1000,
      maxWaitMs: HOUR,
      sent,
      onJob: async (record) => {
        delivered.push(record.job_id);
        sent.add(record.job_id);
      },
      onProgress: (p) => progress.push(p),
      ...extra,
    }),
  );
  return { result, delivered, progress, sent };
}

const closed = () => new PlaymentError({ code: 'ABORTED', message: 'config closed' });

describe('the result poller: requests, signals and close', () => {
  useMockClock(0);

  it("asks every request in the limiter's poll line, cancelled when the poller closes", async () => {
    const api = new FakeApi();
    const [a, b] = api.add('b1', 2);
    const seen: (CallOptions | undefined)[] = [];
    const { getJob, batchJobs, projectDetails } = {
      getJob: api.getJob.bind(api),
      batchJobs: api.batchJobs.bind(api),
      projectDetails: api.projectDetails.bind(api),
    };
    api.getJob = (jobId, call) => (seen.push(call), getJob(jobId));
    api.batchJobs = (batchId, token, call) => (seen.push(call), batchJobs(batchId, token));
    api.projectDetails = (call) => (seen.push(call), projectDetails());
    const poller = new ResultPoller(api);
    void poller.watchJob(a, wait()).catch(() => undefined);
    void poller.watchJob(b, wait({ batchId: 'b1' })).catch(() => undefined);
    await turn();
    assert.equal(seen.length, 3, 'GET to learn the batch, project details, listing');
    assert.ok(seen.every((call) => call?.kind === 'poll' && call.cancel instanceof AbortSignal && !call.cancel.aborted));
    const error = closed();
    poller.close(error);
    assert.ok(seen.every((call) => call?.cancel?.aborted && call.cancel.reason === error));
  });

  it('many requests in flight at once raise no listener-leak warning', async () => {
    const api = new FakeApi();
    const jobs = api.add('b1', 30);
    jobs.forEach((id) => api.completed.add(id));
    const gate = deferred();
    const getJob = api.getJob.bind(api);
    // Like the client: each call follows the poller's cancel signal while it runs.
    api.getJob = async (jobId, call) => {
      const onAbort = () => undefined;
      call?.cancel?.addEventListener('abort', onAbort);
      await gate.promise;
      call?.cancel?.removeEventListener('abort', onAbort);
      return getJob(jobId);
    };
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const poller = new ResultPoller(api);
      const waits = jobs.map((id) => probe(poller.watchJob(id, wait({ batchId: 'b1' }))));
      await turn();
      assert.equal(gets(api).length, 0, 'the 30 final GETs are in flight');
      gate.resolve();
      await turn();
      assert.ok(waits.every((w) => w.value?.status === 'completed'));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, []);
  });

  it('a wait whose signal has already fired ends at once with its reason and costs nothing', async () => {
    const api = new FakeApi();
    const [a] = api.add('b1', 1);
    const poller = new ResultPoller(api);
    const stop = new AbortController();
    stop.abort(new Error('node closed'));
    const job = probe(poller.watchJob(a, wait({ batchId: 'b1', signal: stop.signal })));
    const learning = probe(poller.watchJob(a, wait({ signal: stop.signal })));
    const watch = watchAll(poller, 'b1', { signal: stop.signal });
    await turn();
    for (const w of [job, learning, watch.result]) assert.match(w.error?.message, /node closed/);
    assert.deepEqual([api.calls, api.details, poller.size], [[], 0, 0]);
  });

  it('close ends waits whose batch is being learned and jobs without a batch too', async () => {
    const api = new FakeApi();
    const [a, b] = api.add('b1', 2);
    const gate = deferred();
    const getJob = api.getJob.bind(api);
    api.getJob = async (jobId) => {
      if (jobId === a) await gate.promise;
      return { ...(await getJob(jobId)), batch_id: null };
    };
    const poller = new ResultPoller(api);
    const learning = probe(poller.watchJob(a, wait()));
    const lone = probe(poller.watchJob(b, wait()));
    await turn();
    assert.equal(poller.size, 2);
    const error = closed();
    poller.close(error);
    await turn();
    assert.equal(learning.error, error);
    assert.equal(lone.error, error);
    assert.equal(poller.size, 0);
  });

  it('one abort listener per signal, kept while a wait follows it and removed when the last one ends', async () => {
    const api = new FakeApi();
    const [a, b, c, d, e] = api.add('b1', 5);
    const poller = new ResultPoller(api);
    const stop = new AbortController();
    const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;
    const [first, second, third] = [a, b, c].map((id) => probe(poller.watchJob(id, wait({ batchId: 'b1', signal: stop.signal }))));
    assert.equal(listeners(stop.signal), 1, 'three waits, one listener');
    const other = new AbortController();
    const both = [d, e].map((id) => probe(poller.watchJob(id, wait({ batchId: 'b1', signal: other.signal }))));
    [a, b, d, e].forEach((id) => api.completed.add(id));
    await turn();
    assert.ok(first.done && second.done && both.every((w) => w.done));
    assert.equal(listeners(other.signal), 0, 'every wait on it ended: no listener left');
    assert.equal(listeners(stop.signal), 1, 'the third wait still follows it');
    stop.abort(new Error('node closed'));
    await turn();
    assert.match(third.error?.message, /node closed/);
    assert.equal(listeners(stop.signal), 0);
    assert.equal(poller.size, 0);
  });

  it('closeResultPoller for a client that never waited does nothing', () => {
    assert.doesNotThrow(() => closeResultPoller(new FakeApi(), closed()));
  });

  it('close while a sweep is reading: nothing more is read', async () => {
    const api = new FakeApi();
    const [a] = api.add('b1', 1);
    const [b] = api.add('b2', 1);
    const release = holdListings(api);
    const poller = new ResultPoller(api);
    const waits = [probe(poller.watchJob(a, wait({ batchId: 'b1' }))), probe(poller.watchJob(b, wait({ batchId: 'b2' })))];
    await turn();
    poller.close(closed());
    release();
    await turn();
    mock.timers.tick(10_000);
    await turn();
    assert.deepEqual(api.calls, ['list b1 0']);
    assert.equal(api.details, 1);
    assert.ok(waits.every((w) => w.error?.message === 'config closed'));
  });

  it('a sweep that throws (a client breaking its contract) ends every wait with INTERNAL, and the poller goes on', async () => {
    const api = new FakeApi();
    const [a, b] = api.add('b1', 2);
    api.completed.add(a);
    const getJob = api.getJob.bind(api);
    api.getJob = () => {
      throw new TypeError('getJob is broken');
    };
    const poller = new ResultPoller(api);
    const broken = probe(poller.watchJob(a, wait({ batchId: 'b1' })));
    await turn();
    assert.equal(broken.error?.code, 'INTERNAL');
    assert.equal(broken.error?.message, 'result poller: TypeError: getJob is broken');
    api.getJob = getJob;
    const next = probe(poller.watchJob(b, wait({ batchId: 'b1' })));
    api.completed.add(b);
    mock.timers.tick(1000);
    await turn();
    assert.equal(next.value?.status, 'completed');
  });

  it('a logger that throws at the end of a sweep ends its waits with INTERNAL, and later waits are still served', async () => {
    const api = new FakeApi();
    const [a, b] = api.add('b1', 2);
    let broken = true;
    Object.assign(api, {
      log: {
        debug: () => {
          if (broken) throw new Error('logger broke');
        },
        trace: () => undefined,
      },
    });
    const poller = new ResultPoller(api);
    const first = probe(poller.watchJob(a, wait({ batchId: 'b1' })));
    await turn();
    assert.equal(first.error?.message, 'result poller: Error: logger broke');
    broken = false;
    api.completed.add(b);
    const next = probe(poller.watchJob(b, wait({ batchId: 'b1' })));
    mock.timers.tick(1000);
    await turn();
    assert.equal(next.value?.status, 'completed');
  });
});

describe('the result poller: waits that end during a sweep, pacing and pruning', () => {
  const clock = useMockClock(0);

  it('waits that end while their sweep is reading get nothing more: no delivery, no request, counted once', async () => {
    const api = new FakeApi();
    const [a, b] = api.add('b1', 2);
    const [c] = api.add('b2', 1);
    const [h] = api.add('b3', 1);
    api.completed.add(a);
    api.completed.add(c);
    const release = holdListings(api);
    const poller = new ResultPoller(api);
    const stop = new AbortController();
    const ended = probe(poller.watchJob(a, wait({ batchId: 'b1', signal: stop.signal })));
    const live = probe(poller.watchJob(b, wait({ batchId: 'b1' })));
    const watch = watchAll(poller, 'b2', { signal: stop.signal });
    const hinted = probe(poller.watchJob(h, wait({ batchId: 'nope', signal: stop.signal })));
    await turn();
    assert.equal(poller.size, 4);
    stop.abort(new Error('node closed'));
    release();
    await turn();
    for (const w of [ended, watch.result, hinted]) assert.match(w.error?.message, /node closed/);
    assert.equal(live.done, false);
    assert.equal(poller.size, 1, 'the wait left is counted once');
    assert.deepEqual(watch.delivered, []);
    assert.ok(!api.calls.includes(`get ${c}`), 'no GET for a watch that ended');
    assert.ok(!api.calls.includes(`get ${h}`), 'no GET to learn the batch of a wait that ended');
  });

  it('a wait that ends while its batch is being learned leaves nothing to sweep', async () => {
    const api = new FakeApi();
    const [a] = api.add('b1', 1);
    const lines = logOf(api);
    const gate = deferred();
    const getJob = api.getJob.bind(api);
    api.getJob = async (jobId) => {
      await gate.promise;
      return getJob(jobId);
    };
    const poller = new ResultPoller(api);
    const stop = new AbortController();
    const learning = probe(poller.watchJob(a, wait({ signal: stop.signal })));
    await turn();
    stop.abort(new Error('node closed'));
    gate.resolve();
    await turn();
    mock.timers.tick(1000);
    await turn();
    assert.match(learning.error?.message, /node closed/);
    assert.deepEqual(lines, [], 'no sweep');
    assert.deepEqual([api.calls, api.details], [[`get ${a}`], 0]);
  });

  it('a sweep that takes longer than the interval is followed at once by the next, never overlapped', async () => {
    const api = new FakeApi();
    const [a, b] = api.add('b1', 2);
    const lines = logOf(api);
    mock.timers.tick(1000);
    const release = holdListings(api);
    const poller = new ResultPoller(api);
    void poller.watchJob(a, wait({ batchId: 'b1' }));
    await turn();
    assert.equal(api.details, 1, 'the first sweep is reading');
    const joined = probe(poller.watchJob(b, wait({ batchId: 'b1' })));
    mock.timers.tick(5000);
    await turn();
    assert.equal(api.details, 1, 'no second sweep while the first one reads');
    api.completed.add(b);
    release();
    await turn();
    assert.equal(api.details, 2, 'the next sweep came as soon as the slow one ended');
    assert.equal(joined.value?.status, 'completed');
    assert.match(lines[0], /; 1 wait\(s\) left; 5000 ms$/);
  });

  it('waits joining between sweeps keep the armed sweep timer', async () => {
    const api = new FakeApi();
    const jobs = api.add('b1', 5);
    const poller = new ResultPoller(api);
    void poller.watchJob(jobs[0], wait({ batchId: 'b1' }));
    await turn();
    const armed = clock.armed.length;
    for (const id of jobs.slice(1)) void poller.watchJob(id, wait({ batchId: 'b1' }));
    assert.equal(clock.armed.length, armed);
    jobs.forEach((id) => api.completed.add(id));
    mock.timers.tick(1000);
    await turn();
    assert.equal(poller.size, 0, 'all five served by the next sweep');
  });

  it('a wait whose next sweep comes exactly at its limit gets that sweep; the TIMEOUT says how long it waited', async () => {
    const api = new FakeApi();
    const [a, b] = api.add('b1', 2);
    const poller = new ResultPoller(api);
    mock.timers.tick(10_000);
    const limits = { batchId: 'b1', intervalMs: 30_000, maxWaitMs: 60_000 };
    const served = probe(poller.watchJob(a, wait(limits)));
    const late = probe(poller.watchJob(b, wait(limits)));
    await turn();
    mock.timers.tick(30_000);
    await turn();
    assert.deepEqual([served.done, late.done], [false, false], 'at 40 s the next sweep (70 s) is at the limit, not after it');
    api.completed.add(a);
    mock.timers.tick(30_000);
    await turn();
    assert.equal(served.value?.status, 'completed');
    assert.equal(
      late.error?.message,
      `job ${b} was not completed within the maximum wait of 1 min: still created after 1 min, and the next poll would come after the limit`,
    );
  });

  it('once every wait has ended, no sweep runs any more', async () => {
    const api = new FakeApi();
    const [a] = api.add('b1', 1);
    const lines = logOf(api);
    const poller = new ResultPoller(api);
    const done = probe(poller.watchJob(a, wait({ batchId: 'b1' })));
    await turn();
    api.completed.add(a);
    mock.timers.tick(1000);
    await turn();
    assert.ok(done.done);
    assert.equal(lines.length, 2);
    for (let i = 0; i < 2; i++) {
      mock.timers.tick(MAX_TIMER_DELAY_MS);
      await turn();
    }
    assert.equal(lines.length, 2);
  });

  it('batches whose waits have all ended are not read again, even when their counts change', async () => {
    const api = new FakeApi();
    const [a, a2] = api.add('b1', 2);
    const [b] = api.add('b2', 1);
    const [c] = api.add('b3', 1);
    const poller = new ResultPoller(api);
    const stop = new AbortController();
    void poller.watchJob(a, wait({ batchId: 'b1', signal: stop.signal })).catch(() => undefined);
    const live = probe(poller.watchJob(b, wait({ batchId: 'b2' })));
    watchAll(poller, 'b3', { signal: stop.signal });
    await turn();
    assert.deepEqual(api.calls, ['list b1 0', 'list b2 0', 'list b3 0']);
    stop.abort(new Error('node closed'));
    api.completed.add(a2);
    api.completed.add(c);
    api.calls.length = 0;
    mock.timers.tick(1000);
    await turn();
    assert.deepEqual(api.calls, []);
    assert.equal(api.details, 2);
    assert.equal(live.done, false);
    assert.equal(poller.size, 1);
  });

  it('after a delivery, a sweep without a change reads nothing, and a later one does not deliver twice', async () => {
    const api = new FakeApi();
    const [a, b] = api.add('b1', 2);
    const poller = new ResultPoller(api);
    const first = probe(poller.watchJob(a, wait({ batchId: 'b1' })));
    const second = probe(poller.watchJob(b, wait({ batchId: 'b1' })));
    await turn();
    api.completed.add(a);
    mock.timers.tick(1000);
    await turn();
    assert.equal(first.value?.job_id, a);
    api.calls.length = 0;
    mock.timers.tick(1000);
    await turn();
    assert.deepEqual(api.calls, [], 'counts unchanged since the listing was read to the end');
    api.completed.add(b);
    mock.timers.tick(1000);
    await turn();
    assert.deepEqual(api.calls, ['list b1 0', `get ${b}`]);
    assert.equal(second.value?.job_id, b);
  });
});

describe('the result poller: odd answers', () => {
  useMockClock(0);

  it('a job never listed yet, or listed without a status, times out as "unknown"; a watch as "not listed yet"', async () => {
    const api = new FakeApi();
    const [a] = api.add('b1', 1);
    const [b] = api.add('b2', 1);
    const listing = api.batchJobs.bind(api);
    api.batchJobs = async (batchId, token) => {
      api.calls.push(`list ${batchId} ${token ?? 0}`);
      if (batchId === 'b1') throw new PlaymentError({ code: 'NETWORK', message: 'connection reset', retryable: true });
      const page = await listing(batchId, token);
      return { ...page, jobs: page.jobs.map(({ id }) => ({ id })) };
    };
    const poller = new ResultPoller(api);
    const limits = { intervalMs: 30_000, maxWaitMs: 20_000 };
    const unlisted = probe(poller.watchJob(a, wait({ batchId: 'b1', ...limits })));
    const noStatus = probe(poller.watchJob(b, wait({ batchId: 'b2', ...limits })));
    const watch = watchAll(poller, 'b1', limits);
    await turn();
    const after = 'after 0 s, and the next poll would come after the limit';
    assert.equal(unlisted.error?.message, `job ${a} was not completed within the maximum wait of 20 s: still unknown ${after}`);
    assert.equal(noStatus.error?.message, `job ${b} was not completed within the maximum wait of 20 s: still unknown ${after}`);
    assert.equal(
      watch.result.error?.message,
      `batch b1 was not completed within the maximum wait of 20 s: its jobs were not listed yet ${after}`,
    );
    assert.deepEqual(gets(api), []);
  });

  it('a passing listing failure costs no GET, and the next sweep reads the listing again', async () => {
    const api = new FakeApi();
    const [a] = api.add('b1', 1);
    const listing = api.batchJobs.bind(api);
    let failures = 0;
    api.batchJobs = async (batchId, token) => {
      if (failures-- > 0) {
        api.calls.push(`list ${batchId} ${token ?? 0} failed`);
        throw new PlaymentError({ code: 'NETWORK', message: 'connection reset', retryable: true });
      }
      return listing(batchId, token);
    };
    const poller = new ResultPoller(api);
    const done = probe(poller.watchJob(a, wait({ batchId: 'b1' })));
    await turn();
    api.completed.add(a);
    failures = 1;
    api.calls.length = 0;
    mock.timers.tick(1000);
    await turn();
    assert.deepEqual(api.calls, ['list b1 0 failed']);
    mock.timers.tick(1000);
    await turn();
    assert.deepEqual(api.calls, ['list b1 0 failed', 'list b1 0', `get ${a}`]);
    assert.equal(done.value?.status, 'completed');
  });

  it('a batch whose learned record names it but whose listing does not: BAD_RESPONSE', async () => {
    const api = new FakeApi();
    api.add('b1', 1);
    const getJob = api.getJob.bind(api);
    api.getJob = async (jobId) => {
      if (jobId !== 'ghost') return getJob(jobId);
      api.calls.push(`get ${jobId}`);
      return { job_id: jobId, batch_id: 'b1', status: 'created', result: '' };
    };
    const poller = new ResultPoller(api);
    const ghost = probe(poller.watchJob('ghost', wait()));
    await turn();
    assert.equal(ghost.error?.code, 'BAD_RESPONSE');
    assert.equal(ghost.error?.message, 'job ghost is not listed in its batch b1');
    assert.deepEqual(api.calls, ['get ghost', 'list b1 0']);
  });

  it('a refused batch id from the message: the job moves to its real batch and the refused one is not read again', async () => {
    const api = new FakeApi();
    const [a] = api.add('b1', 1);
    const poller = new ResultPoller(api);
    const moved = probe(poller.watchJob(a, wait({ batchId: 'nope' })));
    for (let i = 0; i < 3; i++) {
      mock.timers.tick(1000);
      await turn();
    }
    assert.equal(moved.done, false);
    assert.equal(lists(api, 'nope'), 1);
    api.completed.add(a);
    mock.timers.tick(1000);
    await turn();
    assert.equal(moved.value?.status, 'completed');
  });

  it('project details that fail, or lack a batch count, make every listing be read', async () => {
    const api = new FakeApi();
    const [a] = api.add('b1', 1);
    const [b] = api.add('b2', 1);
    const [c] = api.add('b3', 1);
    const details = api.projectDetails.bind(api);
    let mode: 'ok' | 'fail' | 'partial' = 'ok';
    api.projectDetails = async () => {
      if (mode === 'fail') throw new PlaymentError({ code: 'NETWORK', message: 'connection reset', retryable: true });
      const answer = await details();
      if (mode === 'partial') {
        answer.batches = answer.batches.map((batch) =>
          batch.id === 'b1' ? { id: 'b1', total_jobs: 1 } : batch.id === 'b2' ? { id: 'b2', completed_jobs: 0 } : { id: batch.id },
        );
      }
      return answer;
    };
    const poller = new ResultPoller(api);
    const waits = [a, b, c].map((id, i) => probe(poller.watchJob(id, wait({ batchId: `b${i + 1}` }))));
    await turn();
    mode = 'fail';
    api.calls.length = 0;
    mock.timers.tick(1000);
    await turn();
    assert.deepEqual(api.calls, ['list b1 0', 'list b2 0', 'list b3 0'], 'details failed: every batch read');
    mode = 'partial';
    for (let i = 0; i < 2; i++) {
      api.calls.length = 0;
      mock.timers.tick(1000);
      await turn();
      assert.deepEqual(api.calls, ['list b1 0', 'list b2 0', 'list b3 0'], 'no counts: every batch read');
    }
    assert.ok(waits.every((w) => !w.done));
  });

  it(`reads at most ${MAX_SWEEP_PAGES} listing pages of a batch per sweep, and serves nothing from a partial listing`, async () => {
    const api = new FakeApi();
    const long = api.add('long', MAX_SWEEP_PAGES + 500);
    api.add('wide', MAX_SWEEP_PAGES + 500);
    // One job per page.
    api.batchJobs = async (batchId, token) => {
      api.calls.push(`list ${batchId} ${token ?? 0}`);
      const jobs = api.batches.get(batchId)!;
      const offset = Number(token ?? 0);
      return { jobs: [{ id: jobs[offset], status: 'created' }], next_page_token: offset + 1 < jobs.length ? String(offset + 1) : '' };
    };
    const poller = new ResultPoller(api);
    const beyond = probe(poller.watchJob(long[MAX_SWEEP_PAGES + 200], wait({ batchId: 'long' })));
    const watch = watchAll(poller, 'wide');
    await turn();
    assert.deepEqual([lists(api, 'long'), lists(api, 'wide')], [MAX_SWEEP_PAGES, MAX_SWEEP_PAGES]);
    assert.deepEqual(gets(api), [], 'a job beyond the pages read is not taken as missing');
    assert.deepEqual(watch.progress, [], 'no progress from a partial listing');
    api.calls.length = 0;
    mock.timers.tick(1000);
    await turn();
    assert.deepEqual([lists(api, 'long'), lists(api, 'wide')], [MAX_SWEEP_PAGES, MAX_SWEEP_PAGES], 'not read to the end: read again');
    assert.equal(beyond.done, false);
    assert.equal(watch.result.done, false);
  });

  it('a job wait and a watch of its batch share one GET of the completed job', async () => {
    const api = new FakeApi();
    const [a] = api.add('b1', 2);
    api.completed.add(a);
    const poller = new ResultPoller(api);
    const job = probe(poller.watchJob(a, wait({ batchId: 'b1' })));
    const watch = watchAll(poller, 'b1');
    await turn();
    assert.deepEqual(gets(api), [`get ${a}`]);
    assert.equal(job.value?.job_id, a);
    assert.deepEqual(watch.delivered, [a]);
  });

  it('a job listed completed whose GET has no result yet is read and fetched again at the next sweep', async () => {
    const api = new FakeApi();
    const [a] = api.add('b1', 1);
    const [c] = api.add('b2', 1);
    api.completed.add(a);
    api.completed.add(c);
    const noResultYet = new Set([a, c]);
    const getJob = api.getJob.bind(api);
    api.getJob = async (jobId) => {
      const record = await getJob(jobId);
      return noResultYet.has(jobId) ? { ...record, result: '' } : record;
    };
    const poller = new ResultPoller(api);
    const job = probe(poller.watchJob(a, wait({ batchId: 'b1' })));
    const watch = watchAll(poller, 'b2');
    await turn();
    assert.equal(job.done, false);
    assert.deepEqual(watch.delivered, []);
    assert.equal(watch.result.done, false);
    noResultYet.clear();
    api.calls.length = 0;
    mock.timers.tick(1000);
    await turn();
    assert.deepEqual(api.calls, ['list b1 0', `get ${a}`, 'list b2 0', `get ${c}`]);
    assert.equal(job.value?.result, `https://r/${a}.json`);
    assert.deepEqual(watch.delivered, [c]);
    assert.deepEqual(watch.result.value, { batch_id: 'b2', total: 1, completed: 1 });
  });

  it('a failed GET of a completed job ends its job waits; a watch tries it again at the next sweep', async () => {
    const api = new FakeApi();
    const [a] = api.add('b1', 1);
    const [c, d] = api.add('b2', 2);
    [a, c, d].forEach((id) => api.completed.add(id));
    const failing = new Set([a, d]);
    const getJob = api.getJob.bind(api);
    api.getJob = async (jobId) => {
      if (failing.delete(jobId)) throw new PlaymentError({ code: 'NETWORK', message: `connection reset: ${jobId}`, retryable: true });
      return getJob(jobId);
    };
    const poller = new ResultPoller(api);
    const job = probe(poller.watchJob(a, wait({ batchId: 'b1' })));
    const watch = watchAll(poller, 'b2');
    await turn();
    assert.equal(job.error?.message, `connection reset: ${a}`);
    assert.deepEqual(watch.delivered, [c]);
    assert.equal(watch.result.done, false, 'not every completed job was delivered');
    mock.timers.tick(1000);
    await turn();
    assert.deepEqual(watch.delivered, [c, d]);
    assert.deepEqual(watch.result.value, { batch_id: 'b2', total: 2, completed: 2 });
  });

  it('a watch of an empty batch waits for its jobs', async () => {
    const api = new FakeApi();
    api.batches.set('empty', []);
    const poller = new ResultPoller(api);
    const watch = watchAll(poller, 'empty');
    await turn();
    assert.equal(watch.result.done, false);
    assert.deepEqual(watch.progress, [{ batch_id: 'empty', total: 0, completed: 0 }]);
    const [j] = api.add('empty', 1);
    api.completed.add(j);
    mock.timers.tick(1000);
    await turn();
    assert.deepEqual(watch.delivered, [j]);
    assert.deepEqual(watch.result.value, { batch_id: 'empty', total: 1, completed: 1 });
  });

  it('a watch reports progress when the completed or total count changes, not when a listing read shows no change', async () => {
    const api = new FakeApi();
    const jobs = api.add('b1', 3);
    api.completed.add(jobs[0]);
    const poller = new ResultPoller(api);
    const watch = watchAll(poller, 'b1');
    await turn();
    const step = async () => {
      api.calls.length = 0;
      mock.timers.tick(1000);
      await turn();
    };
    void poller.watchJob(jobs[2], wait({ batchId: 'b1' }));
    await step();
    assert.deepEqual(api.calls, ['list b1 0'], 'a new wait: the listing is read');
    api.completed.add(jobs[1]);
    await step();
    api.add('b1', 1);
    await step();
    assert.deepEqual(watch.progress, [
      { batch_id: 'b1', total: 3, completed: 1 },
      { batch_id: 'b1', total: 3, completed: 2 },
      { batch_id: 'b1', total: 4, completed: 2 },
    ]);
  });

  it('a watch that ends while delivering gets no further job and no progress', async () => {
    const api = new FakeApi();
    const jobs = api.add('b1', 2);
    jobs.forEach((id) => api.completed.add(id));
    const poller = new ResultPoller(api);
    const stop = new AbortController();
    const delivered: string[] = [];
    const progress: BatchProgress[] = [];
    const sent = new Set<string>();
    const watch = probe(
      poller.watchBatch('b1', {
        intervalMs: 1000,
        maxWaitMs: HOUR,
        signal: stop.signal,
        sent,
        onJob: async (record) => {
          delivered.push(record.job_id);
          sent.add(record.job_id);
          stop.abort(new Error('node closed'));
        },
        onProgress: (p) => progress.push(p),
      }),
    );
    await turn();
    assert.match(watch.error?.message, /node closed/);
    assert.deepEqual(delivered, [jobs[0]]);
    assert.deepEqual(progress, []);
  });
});

describe('the result poller: jobs without a batch', () => {
  useMockClock(0);

  function loneApi(): FakeApi {
    const api = new FakeApi();
    const getJob = api.getJob.bind(api);
    api.getJob = async (jobId) => ({ ...(await getJob(jobId)), batch_id: null });
    return api;
  }

  it('one GET per sweep for each job still waited for, and no project details', async () => {
    const api = loneApi();
    const [a, b] = api.add('b1', 2);
    const poller = new ResultPoller(api);
    const stop = new AbortController();
    const ended = probe(poller.watchJob(a, wait({ signal: stop.signal })));
    const live = probe(poller.watchJob(b, wait()));
    await turn();
    stop.abort(new Error('node closed'));
    api.calls.length = 0;
    mock.timers.tick(1000);
    await turn();
    assert.match(ended.error?.message, /node closed/);
    assert.deepEqual(api.calls, [`get ${b}`]);
    assert.equal(api.details, 0);
    assert.equal(live.done, false);
  });

  it('a failed GET ends its waits with that error', async () => {
    const api = loneApi();
    const [a] = api.add('b1', 1);
    const poller = new ResultPoller(api);
    const lone = probe(poller.watchJob(a, wait()));
    await turn();
    api.batches.delete('b1');
    mock.timers.tick(1000);
    await turn();
    assert.equal(lone.error?.code, 'FS_0006');
    assert.equal(poller.size, 0);
  });

  it('TIMEOUT says the status the last GET showed', async () => {
    const api = loneApi();
    const [a] = api.add('b1', 1);
    const poller = new ResultPoller(api);
    const lone = probe(poller.watchJob(a, wait({ maxWaitMs: 1500 })));
    await turn();
    assert.equal(lone.done, false);
    mock.timers.tick(1000);
    await turn();
    assert.equal(
      lone.error?.message,
      `job ${a} was not completed within the maximum wait of 1.5 s: still created after 1 s, and the next poll would come after the limit`,
    );
  });
});
