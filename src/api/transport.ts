/**
 * One HTTP attempt against the API: undici's request(), a size-capped body read, then the answer
 * read by answers.ts. Every failure becomes a PlaymentError whose `retryable` tells the retry
 * policy what to do.
 */
import { errors as undiciErrors, request, type Dispatcher } from 'undici';
import { parseAnswer } from './answers';
import { PlaymentError } from './errors';
import { follow } from './signal-links';
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
   * attempt follows them without adding a listener per request (signal-links.ts).
   */
  signals: ReadonlyArray<AbortSignal | undefined>;
  /** Time allowed for this attempt, from sending to the last byte of the answer. */
  timeoutMs: number;
}

/**
 * How an attempt ended early: the timer fired (`timedOut`), or a followed signal aborted it
 * (`aborted`, with that signal's `reason`).
 */
export interface AttemptState {
  readonly timedOut: boolean;
  readonly aborted: boolean;
  readonly reason: unknown;
}

/**
 * The abort side of one attempt: follows the caller's signals, owns the attempt's timer, and
 * aborts `signal` (handed to undici) when either ends it. One per attempt, ended at its end.
 */
export class AttemptControl implements AttemptState {
  timedOut = false;
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  private readonly timer: NodeJS.Timeout;
  private readonly unlink: () => void;

  constructor(signals: ReadonlyArray<AbortSignal | undefined>, timeoutMs: number) {
    this.timer = setTimeout(fireTimeout, timerDelay(timeoutMs), this);
    // Like AbortSignal.timeout: a pending attempt timer alone does not keep the process up.
    this.timer.unref();
    this.unlink = follow(signals, this);
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }

  get reason(): unknown {
    return this.signal.reason;
  }

  abort(reason?: unknown): void {
    if (!this.signal.aborted) this.controller.abort(reason ?? new undiciErrors.RequestAbortedError());
  }

  /** Ends the attempt: clears the timer and stops following the signals. */
  end(): void {
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
    answer = await exchange(opts.baseUrl + req.path, {
      dispatcher: opts.dispatcher,
      method: req.method,
      headers: hasBody
        ? { 'x-api-key': opts.apiKey, accept: 'application/json', 'content-type': 'application/json' }
        : { 'x-api-key': opts.apiKey, accept: 'application/json' },
      body: hasBody ? (req.json ?? JSON.stringify(req.body)) : undefined,
      signal: control.signal,
    });
  } catch (err) {
    throw transportError(err, control, opts.timeoutMs);
  } finally {
    control.end();
  }
  return parseAnswer(answer.status, answer.text, answer.retryAfter);
}

/** What request() takes besides the URL. */
export type RequestOptions = NonNullable<Parameters<typeof request>[1]>;

export interface Answer {
  status: number;
  text: string;
  retryAfter: string | undefined;
  /** The Location header, for redirects. */
  location: string | undefined;
}

/**
 * One API request, its answer read as text up to MAX_RESPONSE_BYTES. request() follows no
 * redirect (no redirect interceptor is added): the key travels in a header.
 */
export async function exchange(url: string, options: RequestOptions): Promise<Answer> {
  const res = await request(url, options);
  const tooLarge = () =>
    new PlaymentError({
      code: 'BAD_RESPONSE',
      statusCode: res.statusCode,
      message: `answer larger than ${MAX_RESPONSE_BYTES} bytes (HTTP ${res.statusCode})`,
    });
  const body = await readCapped(res, MAX_RESPONSE_BYTES, tooLarge);
  return {
    status: res.statusCode,
    text: body.toString('utf8'),
    retryAfter: headerText(res.headers['retry-after']),
    location: headerText(res.headers.location),
  };
}

/**
 * Reads an answer's body into one buffer of at most `limit` bytes: a declared length above it is
 * refused unread, and reading stops as soon as the body grows past it.
 */
export async function readCapped(res: Dispatcher.ResponseData<unknown>, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const declared = Number(headerText(res.headers['content-length']));
  if (declared > limit) throw stop(res, tooLarge());
  // Allocated once when the length is declared; otherwise grown by doubling.
  let buf = Buffer.allocUnsafe(Number.isSafeInteger(declared) && declared > 0 ? declared : 0);
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    const needed = size + chunk.length;
    if (needed > limit) throw stop(res, tooLarge());
    if (needed > buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(limit, Math.max(needed, buf.length * 2)));
      buf.copy(grown, 0, 0, size);
      buf = grown;
    }
    chunk.copy(buf, size);
    size = needed;
  }
  return buf.subarray(0, size);
}

function stop(res: Dispatcher.ResponseData<unknown>, err: Error): Error {
  res.body.destroy(err);
  return err;
}

/** A header value as text (the first one when it is repeated). */
export function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
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
  const proxyStatus = proxyRefusal(e);
  if (proxyStatus !== undefined) {
    return new PlaymentError({
      code: 'NETWORK',
      message:
        proxyStatus === 407
          ? 'the proxy refused its credentials (HTTP 407 to CONNECT): check the user and password of the http proxy node or proxy variable'
          : `the proxy answered HTTP ${proxyStatus} to CONNECT instead of opening a tunnel to the API`,
      // Credentials do not mend themselves; any other refusal (a 502 while the proxy restarts) is retried.
      retryable: proxyStatus !== 407,
      cause: err,
    });
  }
  const code = e.code === 'UND_ERR_CONNECT_TIMEOUT' ? 'TIMEOUT' : 'NETWORK';
  return new PlaymentError({
    code,
    message: `${code === 'TIMEOUT' ? 'connection timed out' : 'network error'}: ${e.code ?? e.message ?? 'unknown'}`,
    retryable: true,
    cause: err,
  });
}

/** The status a proxy answered to CONNECT, from undici's ProxyAgent error (its only sign of it). */
function proxyRefusal(e: { code?: string; message?: string }): number | undefined {
  if (e.code !== 'UND_ERR_ABORTED' || typeof e.message !== 'string') return undefined;
  const m = /^Proxy response \((\d{3})\) !== 200 when HTTP Tunneling$/.exec(e.message);
  return m ? Number(m[1]) : undefined;
}
