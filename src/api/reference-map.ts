/**
 * Job ids by reference id. Playment has no lookup by reference id, only the batch listing (100
 * jobs a page), so the listing of a batch is read once and every job in it remembered: a re-fed
 * file of N sequences then costs about N/100 listing pages in all, not one listing per duplicate.
 * Jobs are remembered only from listings (a duplicate was met), so a flow that never re-sends
 * anything keeps nothing here.
 *
 * Per batch, one listing read runs at a time and every lookup waiting for it shares it. A lookup
 * is answered as soon as a page holds its reference id; it is answered "not found" only by a
 * read that started after the lookup (a job stored after a page was read is on no earlier read),
 * so lookups that miss while a read runs share one more read. Memory is bounded: at most
 * `maxEntries` reference ids in all (about 150 bytes each), the least recently used batches'
 * oldest entries dropped first.
 */
import type { BatchJobsPage } from './schemas';

/** Reads one page of a batch's listing (undefined token = the first page). */
export type ListingPageReader = (batchId: string, pageToken: string | undefined) => Promise<BatchJobsPage>;

export interface ReferenceMapOptions {
  /** Reference ids remembered in all batches together. */
  maxEntries: number;
  /** A listing read stops after this many pages. */
  maxPages: number;
  /** Batches tracked at once; the least recently used one not being read is forgotten first. */
  maxBatches: number;
}

/** 100,000 entries ≈ 15 MB: a re-feed of that many sequences of one batch costs one listing read. */
export const DEFAULT_REFERENCE_MAP: ReferenceMapOptions = { maxEntries: 100_000, maxPages: 1000, maxBatches: 1000 };

interface Lookup {
  referenceId: string;
  /** Reads started before this lookup; only a later read can answer "not found". */
  readsBefore: number;
  resolve(jobId: string | undefined): void;
  reject(err: unknown): void;
  cancel?: AbortSignal;
  onCancel?: () => void;
}

export class ReferenceMap {
  /** Batch id → its entries; least recently used first. */
  private readonly batches = new Map<string, BatchEntries>();
  private entries = 0;

  constructor(
    private readonly readPage: ListingPageReader,
    private readonly opts: ReferenceMapOptions = DEFAULT_REFERENCE_MAP,
    /** Debug lines: one per listing read. */
    private readonly log: (text: string) => void = () => undefined,
  ) {}

  /** How many reference ids are remembered (all batches). */
  get size(): number {
    return this.entries;
  }

  /**
   * The job id of `referenceId` in `batchId`, or undefined when a listing read that started after
   * this call does not hold it. `cancel` ends this wait (with its reason), not the shared read.
   */
  find(batchId: string, referenceId: string, cancel?: AbortSignal): Promise<string | undefined> {
    const batch = this.batch(batchId);
    const known = batch.ids.get(referenceId);
    if (known !== undefined) return Promise.resolve(known);
    if (cancel?.aborted) return Promise.reject(cancel.reason);
    return new Promise((resolve, reject) => {
      const lookup: Lookup = { referenceId, readsBefore: batch.readsStarted, resolve, reject, cancel };
      if (cancel) {
        lookup.onCancel = () => {
          batch.drop(lookup);
          reject(cancel.reason);
        };
        cancel.addEventListener('abort', lookup.onCancel, { once: true });
      }
      batch.wait(lookup);
    });
  }

  private batch(batchId: string): BatchEntries {
    let batch = this.batches.get(batchId);
    if (batch) {
      this.batches.delete(batchId);
    } else {
      batch = new BatchEntries(batchId, this.readPage, this.opts.maxPages, (delta) => this.counted(delta), this.log);
    }
    this.batches.set(batchId, batch);
    if (this.batches.size > this.opts.maxBatches) this.forgetOneBatch(batch);
    return batch;
  }

  /**
   * Forgets the least recently used batch not being read, never `keep` (the one just asked for: it
   * is about to be read, and entries of a batch no longer tracked would stay counted for good).
   * When every other batch is busy, none is forgotten until one is free.
   */
  private forgetOneBatch(keep: BatchEntries): void {
    for (const [id, batch] of this.batches) {
      if (batch.busy || batch === keep) continue;
      this.batches.delete(id);
      this.entries -= batch.ids.size;
      return;
    }
  }

  private counted(delta: number): void {
    this.entries += delta;
    // Drop the oldest entries of the least recently used batches first; lookups waiting on a
    // read are answered from its pages, so a dropped entry costs at most a later read.
    for (const [id, batch] of this.batches) {
      if (this.entries <= this.opts.maxEntries) return;
      this.entries -= batch.dropOldest(this.entries - this.opts.maxEntries);
      if (batch.ids.size === 0 && !batch.busy) this.batches.delete(id);
    }
  }
}

class BatchEntries {
  readonly ids = new Map<string, string>();
  readsStarted = 0;
  private readonly waiting = new Map<string, Lookup[]>();
  private reading = false;

  constructor(
    private readonly batchId: string,
    private readonly readPage: ListingPageReader,
    private readonly maxPages: number,
    private readonly counted: (delta: number) => void,
    private readonly log: (text: string) => void,
  ) {}

  get busy(): boolean {
    return this.reading || this.waiting.size > 0;
  }

  wait(lookup: Lookup): void {
    const list = this.waiting.get(lookup.referenceId);
    if (list) list.push(lookup);
    else this.waiting.set(lookup.referenceId, [lookup]);
    this.startRead();
  }

  drop(lookup: Lookup): void {
    const list = this.waiting.get(lookup.referenceId);
    if (!list) return;
    const rest = list.filter((l) => l !== lookup);
    if (rest.length) this.waiting.set(lookup.referenceId, rest);
    else this.waiting.delete(lookup.referenceId);
  }

  record(referenceId: string, jobId: string): void {
    const had = this.ids.has(referenceId);
    // Re-inserted: the newest entries are dropped last.
    if (had) this.ids.delete(referenceId);
    this.ids.set(referenceId, jobId);
    const list = this.waiting.get(referenceId);
    if (list) {
      this.waiting.delete(referenceId);
      for (const lookup of list) settle(lookup, jobId);
    }
    if (!had) this.counted(1);
  }

  /** Drops up to `count` of the oldest entries; returns how many it dropped. */
  dropOldest(count: number): number {
    let dropped = 0;
    for (const key of this.ids.keys()) {
      if (dropped >= count) break;
      this.ids.delete(key);
      dropped++;
    }
    return dropped;
  }

  private startRead(): void {
    if (this.reading || this.waiting.size === 0) return;
    this.reading = true;
    const number = ++this.readsStarted;
    const read = { pages: 0, jobs: 0, startedAt: Date.now() };
    const lookups = [...this.waiting.values()].reduce((n, list) => n + list.length, 0);
    const logRead = (outcome: string) =>
      this.log(
        `reference ids: listing of ${this.batchId ? `batch ${this.batchId}` : "the project's default batch"} for ${lookups} lookup(s) ` +
          `${outcome}: ${read.pages} page(s), ${read.jobs} job(s) in ${Date.now() - read.startedAt} ms`,
      );
    this.readAll(read).then(
      () => {
        logRead('read');
        this.finishRead(number, undefined);
      },
      (err: unknown) => {
        logRead(`failed (${(err as { code?: string } | undefined)?.code ?? 'error'})`);
        this.finishRead(number, err);
      },
    );
  }

  private async readAll(read: { pages: number; jobs: number }): Promise<void> {
    let token: string | undefined;
    for (let page = 0; page < this.maxPages; page++) {
      const listing = await this.readPage(this.batchId, token);
      read.pages++;
      read.jobs += listing.jobs.length;
      for (const job of listing.jobs) if (job.reference_id) this.record(job.reference_id, job.id);
      token = listing.next_page_token || undefined;
      // Read to the end even when nobody waits any more: the next duplicate is likely further on.
      if (!token) return;
    }
  }

  /**
   * Lookups made before read `number` started and still waiting are not in the batch: answered
   * undefined (or the read's error). Lookups made during the read get one more read.
   */
  private finishRead(number: number, err: unknown): void {
    this.reading = false;
    for (const [referenceId, list] of this.waiting) {
      const done = err === undefined ? list.filter((l) => l.readsBefore < number) : list;
      if (done.length === 0) continue;
      const rest = list.filter((l) => !done.includes(l));
      if (rest.length) this.waiting.set(referenceId, rest);
      else this.waiting.delete(referenceId);
      for (const lookup of done) {
        if (err === undefined) settle(lookup, undefined);
        else fail(lookup, err);
      }
    }
    this.startRead();
  }
}

function release(lookup: Lookup): void {
  if (lookup.onCancel) lookup.cancel?.removeEventListener('abort', lookup.onCancel);
}

function settle(lookup: Lookup, jobId: string | undefined): void {
  release(lookup);
  lookup.resolve(jobId);
}

function fail(lookup: Lookup, err: unknown): void {
  release(lookup);
  lookup.reject(err);
}
