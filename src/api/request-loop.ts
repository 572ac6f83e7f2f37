/**
 * The life of one call: a slot from the account's limiter, an attempt, and the retry policy
 * deciding whether and when to send again, all within the call's deadline.
 */
import { PlaymentError, SERVER_SIDE_CODES, isPlaymentError, type ErrorCode } from './errors';
import type { RequestLimiter, Slot, SlotKind } from './limiter';
import type { ClientLogger } from './log';
import type { RouteName } from './profiles';
import { backoffDelay, retryAfterMs, sleep, type RetryPolicy } from './retry';
import { linkSignals } from './signal-links';

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
 * One attempt of a call: ends early when one of `signals` aborts (the client's abort on close,
 * the caller's abort) or after `timeoutMs`.
 */
export type Attempt = (signals: ReadonlyArray<AbortSignal | undefined>, timeoutMs: number) => Promise<unknown>;

export interface LoopSettings {
  limiter: RequestLimiter;
  retry: RetryPolicy;
  /** Time allowed for one attempt. */
  timeoutMs: number;
  /** Time allowed for one call, retries included, from its first attempt. */
  deadlineMs: number;
  log: ClientLogger;
  /** The client's: aborted when it closes (queued and backing-off calls end). */
  closing: AbortSignal;
  /** The client's: aborted when its close grace is over (attempts in flight end). */
  aborting: AbortSignal;
}

export interface CallSpec {
  route: RouteName;
  /** Method and path (without query), for log lines. */
  target: string;
  call: CallOptions;
  /** Sending it twice does no harm (reads). A create is not: its lost answers are tracked. */
  idempotent: boolean;
  attempt: Attempt;
}

/**
 * A create request whose answer was lost: it may have been stored. BAD_RESPONSE is a 2xx answer
 * that cannot be read (a proxy cut it short): the job was probably stored.
 */
const UNKNOWN_OUTCOME_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'TIMEOUT',
  'NETWORK',
  'HTTP_ERROR',
  'BAD_RESPONSE',
  ...SERVER_SIDE_CODES,
]);

export class RequestLoop {
  constructor(private readonly s: LoopSettings) {}

  /** The data of the call's answer, or the error that ended it. */
  async run(spec: CallSpec): Promise<unknown> {
    const cancel = linkSignals([this.s.closing, spec.call.cancel]);
    try {
      // Each attempt follows the abort signals itself (signal-links.ts): no per-call link needed.
      return await this.attempts(spec, cancel.signal, [this.s.aborting, spec.call.abort]);
    } finally {
      cancel.unlink();
    }
  }

  private async attempts(spec: CallSpec, cancel: AbortSignal, abort: ReadonlyArray<AbortSignal | undefined>): Promise<unknown> {
    const { route, call, idempotent } = spec;
    const logName = `${route} ${spec.target}`;
    const { limiter, retry: policy, log } = this.s;
    let deadline = Infinity;
    let sent = false;
    let outcomeUnknown = false;
    for (let retry = 0; ; retry++) {
      let slot: Slot;
      try {
        slot = await limiter.acquire(cancel, { retry: retry > 0 || call.admitted === true, kind: call.kind });
      } catch (err) {
        throw maybeStored(asAborted(err, route), (sent && !idempotent) || outcomeUnknown);
      }
      if (retry === 0) {
        deadline = Date.now() + this.s.deadlineMs;
        try {
          call.onStart?.();
        } catch (err) {
          // Nothing was sent: the slot goes back without changing the pace.
          slot.release('failed');
          throw err;
        }
      }
      sent = true;
      const startedAt = Date.now();
      try {
        const data = await spec.attempt(abort, Math.min(this.s.timeoutMs, Math.max(1, deadline - Date.now())));
        slot.release('ok');
        log.trace(`${logName}: attempt ${retry + 1} answered ok (2xx) in ${Date.now() - startedAt} ms`);
        return data;
      } catch (raw) {
        const err = asAborted(raw, route);
        const retryAfter = retryAfterMs(err.retryAfter);
        log.trace(`${logName}: attempt ${retry + 1} ended with ${answerOf(err)} in ${Date.now() - startedAt} ms`);
        slot.release(err.statusCode === 429 ? 'throttled' : 'failed', retryAfter);
        if (err.code === 'ABORTED') throw maybeStored(err, true);
        if (!idempotent && UNKNOWN_OUTCOME_CODES.has(err.code) && err.statusCode !== 429) outcomeUnknown = true;
        // A garbled answer to a create is resent: a duplicate answer then tells that it was stored.
        const retryable = err.retryable || (!idempotent && err.code === 'BAD_RESPONSE');
        if (!retryable) throw maybeStored(err, outcomeUnknown);
        const giveUp = (why: string, thrown: PlaymentError) => {
          log.debug(`${logName}: not retried after ${answerOf(err)} (attempt ${retry + 1}): ${why}`);
          return maybeStored(thrown, outcomeUnknown);
        };
        if (retry >= policy.maxRetries) throw giveUp(`all ${policy.maxRetries} retries used`, err);
        const left = deadline - Date.now();
        if (retryAfter !== undefined && retryAfter >= left) {
          throw giveUp(
            `Retry-After ${retryAfter} ms is beyond the deadline`,
            retryAfterBeyondDeadline(err, retryAfter, left, this.s.deadlineMs),
          );
        }
        // Retry-After counts up to the backoff ceiling, like the limiter's pause: no answer holds a call longer.
        const wait = Math.max(Math.min(retryAfter ?? 0, policy.maxDelayMs), backoffDelay(retry, policy));
        if (wait >= left) throw giveUp(`the ${wait} ms wait is beyond the deadline`, err);
        log.debug(
          `${logName}: retry ${retry + 1} of ${policy.maxRetries} in ${wait} ms after ${answerOf(err)}` +
            (retryAfter === undefined ? '' : `, Retry-After ${retryAfter} ms`),
        );
        try {
          await sleep(wait, cancel);
        } catch (stop) {
          throw maybeStored(asAborted(stop, route), !idempotent || outcomeUnknown);
        }
      }
    }
  }
}

/** Errors that end a call early; ABORTED reasons are shared by many calls, so each gets a copy. */
export function asAborted(err: unknown, route: RouteName): PlaymentError {
  if (isPlaymentError(err) && err.code !== 'ABORTED') return err;
  const message = isPlaymentError(err) ? err.message : 'the node was closed';
  return new PlaymentError({ code: 'ABORTED', message: `${route} aborted: ${message}`, cause: err });
}

/**
 * What a failed create means for the caller: `mayExist` when an attempt may have been stored
 * (so a duplicate answer later is ours, and a resend with the same reference id is the safe next
 * step).
 */
function maybeStored(err: PlaymentError, mayHaveBeenStored: boolean): PlaymentError {
  return mayHaveBeenStored && !err.mayExist ? err.copyWith({ mayExist: true }) : err;
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
