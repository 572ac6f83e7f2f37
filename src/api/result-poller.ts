/**
 * One result poller per account: every waiting job of every job-result node is checked through
 * the batch listing (100 statuses per request), in one sweep per interval, instead of each wait
 * polling its own job. A wait is an entry in memory, not a queued request: the poller's calls
 * use the limiter's poll line, which is never full and shares the rate with submissions.
 *
 * Costs in requests: a job whose batch is unknown costs one GET job to learn it (that GET may
 * already show it completed). Each sweep reads the project details once (every batch's job
 * counts), then the listing pages of each batch with waiters whose counts changed since its
 * listing was last read, or that has new waiters (one request per 100 jobs of the batch; a sweep
 * that only serves job waits stops at the page where the last of them was seen). A job seen
 * completed costs one GET job for its result URL, shared by every wait for it.
 *
 * Interval: one per account, the smallest poll interval among the current waits; a sweep starts
 * that long after the previous one started, or as soon as it ends when it took longer.
 */
import { PlaymentError, isPlaymentError } from './errors';
import type { CallOptions } from './client';
import type { ClientLogger } from './log';
import type { BatchJobsPage, JobRecord, ProjectDetails } from './schemas';
import { timerDelay } from './timer-delay';
import { setMaxListeners } from 'node:events';

/** What the poller needs of the client. */
export interface PollerClient {
  getJob(jobId: string, call?: CallOptions): Promise<JobRecord>;
  batchJobs(batchId: string, pageToken: string | undefined, call?: CallOptions): Promise<BatchJobsPage>;
  projectDetails(call?: CallOptions): Promise<ProjectDetails>;
  /** The client's logger: one debug line per sweep. */
  readonly log?: ClientLogger;
}

/** Playment's rule for a finished job: completed, with a result URL. */
export function isDone(record: JobRecord): boolean {
  return record.status === 'completed' && Boolean(record.result);
}

export interface WaitLimits {
  /** How often the waiter wants a check; the account sweeps at the smallest of these. */
  intervalMs: number;
  /** Gives up (TIMEOUT) when the next sweep would come after this. */
  maxWaitMs: number;
  /** Ends the wait with the signal's reason. */
  signal?: AbortSignal;
}

export interface JobWatchOptions extends WaitLimits {
  /** The job's batch, when the message knows it: saves the GET that learns it. */
  batchId?: string;
}

/** What a batch watch reports after each sweep of its batch (the shape of a progress message). */
export interface BatchProgress {
  batch_id: string;
  total: number;
  completed: number;
}

export interface BatchWatchOptions extends WaitLimits {
  /** Jobs already delivered (in an earlier run): skipped. onJob adds the ones it delivers. */
  sent: Set<string>;
  /** A completed job (its final GET): runs once per job; the watch waits for it. */
  onJob(record: JobRecord): Promise<void>;
  /** After each full sweep of the batch whose counts changed (and after the first). */
  onProgress(progress: BatchProgress): void;
}

/** The listing is paged by 100; a batch is not read beyond this many pages per sweep. */
export const MAX_SWEEP_PAGES = 1000;

interface Wait {
  startedAt: number;
  deadline: number;
  intervalMs: number;
  maxWaitMs: number;
  settled: boolean;
  signal?: AbortSignal;
  reject(err: unknown): void;
}

interface JobWait extends Wait {
  jobId: string;
  /** The batch came from the message, not from the API: a listing that refuses it is not final. */
  batchHinted: boolean;
  lastStatus: string;
  resolve(record: JobRecord): void;
}

interface BatchWatch extends Wait {
  batchId: string;
  opts: BatchWatchOptions;
  last?: BatchProgress;
  resolve(progress: BatchProgress): void;
}

interface BatchEntry {
  jobs: Map<string, Set<JobWait>>;
  watches: Set<BatchWatch>;
  /** A wait or watch joined since the listing was last read: the next sweep reads it. */
  fresh: boolean;
  /** The project details' counts for the batch when its listing was last read. */
  counts?: BatchCounts;
}

interface BatchCounts {
  total: number;
  completed: number;
}

export class ResultPoller {
  private readonly batches = new Map<string, BatchEntry>();
  /** Jobs whose batch is being learned (one GET each, shared by their waits). */
  private readonly learning = new Map<string, Set<JobWait>>();
  /** Jobs whose record names no batch: one GET each per sweep. */
  private readonly lone = new Map<string, Set<JobWait>>();
  /** Live waits per poll interval: the sweep interval is the smallest key. */
  private readonly intervals = new Map<number, number>();
  /** Waits per abort signal: one listener per signal (a node's), not one per wait. */
  private readonly bySignal = new Map<AbortSignal, { waits: Set<Wait>; onAbort: () => void }>();
  private readonly stop = new AbortController();
  private readonly call: CallOptions = { cancel: this.stop.signal, kind: 'poll' };
  private timer: NodeJS.Timeout | undefined;
  private timerDueAt = Infinity;
  private sweeping = false;
  /** Sweeps are paced from their start: a slow sweep (many pages, many results) delays no result further. */
  private lastSweepStartedAt = -Infinity;
  private closedError: PlaymentError | undefined;

  constructor(private readonly client: PollerClient) {
    // Every call of the poller follows this one signal (the client links each call to it).
    setMaxListeners(0, this.stop.signal);
  }

  /** Live waits: jobs waited for and batches watched. */
  get size(): number {
    let n = 0;
    for (const count of this.intervals.values()) n += count;
    return n;
  }

  /** Resolves with the job's record (from a final GET job) once it is completed. */
  watchJob(jobId: string, opts: JobWatchOptions): Promise<JobRecord> {
    return new Promise<JobRecord>((resolve, reject) => {
      const wait = this.begin(opts, reject) as JobWait | undefined;
      if (!wait) return;
      Object.assign(wait, { jobId, batchHinted: Boolean(opts.batchId), lastStatus: 'unknown' });
      wait.resolve = (record) => this.settle(wait, () => resolve(record));
      if (opts.batchId) {
        this.addToBatch(opts.batchId, wait);
        this.schedule();
      } else {
        this.learn(wait);
      }
    });
  }

  /**
   * Watches every job of a batch: `onJob` for each completed one not in `sent`, `onProgress`
   * after sweeps. Resolves with the last progress once every job of the batch is completed and
   * delivered (a batch without jobs is watched until it has some).
   */
  watchBatch(batchId: string, opts: BatchWatchOptions): Promise<BatchProgress> {
    return new Promise<BatchProgress>((resolve, reject) => {
      const watch = this.begin(opts, reject) as BatchWatch | undefined;
      if (!watch) return;
      Object.assign(watch, { batchId, opts });
      watch.resolve = (progress) => this.settle(watch, () => resolve(progress));
      this.entry(batchId).watches.add(watch);
      this.schedule();
    });
  }

  /** Ends every wait with `err`, stops sweeping and takes no new waits. */
  close(err: PlaymentError): void {
    this.closedError = err;
    this.stop.abort(err);
    clearTimeout(this.timer);
    this.timer = undefined;
    this.failAll(err);
  }

  private failAll(err: unknown): void {
    const all: Wait[] = [];
    for (const entry of this.batches.values()) {
      for (const set of entry.jobs.values()) all.push(...set);
      all.push(...entry.watches);
    }
    for (const map of [this.learning, this.lone]) for (const set of map.values()) all.push(...set);
    this.batches.clear();
    this.learning.clear();
    this.lone.clear();
    for (const wait of all) this.fail(wait, err);
  }

  // ---- waits -----------------------------------------------------------------------------

  /**
   * The common part of a new wait (the caller adds its own fields to the same object: one object
   * and no extra closure per wait keeps a wait near 1 KB); undefined (and rejected) when it
   * cannot start.
   */
  private begin(opts: WaitLimits, reject: (err: unknown) => void): Wait | undefined {
    if (this.closedError) return void reject(this.closedError);
    if (opts.signal?.aborted) return void reject(opts.signal.reason);
    const now = Date.now();
    const wait: Wait = {
      startedAt: now,
      deadline: now + opts.maxWaitMs,
      intervalMs: opts.intervalMs,
      maxWaitMs: opts.maxWaitMs,
      settled: false,
      signal: opts.signal,
      reject,
    };
    if (opts.signal) this.follow(opts.signal, wait);
    this.intervals.set(opts.intervalMs, (this.intervals.get(opts.intervalMs) ?? 0) + 1);
    return wait;
  }

  /** Ends a wait once; it is dropped from the maps lazily, at the next sweep. */
  private settle(wait: Wait, end: () => void): void {
    if (wait.settled) return;
    wait.settled = true;
    if (wait.signal) this.unfollow(wait.signal, wait);
    const left = (this.intervals.get(wait.intervalMs) ?? 1) - 1;
    if (left > 0) this.intervals.set(wait.intervalMs, left);
    else {
      this.intervals.delete(wait.intervalMs);
      // The pace may slow down now: arm the next sweep again.
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.timerDueAt = Infinity;
        this.schedule();
      }
    }
    end();
  }

  private follow(signal: AbortSignal, wait: Wait): void {
    let entry = this.bySignal.get(signal);
    if (!entry) {
      const waits = new Set<Wait>();
      const onAbort = () => [...waits].forEach((w) => this.fail(w, signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      this.bySignal.set(signal, (entry = { waits, onAbort }));
    }
    entry.waits.add(wait);
  }

  private unfollow(signal: AbortSignal, wait: Wait): void {
    const entry = this.bySignal.get(signal);
    if (!entry) return;
    entry.waits.delete(wait);
    if (entry.waits.size > 0) return;
    signal.removeEventListener('abort', entry.onAbort);
    this.bySignal.delete(signal);
  }

  private fail(wait: Wait, err: unknown): void {
    this.settle(wait, () => wait.reject(err));
  }

  private entry(batchId: string): BatchEntry {
    let entry = this.batches.get(batchId);
    if (!entry) this.batches.set(batchId, (entry = { jobs: new Map(), watches: new Set(), fresh: true }));
    entry.fresh = true;
    return entry;
  }

  private addToBatch(batchId: string, wait: JobWait): void {
    addTo(this.entry(batchId).jobs, wait.jobId, wait);
  }

  /** One GET job learns the batch of a job (and may find it completed already). */
  private learn(wait: JobWait): void {
    const waiting = this.learning.get(wait.jobId);
    if (waiting) return void waiting.add(wait);
    const waits = new Set([wait]);
    this.learning.set(wait.jobId, waits);
    this.client.getJob(wait.jobId, this.call).then(
      (record) => {
        this.learning.delete(wait.jobId);
        const live = [...waits].filter((w) => !w.settled);
        if (isDone(record)) return live.forEach((w) => w.resolve(record));
        for (const w of live) {
          w.lastStatus = record.status;
          w.batchHinted = false;
          if (record.batch_id) this.addToBatch(record.batch_id, w);
          else addTo(this.lone, w.jobId, w);
          this.checkDeadline(w);
        }
        this.schedule();
      },
      (err) => {
        this.learning.delete(wait.jobId);
        for (const w of waits) this.fail(w, err);
      },
    );
  }

  /** Ends a job wait with TIMEOUT when the next sweep would come after its maximum wait. */
  private checkDeadline(wait: JobWait | BatchWatch): void {
    if (wait.settled) return;
    const now = Date.now();
    if (now + this.intervalMs() <= wait.deadline) return;
    const after = `after ${duration(now - wait.startedAt)}, and the next poll would come after the limit`;
    const message =
      'jobId' in wait
        ? `job ${wait.jobId} was not completed within the maximum wait of ${duration(wait.maxWaitMs)}: still ${wait.lastStatus} ${after}`
        : `batch ${wait.batchId} was not completed within the maximum wait of ${duration(wait.maxWaitMs)}: ` +
          `${wait.last ? `${wait.last.completed} of ${wait.last.total} jobs completed` : 'its jobs were not listed yet'} ${after}`;
    this.fail(wait, new PlaymentError({ code: 'TIMEOUT', message }));
  }

  // ---- sweeps ----------------------------------------------------------------------------

  /** The account's sweep interval: the smallest among live waits. */
  private intervalMs(): number {
    let min = Infinity;
    for (const ms of this.intervals.keys()) min = Math.min(min, ms);
    return min;
  }

  private schedule(): void {
    if (this.sweeping || this.closedError) return;
    if (this.batches.size === 0 && this.lone.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerDueAt = Infinity;
      return;
    }
    const dueAt = this.lastSweepStartedAt + this.intervalMs();
    if (this.timer && this.timerDueAt <= dueAt) return;
    clearTimeout(this.timer);
    this.timerDueAt = dueAt;
    // A wait beyond what a timer holds fires early; the sweep then simply comes sooner.
    this.timer = setTimeout(
      () => {
        this.sweep().catch((err) => this.failAll(asInternal(err)));
      },
      timerDelay(Math.max(0, dueAt - Date.now())),
    );
    this.timer.unref?.();
  }

  private async sweep(): Promise<void> {
    this.timer = undefined;
    this.timerDueAt = Infinity;
    this.sweeping = true;
    const startedAt = Date.now();
    this.lastSweepStartedAt = startedAt;
    let read = 0;
    let unchanged = 0;
    let lone = 0;
    try {
      for (const [batchId, entry] of this.batches) {
        prune(entry);
        if (entry.jobs.size === 0 && entry.watches.size === 0) this.batches.delete(batchId);
      }
      const counts = this.batches.size > 0 ? await this.batchCounts() : undefined;
      for (const [batchId, entry] of [...this.batches]) {
        if (this.closedError) return;
        const now = counts?.get(batchId);
        if (!entry.fresh && now && entry.counts && now.total === entry.counts.total && now.completed === entry.counts.completed) {
          // No job of the batch completed since its listing was last read: nothing to read.
          for (const waits of entry.jobs.values()) for (const w of waits) this.checkDeadline(w);
          for (const watch of entry.watches) this.checkDeadline(watch);
          unchanged++;
          continue;
        }
        read++;
        entry.fresh = false;
        // Counts are kept only when the listing was read to the end of what it had to show.
        entry.counts = (await this.sweepBatch(batchId, entry)) ? now : undefined;
        prune(entry);
        if (entry.jobs.size === 0 && entry.watches.size === 0) this.batches.delete(batchId);
      }
      lone = this.lone.size;
      await this.sweepLone();
    } finally {
      // Before the log line: a logger that throws must not leave the poller sweeping for good.
      this.sweeping = false;
      this.client.log?.debug(
        `result poller: sweep read ${read} batch listing(s), skipped ${unchanged} unchanged, ` +
          `checked ${lone} job(s) without a batch; ${this.size} wait(s) left; ${Date.now() - startedAt} ms`,
      );
      this.schedule();
    }
  }

  /**
   * Every batch's job counts from one project-details request: a batch whose counts did not
   * change needs no listing. Undefined when the request fails (every batch is then read).
   */
  private async batchCounts(): Promise<Map<string, BatchCounts> | undefined> {
    try {
      const details = await this.client.projectDetails(this.call);
      const counts = new Map<string, BatchCounts>();
      for (const batch of details.batches) {
        const { total_jobs: total, completed_jobs: completed } = batch as Record<string, unknown>;
        if (typeof total === 'number' && typeof completed === 'number') counts.set(batch.id, { total, completed });
      }
      return counts;
    } catch {
      return undefined;
    }
  }

  /** Reads a batch's listing and serves its waits; false when something is left for the next read. */
  private async sweepBatch(batchId: string, entry: BatchEntry): Promise<boolean> {
    const unseen = new Set(entry.jobs.keys());
    const needAll = entry.watches.size > 0;
    const statuses = new Map<string, string>();
    let total = 0;
    let fullWalk = false;
    try {
      let token: string | undefined;
      for (let page = 0; page < MAX_SWEEP_PAGES; page++) {
        const listing = await this.client.batchJobs(batchId, token, this.call);
        for (const job of listing.jobs) {
          total++;
          statuses.set(job.id, job.status ?? 'unknown');
          unseen.delete(job.id);
        }
        token = listing.next_page_token || undefined;
        if (!token) {
          fullWalk = true;
          break;
        }
        if (!needAll && unseen.size === 0) break;
      }
    } catch (err) {
      this.listingFailed(entry, err);
      return false;
    }
    let complete = true;

    // One GET per completed job, shared by its waits and the batch's watches.
    const finals = new Map<string, Promise<JobRecord>>();
    const finalRecord = (jobId: string) => {
      let p = finals.get(jobId);
      if (!p) finals.set(jobId, (p = this.client.getJob(jobId, this.call)));
      return p;
    };
    const work: Promise<void>[] = [];
    for (const [jobId, waits] of entry.jobs) {
      const status = statuses.get(jobId);
      if (status === undefined) {
        // Not in this batch after a full walk: the batch came from the message; learn the real one.
        if (fullWalk) {
          entry.jobs.delete(jobId);
          for (const w of waits) this.relearnOrFail(w, batchId);
        }
        continue;
      }
      for (const w of waits) w.lastStatus = status;
      if (status !== 'completed') continue;
      const delivered = (record: JobRecord) => {
        if (!isDone(record)) complete = false;
        for (const w of waits) {
          if (isDone(record)) w.resolve(record);
          else w.lastStatus = record.status;
        }
      };
      work.push(finalRecord(jobId).then(delivered, (err) => waits.forEach((w) => this.fail(w, err))));
    }
    await Promise.all(work);
    for (const waits of entry.jobs.values()) for (const w of waits) this.checkDeadline(w);

    // Computed once for every watch of the batch.
    const completed = fullWalk && entry.watches.size > 0 ? [...statuses].filter(([, s]) => s === 'completed').map(([id]) => id) : [];
    for (const watch of entry.watches) {
      if (watch.settled) continue;
      if (!fullWalk) continue;
      const toSend = completed.filter((id) => !watch.opts.sent.has(id));
      try {
        await Promise.all(
          toSend.map(async (id) => {
            // A failed GET is tried again at the next sweep.
            const record = await finalRecord(id).catch(() => undefined);
            if (!record || !isDone(record)) complete = false;
            else if (!watch.settled && !watch.opts.sent.has(id)) await watch.opts.onJob(record);
          }),
        );
      } catch (err) {
        this.fail(watch, err);
        continue;
      }
      if (watch.settled) continue;
      const progress: BatchProgress = { batch_id: batchId, total, completed: completed.length };
      // The last progress is what the watch resolves with, not a progress report as well.
      if (total > 0 && progress.completed === total && completed.every((id) => watch.opts.sent.has(id))) {
        watch.resolve(progress);
        continue;
      }
      if (!watch.last || watch.last.total !== total || watch.last.completed !== progress.completed) {
        watch.last = progress;
        try {
          watch.opts.onProgress(progress);
        } catch (err) {
          this.fail(watch, err);
          continue;
        }
      }
      this.checkDeadline(watch);
    }
    return complete && (fullWalk || (entry.watches.size === 0 && unseen.size === 0));
  }

  /**
   * The listing failed after the client's retries. A passing failure (network, server) leaves
   * every wait for the next sweep. A refused batch ends its watches with the error; for waiting
   * jobs whose batch came from the message it is not final: they learn their real batch with a GET.
   */
  private listingFailed(entry: BatchEntry, err: unknown): void {
    if (isPlaymentError(err) && err.code === 'ABORTED') return;
    const refused = !isPlaymentError(err) || !err.retryable;
    for (const watch of entry.watches) {
      if (refused) this.fail(watch, err);
      else this.checkDeadline(watch);
    }
    if (refused) entry.watches.clear();
    for (const [jobId, waits] of entry.jobs) {
      for (const w of waits) {
        if (refused) this.relearnOrFail(w, undefined, err);
        else this.checkDeadline(w);
      }
      if (refused) entry.jobs.delete(jobId);
    }
  }

  private relearnOrFail(wait: JobWait, batchId: string | undefined, err?: unknown): void {
    if (wait.settled) return;
    if (wait.batchHinted) {
      wait.batchHinted = false;
      return this.learn(wait);
    }
    this.fail(wait, err ?? new PlaymentError({ code: 'BAD_RESPONSE', message: `job ${wait.jobId} is not listed in its batch ${batchId}` }));
  }

  /** Jobs without a batch: one GET each per sweep. */
  private async sweepLone(): Promise<void> {
    await Promise.all(
      [...this.lone].map(async ([jobId, waits]) => {
        for (const w of waits) if (w.settled) waits.delete(w);
        if (waits.size === 0) return void this.lone.delete(jobId);
        try {
          const record = await this.client.getJob(jobId, this.call);
          if (isDone(record)) {
            this.lone.delete(jobId);
            return waits.forEach((w) => w.resolve(record));
          }
          for (const w of waits) {
            w.lastStatus = record.status;
            this.checkDeadline(w);
          }
        } catch (err) {
          if (isPlaymentError(err) && err.code === 'ABORTED') return;
          this.lone.delete(jobId);
          waits.forEach((w) => this.fail(w, err));
        }
      }),
    );
  }
}

const pollers = new WeakMap<PollerClient, ResultPoller>();

/** The account's poller: one per client (one client per config node). */
export function resultPollerOf(client: PollerClient): ResultPoller {
  let poller = pollers.get(client);
  if (!poller) pollers.set(client, (poller = new ResultPoller(client)));
  return poller;
}

/** Ends the account's waits when its config node closes. */
export function closeResultPoller(client: PollerClient, err: PlaymentError): void {
  pollers.get(client)?.close(err);
  pollers.delete(client);
}

/** A sweep that throws is a bug: every wait ends with it rather than hanging. */
function asInternal(err: unknown): PlaymentError {
  return isPlaymentError(err) ? err : new PlaymentError({ code: 'INTERNAL', message: `result poller: ${String(err)}` });
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

/** Drops ended waits from a batch entry. */
function prune(entry: BatchEntry): void {
  for (const [jobId, waits] of entry.jobs) {
    for (const w of waits) if (w.settled) waits.delete(w);
    if (waits.size === 0) entry.jobs.delete(jobId);
  }
  for (const w of entry.watches) if (w.settled) entry.watches.delete(w);
}

/** A duration as people read it, without rounding a configured limit away (2.5 s, not 3 s). */
export function duration(ms: number): string {
  // The unit is chosen after rounding: 3,599,999 ms is "1 h", not "60 min".
  const rounded = (n: number) => Number(n.toFixed(3));
  if (rounded(ms / 1000) < 60) return `${rounded(ms / 1000)} s`;
  if (rounded(ms / 60_000) < 60) return `${rounded(ms / 60_000)} min`;
  return `${rounded(ms / 3_600_000)} h`;
}
