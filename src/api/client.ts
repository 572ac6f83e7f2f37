/**
 * The Playment client every node uses: one per config node (one dispatcher, one limiter). It
 * holds the endpoints and the client's lifecycle; each call runs through request-loop.ts
 * (limiter, attempt, retry policy), and create calls recover lost answers through
 * duplicate-recovery.ts.
 */
import type { Dispatcher } from 'undici';
import type { ConnectionOptions } from 'node:tls';
import { PlaymentError, isPlaymentError } from './errors';
import { PROFILES, jobCreateRequest, type ApiVersion, type RouteName } from './profiles';
import { RequestLimiter } from './limiter';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry';
import { sendAttempt, type AttemptRequest } from './transport';
import { parseData } from './answers';
import { fetchAttachment, parseResultFile } from './attachments';
import { DownloadGate } from './download-gate';
import { linkSignals } from './signal-links';
import { ReferenceMap } from './reference-map';
import { createDispatcher, type ProxySettings } from './dispatcher';
import { timerDelay } from './timer-delay';
import { describeLimiterChange, guardedLogger, loggedPath, type ClientLogger } from './log';
import { RequestLoop, asAborted, type Attempt, type CallOptions, type CallSpec } from './request-loop';
import {
  jobCreationFailure,
  resolveExistingBatch,
  resolveExistingJob,
  standsForABatch,
  standsForAJob,
  type CreateBatchResult,
  type CreateJobResult,
  type IfJobExists,
} from './duplicate-recovery';
import {
  batchJobsPageSchema,
  createBatchDataSchema,
  createJobDataSchema,
  jobRecordSchema,
  projectDetailsSchema,
  type BatchJobsPage,
  type JobRecord,
  type ProjectDetails,
} from './schemas';
import type { VideoJobBody } from '../jobs/job-body';

export type { CallOptions } from './request-loop';
export type { CreateBatchResult, CreateJobResult, IfJobExists } from './duplicate-recovery';

export interface ClientOptions {
  baseUrl: string;
  apiVersion: ApiVersion;
  projectId: string;
  apiKey: string;
  timeoutMs?: number;
  connectTimeoutMs?: number;
  maxRetries?: number;
  /** Requests per second for the whole account; 0 = unlimited. */
  rateLimit?: number;
  maxConcurrent?: number;
  maxQueue?: number;
  /** Overall time allowed for one call, retries included. */
  deadlineMs?: number;
  tls?: ConnectionOptions;
  /** A core http proxy node's settings: wins over the proxy environment variables. */
  proxy?: ProxySettings;
  /** Injected in tests; otherwise the client makes (and later closes) its own. */
  dispatcher?: Dispatcher;
  retryPolicy?: Partial<RetryPolicy>;
  /** Attempts (trace), retries, throttling, recoveries and close (debug); silent without. */
  logger?: ClientLogger;
}

export interface CreateJobOptions {
  /** What an FS_0001 answer (the reference id names a job already) does; 'error' by default. */
  ifExists?: IfJobExists;
}

export interface CreateBatchOptions {
  /**
   * A name that exists already resolves to that batch, and concurrent calls for the same new
   * name share one request (the name is created once).
   */
  reuseExisting?: boolean;
}

/** How a call is run: reads may be sent twice, creates track their lost answers. */
interface ExecuteOptions {
  idempotent: boolean;
}

/** Result files downloaded (read and parsed) at once per account: bounds their memory. */
export const MAX_CONCURRENT_DOWNLOADS = 2;

export class PlaymentClient {
  readonly projectId: string;
  readonly limiter: RequestLimiter;
  /** Also the result poller's (result-poller.ts): the key is redacted from every line. */
  readonly log: ClientLogger;
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly profile;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly loop: RequestLoop;
  private readonly closing = new AbortController();
  private readonly aborting = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly batchCreations = new Map<string, Promise<CreateBatchResult>>();
  private readonly downloads = new DownloadGate(MAX_CONCURRENT_DOWNLOADS);
  /** Job ids by reference id per batch ('' = the project's default batch), read from listings. */
  private readonly references: ReferenceMap;
  /** The project's default batch id, looked up once. */
  private defaultBatch: Promise<string | undefined> | undefined;

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.projectId = opts.projectId;
    this.apiKey = opts.apiKey;
    this.log = guardedLogger(opts.logger, opts.apiKey);
    this.references = new ReferenceMap((batchKey, token) => this.readListingPage(batchKey, token), undefined, this.log.debug);
    this.profile = PROFILES[opts.apiVersion];
    const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, maxRetries: opts.maxRetries ?? 4, ...opts.retryPolicy };
    const maxConcurrent = opts.maxConcurrent ?? 4;
    this.limiter = new RequestLimiter({
      ratePerSecond: opts.rateLimit ?? 5,
      maxConcurrent,
      // The config node passes its setting; this is its default (limits.ts).
      maxQueue: opts.maxQueue ?? 10_000,
      maxPauseMs: retry.maxDelayMs,
      onChange: (change) => this.log.debug(describeLimiterChange(change)),
    });
    this.loop = new RequestLoop({
      limiter: this.limiter,
      retry,
      timeoutMs: opts.timeoutMs ?? 30_000,
      deadlineMs: opts.deadlineMs ?? 5 * 60_000,
      log: this.log,
      closing: this.closing.signal,
      aborting: this.aborting.signal,
    });
    this.ownsDispatcher = !opts.dispatcher;
    this.dispatcher =
      opts.dispatcher ??
      createDispatcher({
        connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
        tls: opts.tls,
        proxy: opts.proxy,
        maxConnections: maxConcurrent,
      });
  }

  // ---- endpoints -------------------------------------------------------------------------

  /**
   * Creates a job. A duplicate answer (FS_0001) after an attempt whose answer was lost, and a
   * garbled 2xx answer after the last attempt, are looked up by reference id (`recovered`);
   * other duplicates too with `ifExists` 'send' (`existing`).
   */
  async createJob(body: VideoJobBody, call: CallOptions = {}, options: CreateJobOptions = {}): Promise<CreateJobResult> {
    let data: unknown;
    try {
      data = await this.execute('job.create', jobCreateRequest(this.profile, this.projectId, body), call, { idempotent: false });
    } catch (err) {
      if (!isPlaymentError(err)) throw err;
      if (standsForAJob(err, options.ifExists ?? 'error')) return this.resolveExistingJob(body, call, err);
      throw jobCreationFailure(err, body.reference_id);
    }
    const created = createJobDataSchema.safeParse(data);
    if (created.success) return created.data;
    // A success envelope whose data cannot be read: the job was stored, under our reference id.
    const unread = new PlaymentError({
      code: 'BAD_RESPONSE',
      statusCode: 200,
      message: 'the API answered the job creation with data that cannot be read',
      mayExist: true,
    });
    return this.resolveExistingJob(body, call, unread);
  }

  /** Creates a batch; see CreateBatchOptions for reusing one that exists already. */
  createBatch(
    batch: { name: string; description: string },
    call: CallOptions = {},
    options: CreateBatchOptions = {},
  ): Promise<CreateBatchResult> {
    const reuseExisting = options.reuseExisting === true;
    if (!reuseExisting) return this.sendCreateBatch(batch, call, reuseExisting);
    const running = this.batchCreations.get(batch.name);
    if (running) return running.then((r) => ({ batch_id: r.batch_id, reused: true }));
    const created = this.sendCreateBatch(batch, call, reuseExisting);
    this.batchCreations.set(batch.name, created);
    const forget = () => this.batchCreations.delete(batch.name);
    created.then(forget, forget);
    return created;
  }

  private async sendCreateBatch(
    batch: { name: string; description: string },
    call: CallOptions,
    reuseExisting: boolean,
  ): Promise<CreateBatchResult> {
    const path = this.profile.createBatch(this.projectId);
    const body = { name: batch.name, label: batch.name, description: batch.description, project_id: this.projectId };
    try {
      const data = await this.execute('batch.create', { method: 'POST', path, body }, call, { idempotent: false });
      return parseData(createBatchDataSchema, data, 'create batch');
    } catch (err) {
      if (isPlaymentError(err) && standsForABatch(err, reuseExisting)) {
        return resolveExistingBatch(batch.name, err, (name) => this.findBatchByName(name, call), this.log);
      }
      throw err;
    }
  }

  async getJob(jobId: string, call: CallOptions = {}): Promise<JobRecord> {
    const data = await this.execute('job.get', { method: 'GET', path: this.profile.getJob(this.projectId, jobId) }, call, {
      idempotent: true,
    });
    return parseData(jobRecordSchema, data, 'job');
  }

  async batchJobs(batchId: string, pageToken: string | undefined, call: CallOptions = {}): Promise<BatchJobsPage> {
    const path = this.profile.batchJobs(this.projectId, batchId, pageToken);
    const data = await this.execute('batch.jobs', { method: 'GET', path }, call, { idempotent: true });
    return parseData(batchJobsPageSchema, data, 'batch jobs');
  }

  async projectDetails(call: CallOptions = {}): Promise<ProjectDetails> {
    const path = this.profile.projectDetails(this.projectId);
    const data = await this.execute('project.details', { method: 'GET', path }, call, { idempotent: true });
    return parseData(projectDetailsSchema, data, 'project details');
  }

  /**
   * Downloads a result file through the attachment API: the API answers with a redirect to a
   * signed URL, which is fetched without the API key (it is another host). At most
   * MAX_CONCURRENT_DOWNLOADS run at once; a file above `cap.maxBytes` ends with BAD_RESPONSE.
   */
  async downloadAttachment(resultUrl: string, call: CallOptions, cap: { maxBytes: number; hint?: string }): Promise<unknown> {
    const path = `/v1/attachments?url=${encodeURIComponent(resultUrl)}`;
    let release: () => void;
    const cancel = linkSignals([this.closing.signal, call.cancel]);
    try {
      release = await this.downloads.acquire(cancel.signal);
    } catch (err) {
      throw asAborted(err, 'attachment');
    } finally {
      cancel.unlink();
    }
    try {
      const data = await this.track({
        route: 'attachment',
        target: `GET ${loggedPath(path)}`,
        call,
        idempotent: true,
        attempt: (signals, timeoutMs) =>
          fetchAttachment(path, {
            dispatcher: this.dispatcher,
            baseUrl: this.baseUrl,
            apiKey: this.apiKey,
            signals,
            timeoutMs,
            maxBytes: cap.maxBytes,
            capHint: cap.hint,
          }),
      });
      // Parsed outside the request slot (polls go on meanwhile), inside the download slot.
      return await parseResultFile(data as Buffer);
    } finally {
      release();
    }
  }

  /**
   * Finds a job id by reference id in a batch (blank = the project's default batch): from the jobs
   * this client listed before, else through one listing read shared by every lookup of the batch
   * (reference-map.ts). `call.cancel` ends this wait, not the shared read.
   */
  async findJobByReference(referenceId: string, batchId: string | undefined, call: CallOptions = {}): Promise<string | undefined> {
    const cancel = linkSignals([this.closing.signal, call.cancel]);
    try {
      return await this.references.find(batchId || '', referenceId, cancel.signal);
    } catch (err) {
      throw asAborted(err, 'batch.jobs');
    } finally {
      cancel.unlink();
    }
  }

  async findBatchByName(name: string, call: CallOptions = {}): Promise<string | undefined> {
    const details = await this.projectDetails(call);
    return details.batches.find((b) => b.name === name)?.id;
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /**
   * Takes no new calls; queued calls end with ABORTED at once; calls in flight get `graceMs`
   * to finish, then are aborted. Resolves when the dispatcher is closed.
   */
  async close(graceMs: number): Promise<void> {
    const aborted = new PlaymentError({ code: 'ABORTED', message: 'the Playment config node was closed' });
    this.closing.abort(aborted);
    this.limiter.close(aborted);
    const running = this.inFlight.size;
    this.log.debug(`closing: ${running} call(s) open; queued ones end with ABORTED, those in flight get ${graceMs} ms to finish`);
    if (running > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, timerDelay(graceMs))));
      await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
      clearTimeout(timer);
      if (this.inFlight.size > 0) this.log.debug(`closing: ${this.inFlight.size} call(s) still in flight after ${graceMs} ms aborted`);
      this.aborting.abort(aborted);
      await Promise.allSettled([...this.inFlight]);
    }
    if (this.ownsDispatcher) await this.dispatcher.destroy().catch(() => undefined);
    this.log.debug('closed');
  }

  // ---- calls -----------------------------------------------------------------------------

  private execute(route: RouteName, req: AttemptRequest, call: CallOptions, options: ExecuteOptions): Promise<unknown> {
    // Serialised once, when the first attempt leaves the queue: every retry sends the same text
    // (a large job body is megabytes), and a queued request does not hold it (about 110 bytes a frame).
    let prepared: AttemptRequest | undefined;
    const attempt: Attempt = (signals, timeoutMs) => {
      prepared ??= req.body === undefined ? req : { ...req, json: JSON.stringify(req.body) };
      return sendAttempt(prepared, { dispatcher: this.dispatcher, baseUrl: this.baseUrl, apiKey: this.apiKey, signals, timeoutMs });
    };
    return this.track({ route, target: `${req.method} ${loggedPath(req.path)}`, call, idempotent: options.idempotent, attempt });
  }

  /** Runs a call through the request loop, and remembers it until it ends (for close). */
  private track(spec: CallSpec): Promise<unknown> {
    const run = this.loop.run(spec);
    this.inFlight.add(run);
    const forget = () => this.inFlight.delete(run);
    run.then(forget, forget);
    return run;
  }

  /** The project's default batch, looked up once per client (a failed look-up is tried again). */
  private defaultBatchId(call: CallOptions): Promise<string | undefined> {
    if (!this.defaultBatch) {
      const found = this.projectDetails(call).then((details) => details.batches.find((b) => b.is_default)?.id);
      this.defaultBatch = found;
      const forget = () => {
        if (this.defaultBatch === found) this.defaultBatch = undefined;
      };
      found.then((id) => id ?? forget(), forget);
    }
    return this.defaultBatch;
  }

  /** One page of a batch's listing for the reference map: follow-up work, never refused as QUEUE_FULL. */
  private async readListingPage(batchKey: string, token: string | undefined): Promise<BatchJobsPage> {
    const call: CallOptions = { admitted: true };
    const batchId = batchKey || (await this.defaultBatchId(call));
    if (!batchId) return { id: '', jobs: [], next_page_token: '' };
    return this.batchJobs(batchId, token, call);
  }

  /** The job a duplicate or garbled answer stands for (duplicate-recovery.ts). */
  private resolveExistingJob(body: VideoJobBody, call: CallOptions, err: PlaymentError): Promise<CreateJobResult> {
    return resolveExistingJob(body, err, (referenceId, batchId) => this.findJobByReference(referenceId, batchId, call), this.log);
  }
}
