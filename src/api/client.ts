/**
 * The Playment client every node uses: one per config node (one dispatcher, one limiter).
 * Each call goes: limiter → attempt → retry policy, and create calls can recover a lost answer.
 */
import type { Dispatcher } from 'undici';
import type { ConnectionOptions } from 'node:tls';
import { PlaymentError, SERVER_SIDE_CODES, isPlaymentError } from './errors';
import { PROFILES, jobCreateRequest, type ApiVersion, type RouteName } from './profiles';
import { RequestLimiter, type Slot, type SlotKind } from './limiter';
import { DEFAULT_RETRY_POLICY, backoffDelay, retryAfterMs, sleep, type RetryPolicy } from './retry';
import { sendAttempt, type AttemptRequest } from './transport';
import { parseData } from './answers';
import { fetchAttachment, parseResultFile } from './attachments';
import { DownloadGate } from './download-gate';
import { linkSignals } from './signal-links';
import { ReferenceMap } from './reference-map';
import { createDispatcher } from './dispatcher';
import { timerDelay } from './timer-delay';
import { describeLimiterChange, guardedLogger, loggedPath, type ClientLogger } from './log';
import {
  batchJobsPageSchema,
  createBatchDataSchema,
  createJobDataSchema,
  jobRecordSchema,
  projectDetailsSchema,
  type BatchJobsPage,
  type CreateBatchData,
  type CreateJobData,
  type JobRecord,
  type ProjectDetails,
} from './schemas';
import type { VideoJobBody } from '../jobs/job-body';

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
  /** Injected in tests; otherwise the client makes (and later closes) its own. */
  dispatcher?: Dispatcher;
  retryPolicy?: Partial<RetryPolicy>;
  /** Attempts (trace), retries, throttling, recoveries and close (debug); silent without. */
  logger?: ClientLogger;
}

/** How a caller (a node) can end a call early. */
export interface CallOptions {
  /** Stop waiting: a call still queued or backing off ends with ABORTED at once. */
  cancel?: AbortSignal;
  /** Stop an exchange in progress as well. */
  abort?: AbortSignal;
  /** Called when the first attempt leaves the queue. */
  onStart?: () => void;
  /**
   * Follow-up work of a call already queued (a lookup after a duplicate answer): a full queue
   * does not refuse it, as it does not refuse a retry.
   */
  admitted?: boolean;
  /** 'poll': the result poller's calls, which wait in the limiter's unbounded poll line. */
  kind?: SlotKind;
}

/**
 * What a create does when Playment answers FS_0001 (the reference id names a job already):
 * 'send' looks the job up and returns it with `existing: true`; 'error' throws the FS_0001.
 * A lost answer of the same call is recovered either way (`recovered: true`).
 */
export type IfJobExists = 'send' | 'error';

export interface CreateJobResult extends CreateJobData {
  /** An earlier attempt of this call created the job but its answer was lost or garbled. */
  recovered?: boolean;
  /** Playment held a job with this reference id before this call (IfJobExists 'send'). */
  existing?: boolean;
}

export interface CreateBatchResult extends CreateBatchData {
  /** The batch existed already and was found by name. */
  reused?: boolean;
  recovered?: boolean;
}

interface Outcome<T> {
  data: T;
}

/**
 * One attempt of a call: ends early when one of `signals` aborts (the client's abort on close,
 * the caller's abort) or after `timeoutMs`.
 */
type Attempt = (signals: ReadonlyArray<AbortSignal | undefined>, timeoutMs: number) => Promise<unknown>;

/**
 * A create request whose answer was lost: it may have been stored. BAD_RESPONSE is a 2xx answer
 * that cannot be read (a proxy cut it short): the job was probably stored.
 */
const UNKNOWN_OUTCOME_CODES = new Set(['TIMEOUT', 'NETWORK', 'HTTP_ERROR', 'BAD_RESPONSE', ...SERVER_SIDE_CODES]);
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
  private readonly timeoutMs: number;
  private readonly deadlineMs: number;
  private readonly retry: RetryPolicy;
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
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.deadlineMs = opts.deadlineMs ?? 5 * 60_000;
    this.retry = { ...DEFAULT_RETRY_POLICY, maxRetries: opts.maxRetries ?? 4, ...opts.retryPolicy };
    const maxConcurrent = opts.maxConcurrent ?? 4;
    this.limiter = new RequestLimiter({
      ratePerSecond: opts.rateLimit ?? 5,
      maxConcurrent,
      // The config node passes its setting; this is its default (limits.ts).
      maxQueue: opts.maxQueue ?? 10_000,
      maxPauseMs: this.retry.maxDelayMs,
      onChange: (change) => this.log.debug(describeLimiterChange(change)),
    });
    this.ownsDispatcher = !opts.dispatcher;
    this.dispatcher =
      opts.dispatcher ??
      createDispatcher({ connectTimeoutMs: opts.connectTimeoutMs ?? 10_000, tls: opts.tls, maxConnections: maxConcurrent });
  }

  // ---- endpoints -------------------------------------------------------------------------

  /**
   * Creates a job. A duplicate answer (FS_0001) after an attempt whose answer was lost, and a
   * garbled 2xx answer after the last attempt, are looked up by reference id (`recovered`);
   * other duplicates too with `ifExists` 'send' (`existing`).
   */
  async createJob(body: VideoJobBody, call: CallOptions = {}, ifExists: IfJobExists = 'error'): Promise<CreateJobResult> {
    let data: unknown;
    try {
      ({ data } = await this.execute('job.create', jobCreateRequest(this.profile, this.projectId, body), call, false));
    } catch (err) {
      if (isPlaymentError(err) && standsForAJob(err, ifExists)) return this.resolveExisting(body, call, err);
      if (isPlaymentError(err)) {
        err.referenceId = body.reference_id;
        if (err.code === 'ABORTED') {
          err.message += err.mayExist
            ? `; the job may already exist at Playment: resending with the same reference id (${body.reference_id}) is safe`
            : '; nothing was sent';
        }
      }
      throw err;
    }
    const created = createJobDataSchema.safeParse(data);
    if (created.success) return created.data;
    // A success envelope whose data cannot be read: the job was stored, under our reference id.
    const unread = new PlaymentError({ code: 'BAD_RESPONSE', statusCode: 200, message: 'the API answered the job creation with data that cannot be read' });
    unread.mayExist = true;
    return this.resolveExisting(body, call, unread);
  }

  /**
   * Creates a batch. With `reuseExisting`, a name that exists already resolves to that batch,
   * and concurrent calls for the same new name share one request (the name is created once).
   */
  createBatch(
    batch: { name: string; description: string },
    call: CallOptions = {},
    reuseExisting = false,
  ): Promise<CreateBatchResult> {
    if (!reuseExisting) return this.sendCreateBatch(batch, call, false);
    const running = this.batchCreations.get(batch.name);
    if (running) return running.then((r) => ({ batch_id: r.batch_id, reused: true }));
    const created = this.sendCreateBatch(batch, call, true);
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
      const { data } = await this.execute('batch.create', { method: 'POST', path, body }, call, false);
      return parseData(createBatchDataSchema, data, 'create batch');
    } catch (err) {
      if (isPlaymentError(err) && err.code === 'BATCH_CREATION' && (err.mayExist || reuseExisting)) {
        const found = await this.findBatchByName(batch.name, call);
        this.log.debug(
          `batch.create: batch "${batch.name}" ${err.mayExist ? 'may have been created by an attempt whose answer was lost' : 'exists'}: ` +
            (found ? `found as ${found} by name` : 'not found by name'),
        );
        if (found) return { batch_id: found, ...(err.mayExist ? { recovered: true } : { reused: true }) };
        if (err.mayExist) throw unresolved(`batch "${batch.name}"`, err);
      }
      throw err;
    }
  }

  async getJob(jobId: string, call: CallOptions = {}): Promise<JobRecord> {
    const { data } = await this.execute('job.get', { method: 'GET', path: this.profile.getJob(this.projectId, jobId) }, call, true);
    return parseData(jobRecordSchema, data, 'job');
  }

  async batchJobs(batchId: string, pageToken: string | undefined, call: CallOptions = {}): Promise<BatchJobsPage> {
    const path = this.profile.batchJobs(this.projectId, batchId, pageToken);
    const { data } = await this.execute('batch.jobs', { method: 'GET', path }, call, true);
    return parseData(batchJobsPageSchema, data, 'batch jobs');
  }

  async projectDetails(call: CallOptions = {}): Promise<ProjectDetails> {
    const path = this.profile.projectDetails(this.projectId);
    const { data } = await this.execute('project.details', { method: 'GET', path }, call, true);
    return parseData(projectDetailsSchema, data, 'project details');
  }

  /**
   * Downloads a result file through the attachment API: the API answers with a redirect to a
   * signed URL, which is fetched without the API key (it is another host). At most
   * MAX_CONCURRENT_DOWNLOADS run at once; a file above `cap.maxBytes` ends with BAD_RESPONSE.
   */
  async downloadAttachment(
    resultUrl: string,
    call: CallOptions,
    cap: { maxBytes: number; hint?: string },
  ): Promise<unknown> {
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
      const { data } = await this.track('attachment', `GET ${loggedPath(path)}`, call, true, (signals, timeoutMs) =>
        fetchAttachment(path, {
          dispatcher: this.dispatcher,
          baseUrl: this.baseUrl,
          apiKey: this.apiKey,
          signals,
          timeoutMs,
          maxBytes: cap.maxBytes,
          capHint: cap.hint,
        }),
      );
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
    this.log.debug(`closing: queued calls end with ABORTED; ${running} call(s) in flight get ${graceMs} ms to finish`);
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

  // ---- the request loop ------------------------------------------------------------------

  private execute(route: RouteName, req: AttemptRequest, call: CallOptions, idempotent: boolean): Promise<Outcome<unknown>> {
    // Serialised once, when the first attempt leaves the queue: every retry sends the same text
    // (a large job body is megabytes), and a queued request does not hold it (about 110 bytes a frame).
    let prepared: AttemptRequest | undefined;
    return this.track(route, `${req.method} ${loggedPath(req.path)}`, call, idempotent, (signals, timeoutMs) => {
      prepared ??= req.body === undefined ? req : { ...req, json: JSON.stringify(req.body) };
      return sendAttempt(prepared, { dispatcher: this.dispatcher, baseUrl: this.baseUrl, apiKey: this.apiKey, signals, timeoutMs });
    });
  }

  /** Runs attempts through the limiter and retry policy, and remembers it until it ends (for close). */
  private track(
    route: RouteName,
    target: string,
    call: CallOptions,
    idempotent: boolean,
    attempt: Attempt,
  ): Promise<Outcome<unknown>> {
    const run = this.runWithRetries(route, target, call, idempotent, attempt);
    this.inFlight.add(run);
    const forget = () => this.inFlight.delete(run);
    run.then(forget, forget);
    return run;
  }

  private async runWithRetries(
    route: RouteName,
    target: string,
    call: CallOptions,
    idempotent: boolean,
    attempt: Attempt,
  ): Promise<Outcome<unknown>> {
    const cancelLink = linkSignals([this.closing.signal, call.cancel]);
    try {
      // Each attempt follows the abort signals itself (signal-links.ts): no per-call link needed.
      return await this.attemptLoop(`${route} ${target}`, route, call, idempotent, attempt, cancelLink.signal, [this.aborting.signal, call.abort]);
    } finally {
      cancelLink.unlink();
    }
  }

  private async attemptLoop(
    /** Route, method and path (without query) for log lines. */
    logName: string,
    route: RouteName,
    call: CallOptions,
    idempotent: boolean,
    attempt: Attempt,
    cancel: AbortSignal,
    abort: ReadonlyArray<AbortSignal | undefined>,
  ): Promise<Outcome<unknown>> {
    let deadline = Infinity;
    let sent = false;
    let outcomeUnknown = false;
    for (let retry = 0; ; retry++) {
      let slot: Slot;
      try {
        slot = await this.limiter.acquire(cancel, { retry: retry > 0 || call.admitted === true, kind: call.kind });
      } catch (err) {
        throw withCreateContext(asAborted(err, route), sent && !idempotent, outcomeUnknown);
      }
      if (retry === 0) {
        deadline = Date.now() + this.deadlineMs;
        call.onStart?.();
      }
      sent = true;
      const startedAt = Date.now();
      try {
        const data = await attempt(abort, Math.min(this.timeoutMs, Math.max(1, deadline - Date.now())));
        slot.release('ok');
        this.log.trace(`${logName}: attempt ${retry + 1} answered ok (2xx) in ${Date.now() - startedAt} ms`);
        return { data };
      } catch (raw) {
        const err = asAborted(raw, route);
        const retryAfter = retryAfterMs(err.retryAfter);
        this.log.trace(`${logName}: attempt ${retry + 1} ended with ${answerOf(err)} in ${Date.now() - startedAt} ms`);
        slot.release(err.statusCode === 429 ? 'throttled' : 'failed', retryAfter);
        if (err.code === 'ABORTED') throw withCreateContext(err, !idempotent, true);
        if (!idempotent && UNKNOWN_OUTCOME_CODES.has(err.code) && err.statusCode !== 429) outcomeUnknown = true;
        // A garbled answer to a create is resent: a duplicate answer then tells that it was stored.
        const retryable = err.retryable || (!idempotent && err.code === 'BAD_RESPONSE');
        if (!retryable) throw withCreateContext(err, false, outcomeUnknown);
        const giveUp = (why: string, thrown: PlaymentError) => {
          this.log.debug(`${logName}: not retried after ${answerOf(err)} (attempt ${retry + 1}): ${why}`);
          return withCreateContext(thrown, false, outcomeUnknown);
        };
        if (retry >= this.retry.maxRetries) throw giveUp(`all ${this.retry.maxRetries} retries used`, err);
        const left = deadline - Date.now();
        if (retryAfter !== undefined && retryAfter >= left) {
          throw giveUp(`Retry-After ${retryAfter} ms is beyond the deadline`, retryAfterBeyondDeadline(err, retryAfter, left, this.deadlineMs));
        }
        // Retry-After counts up to the backoff ceiling, like the limiter's pause: no answer holds a call longer.
        const wait = Math.max(Math.min(retryAfter ?? 0, this.retry.maxDelayMs), backoffDelay(retry, this.retry));
        if (wait >= left) throw giveUp(`the ${wait} ms wait is beyond the deadline`, err);
        this.log.debug(
          `${logName}: retry ${retry + 1} of ${this.retry.maxRetries} in ${wait} ms after ${answerOf(err)}` +
            (retryAfter === undefined ? '' : `, Retry-After ${retryAfter} ms`),
        );
        try {
          await sleep(wait, cancel);
        } catch (stop) {
          throw withCreateContext(asAborted(stop, route), !idempotent, outcomeUnknown);
        }
      }
    }
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

  /**
   * The job a duplicate or garbled answer stands for, found by reference id: `recovered` when
   * this call's own attempt may have stored it, `existing` when Playment held it before.
   */
  private async resolveExisting(body: VideoJobBody, call: CallOptions, err: PlaymentError): Promise<CreateJobResult> {
    const ownAttempt = err.mayExist === true;
    const jobId = await this.findJobByReference(body.reference_id, body.batch_id, call);
    this.log.debug(
      `job.create: reference id ${body.reference_id} ` +
        (ownAttempt ? `may have been stored by an attempt whose answer was lost (${err.code})` : `names a job already (${err.code})`) +
        (jobId ? `: found as job ${jobId}` : ': not found in the listing'),
    );
    if (!jobId) throw jobNotFound(body, err);
    return {
      job_id: jobId,
      reference_id: body.reference_id,
      tag: body.tag,
      work_flow_id: body.work_flow_id,
      ...(ownAttempt ? { recovered: true } : { existing: true }),
    };
  }
}

function unresolved(what: string, dup: PlaymentError): PlaymentError {
  return new PlaymentError({
    code: 'DUPLICATE_UNRESOLVED',
    statusCode: dup.statusCode,
    apiCode: dup.code,
    referenceId: dup.referenceId,
    message: `an earlier attempt whose answer was lost seems to have created ${what}, but it could not be found`,
  });
}

/**
 * The answer names a job to look up: a duplicate after an attempt whose answer was lost, any
 * duplicate with 'send', or a 2xx that could not be read after the last attempt.
 */
function standsForAJob(err: PlaymentError, ifExists: IfJobExists): boolean {
  if (err.code === 'FS_0001') return err.mayExist === true || ifExists === 'send';
  return err.code === 'BAD_RESPONSE' && err.mayExist === true;
}

/** The job a duplicate or garbled answer stands for is not in the batch's listing. */
function jobNotFound(body: VideoJobBody, err: PlaymentError): PlaymentError {
  const where = body.batch_id ? `batch ${body.batch_id}` : "the project's default batch";
  const ref = `reference id ${body.reference_id}`;
  if (err.code === 'BAD_RESPONSE') {
    err.referenceId = body.reference_id;
    err.message += `; no job with ${ref} is listed in ${where}: resending the message is safe (Playment refuses a second job with the same reference id)`;
    return err;
  }
  return new PlaymentError({
    code: 'DUPLICATE_UNRESOLVED',
    statusCode: err.statusCode,
    apiCode: err.code,
    referenceId: body.reference_id,
    message: err.mayExist
      ? `an earlier attempt whose answer was lost seems to have created ${ref}, but it could not be found in ${where}`
      : `Playment holds a job with ${ref} already (FS_0001), but not in ${where}, so its job id could not be found`,
  });
}

/** The API asked for a pause the call's deadline cannot hold: say so instead of the bare 429 / 503. */
function retryAfterBeyondDeadline(err: PlaymentError, retryAfter: number, leftMs: number, deadlineMs: number): PlaymentError {
  return new PlaymentError({
    code: 'RATE_LIMITED',
    statusCode: err.statusCode,
    apiCode: err.code,
    retryAfter: err.retryAfter,
    referenceId: err.referenceId,
    message:
      `the API answered ${err.statusCode} and asked to wait ${seconds(retryAfter)} s before retrying (Retry-After), ` +
      `more than the ${seconds(leftMs)} s left of this call's ${seconds(deadlineMs)} s deadline; nothing more was sent`,
    cause: err,
  });
}

/** How an attempt ended, for log lines: status and code, never the message (an answer could echo anything). */
function answerOf(err: PlaymentError): string {
  return err.statusCode === undefined ? err.code : `${err.statusCode} ${err.code}`;
}

function seconds(ms: number): string {
  return String(Math.max(0, Math.ceil(ms / 1000)));
}

/** Errors that end a call early; ABORTED reasons are shared by many calls, so each gets a copy. */
function asAborted(err: unknown, route: RouteName): PlaymentError {
  if (isPlaymentError(err) && err.code !== 'ABORTED') return err;
  const message = isPlaymentError(err) ? err.message : 'the node was closed';
  return new PlaymentError({ code: 'ABORTED', message: `${route} aborted: ${message}`, cause: err });
}

/**
 * Marks what a failed create call means for the caller: `mayExist` when an attempt may have
 * been stored (so a duplicate answer later is ours, and a resend with the same reference id is
 * the safe next step).
 */
function withCreateContext(err: PlaymentError, sentWithoutAnswer: boolean, outcomeUnknown: boolean): PlaymentError {
  if (sentWithoutAnswer || outcomeUnknown) err.mayExist = true;
  return err;
}
