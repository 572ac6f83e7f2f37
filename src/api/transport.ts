/**
 * One HTTP attempt against the API: undici request, size-capped body, JSON and envelope parsing.
 * Every failure becomes a PlaymentError whose `retryable` tells the retry policy what to do.
 *
 * This is the per-request hot path: an attempt is dispatched with a small handler that collects
 * the answer itself (no response stream), follows the abort signals without adding listeners to
 * them (see signal-links.ts) and times out with one timer.
 */
import { errors as undiciErrors, util as undiciUtil, type Dispatcher } from 'undici';
import { z } from 'zod';
import { PlaymentError, SERVER_SIDE_CODES, authFailure } from './errors';
import { errorEnvelopeSchema, successEnvelopeSchema } from './schemas';
import { follow, type Follower } from './signal-links';
import { timerDelay } from './timer-delay';

/** Answers larger than this are refused: no API answer we use comes near it. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface AttemptRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** `body` already serialised: a retry sends the same text without serialising it again. */
  json?: string;
}

export interface AttemptOptions {
  dispatcher: Dispatcher;
  baseUrl: string;
  apiKey: string;
  /**
   * Abort the attempt: node closing, client closing. Long-lived signals are fine here: the
   * attempt follows them without adding a listener per request.
   */
  signals: ReadonlyArray<AbortSignal | undefined>;
  /** Time allowed for this attempt, from sending to the last byte of the answer. */
  timeoutMs: number;
}

const RETRYABLE_STATUS = new Set([408, 429]);

/**
 * How an attempt ended early: the timer fired (`timedOut`), or a followed signal aborted it
 * (`aborted`, with that signal's `reason`).
 */
export interface AttemptState {
  timedOut: boolean;
  aborted: boolean;
  reason: unknown;
}

/**
 * The abort side of one attempt: follows the caller's signals, owns the attempt's timer, and
 * passes an abort on to the request that is running. One per attempt, dropped at its end.
 */
export class AttemptControl implements Follower, AttemptState {
  timedOut = false;
  aborted = false;
  reason: unknown = undefined;
  /** Set while a request runs: an abort stops it with the abort's reason. */
  running: { stop(reason: unknown): void } | undefined = undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly unlink: () => void;

  constructor(signals: ReadonlyArray<AbortSignal | undefined>, timeoutMs: number) {
    this.timer = setTimeout(fireTimeout, timerDelay(timeoutMs), this);
    // Like AbortSignal.timeout: a pending attempt timer alone does not keep the process up.
    this.timer.unref();
    this.unlink = follow(signals, this);
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason ?? new undiciErrors.RequestAbortedError();
    this.running?.stop(this.reason);
  }

  /** Ends the attempt: clears the timer and stops following the signals. */
  end(): void {
    this.running = undefined;
    clearTimeout(this.timer);
    this.unlink();
  }
}

function fireTimeout(control: AttemptControl): void {
  control.timedOut = true;
  control.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
}

export async function sendAttempt(req: AttemptRequest, opts: AttemptOptions): Promise<unknown> {
  const control = new AttemptControl(opts.signals, opts.timeoutMs);
  let answer: Answer;
  try {
    const hasBody = req.body !== undefined;
    answer = await exchange(
      opts.dispatcher,
      {
        ...originAndPath(opts.baseUrl + req.path),
        method: req.method,
        headers: hasBody
          ? { 'x-api-key': opts.apiKey, accept: 'application/json', 'content-type': 'application/json' }
          : { 'x-api-key': opts.apiKey, accept: 'application/json' },
        body: hasBody ? (req.json ?? JSON.stringify(req.body)) : undefined,
        // The key travels in a header: redirects are never followed (a bare dispatch follows
        // none, and no redirect interceptor is added).
      },
      control,
      MAX_RESPONSE_BYTES,
    );
  } catch (err) {
    throw transportError(err, control, opts.timeoutMs);
  } finally {
    control.end();
  }
  return parseAnswer(answer.status, answer.text, answer.retryAfter);
}

export interface Answer {
  status: number;
  text: string;
  retryAfter: string | undefined;
  /** The Location header, for redirects. */
  location: string | undefined;
}

/**
 * The origin and path undici's request() would derive from a URL (it parses it with the WHATWG
 * parser, then sends origin + pathname + search).
 */
export function originAndPath(url: string | URL): { origin: string; path: string } {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new undiciErrors.InvalidArgumentError('Invalid URL protocol: the URL must start with `http:` or `https:`.');
  }
  return { origin: parsed.origin, path: parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname };
}

/**
 * One request through the dispatcher, its answer collected in memory up to `limit` bytes.
 * Behaves as undici's request() + reading the body: informational answers are skipped, an abort
 * before the request is handed to a connection takes effect when it is, one after stops it.
 */
export function exchange(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, control: AttemptControl, limit: number): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    dispatcher.dispatch(options, new AnswerCollector(control, limit, resolve, reject));
  });
}

/**
 * What every answer collector shares: the hand-over of the abort with its attempt, and ending
 * exactly once (an answer, or an error). Subclasses read the headers and the body.
 */
export abstract class AttemptCollector<A> implements Dispatcher.DispatchHandler {
  protected abortRequest: ((err?: Error) => void) | undefined = undefined;
  protected status = 0;
  protected settled = false;

  constructor(
    protected readonly control: AttemptControl,
    protected readonly limit: number,
    private readonly resolve: (answer: A) => void,
    private readonly reject: (err: unknown) => void,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    if (this.control.aborted) {
      abort(this.control.reason as Error);
      return;
    }
    this.abortRequest = abort;
    this.control.running = this;
  }

  /** The attempt was aborted (caller or timeout) while this request runs. */
  stop(reason: unknown): void {
    if (!this.settled) this.abortRequest?.(reason as Error);
  }

  abstract onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean;
  abstract onData(chunk: Buffer): boolean;
  /** The answer, once the body is complete. */
  protected abstract answer(): A;
  /** Lets go of what was read: the request failed. */
  protected abstract drop(): void;

  onComplete(): void {
    if (this.settled) return;
    this.settled = true;
    this.control.running = undefined;
    this.resolve(this.answer());
  }

  onError(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.control.running = undefined;
    this.drop();
    this.reject(err);
  }
}

class AnswerCollector extends AttemptCollector<Answer> {
  private retryAfter: string | undefined = undefined;
  private location: string | undefined = undefined;
  private chunks: Buffer[] = [];
  private size = 0;

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true;
    this.status = statusCode;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = undiciUtil.headerNameToString(rawHeaders[i]);
      if (name === 'retry-after') this.retryAfter ??= headerText(rawHeaders[i + 1]);
      else if (name === 'location') this.location ??= headerText(rawHeaders[i + 1]);
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled) return true;
    this.size += chunk.length;
    if (this.size > this.limit) {
      this.chunks = [];
      this.abortRequest?.(
        new PlaymentError({
          code: 'BAD_RESPONSE',
          statusCode: this.status,
          message: `answer larger than ${this.limit} bytes (HTTP ${this.status})`,
        }),
      );
      return true;
    }
    this.chunks.push(chunk);
    return true;
  }

  protected answer(): Answer {
    const { chunks } = this;
    const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
    return { status: this.status, text, retryAfter: this.retryAfter, location: this.location };
  }

  protected drop(): void {
    this.chunks = [];
  }
}

/** A raw header value as text (the first one when it is repeated). */
export function headerText(value: Buffer | string | Array<Buffer | string>): string {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : first.toString('latin1');
}

export function transportError(err: unknown, state: AttemptState, timeoutMs: number): PlaymentError {
  if (err instanceof PlaymentError) return err;
  if (state.timedOut) {
    return new PlaymentError({
      code: 'TIMEOUT',
      message: `no answer from the API within ${timeoutMs} ms`,
      retryable: true,
      cause: err,
    });
  }
  if (state.aborted) {
    const reason = state.reason;
    if (reason instanceof PlaymentError) return reason;
    return new PlaymentError({ code: 'ABORTED', message: 'request aborted', cause: err });
  }
  const e = err as { code?: string; message?: string };
  const code = e.code === 'UND_ERR_CONNECT_TIMEOUT' ? 'TIMEOUT' : 'NETWORK';
  return new PlaymentError({
    code,
    message: `${code === 'TIMEOUT' ? 'connection timed out' : 'network error'}: ${e.code ?? e.message ?? 'unknown'}`,
    retryable: true,
    cause: err,
  });
}

/** Turns an HTTP answer into the envelope's `data`, or a PlaymentError. */
export function parseAnswer(status: number, text: string, retryAfter?: string): unknown {
  let json: unknown;
  let parsed = false;
  try {
    json = JSON.parse(text);
    parsed = true;
  } catch {
    // handled below, with the status in mind
  }
  // Fast path: a 2xx answer with the success envelope. It cannot match the error envelope
  // (`success` is true there, false in the other), so the general checks below would reach the
  // same result.
  if (parsed && status >= 200 && status < 300) {
    const ok = successEnvelopeSchema.safeParse(json);
    if (ok.success) return ok.data.data;
  }
  const serverFailure = status >= 500 || RETRYABLE_STATUS.has(status);
  const envelopeError = parsed ? errorEnvelopeSchema.safeParse(json) : undefined;

  const apiCode = envelopeError?.success ? envelopeError.data.error.code : undefined;
  const refused = authFailure(status, apiCode);
  if (refused) {
    const why = `HTTP ${status}${apiCode ? `, ${apiCode}` : ''}`;
    return fail({
      code: 'UNAUTHORIZED',
      statusCode: status,
      apiCode,
      message:
        refused === 'key'
          ? `the API key was refused (${why}): check the key in the config node`
          : `the API key has no access to this project (${why})`,
    });
  }
  if (envelopeError?.success) {
    const { code, message } = envelopeError.data.error;
    return fail({
      code,
      statusCode: status,
      message: `${code}: ${message || 'no message'} (HTTP ${status})`,
      // Playment documents every failure as HTTP 400, its server-side codes included; any other
      // 4xx is final whatever its body says.
      retryable: serverFailure || (status === 400 && SERVER_SIDE_CODES.has(code)),
      retryAfter,
    });
  }
  if (status < 200 || status >= 300) {
    return fail({
      code: 'HTTP_ERROR',
      statusCode: status,
      message: `the API answered HTTP ${status}${parsed ? '' : ' without a JSON body'}`,
      retryable: serverFailure,
      retryAfter,
    });
  }
  if (!parsed) {
    return fail({ code: 'BAD_RESPONSE', statusCode: status, message: `the API answered HTTP ${status} with a body that is not JSON` });
  }
  return fail({ code: 'BAD_RESPONSE', statusCode: status, message: `the API answered HTTP ${status} without the {success, data} envelope` });
}

function fail(init: ConstructorParameters<typeof PlaymentError>[0]): never {
  throw new PlaymentError(init);
}

/** Parses an envelope's data with a schema; a mismatch is the API's fault, not the user's. */
export function parseData<T extends z.ZodType>(schema: T, data: unknown, what: string): z.infer<T> {
  const res = schema.safeParse(data);
  if (!res.success) {
    const issue = res.error.issues[0];
    throw new PlaymentError({
      code: 'BAD_RESPONSE',
      statusCode: 200,
      message: `unexpected ${what} answer from the API: ${issue?.path.join('.') || 'data'} ${issue?.message ?? ''}`.trim(),
    });
  }
  return res.data;
}
