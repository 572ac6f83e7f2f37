/**
 * One budget per account: a rate limit, a concurrency limit and a bounded queue, shared by every
 * node that uses the same config node. Slows down when the API answers 429 and recovers after
 * successes.
 *
 * Two lines wait for slots: requests (submissions, single fetches), bounded by `maxQueue`, and
 * polls (the result poller's sweeps), never refused: a poll stands for waits that are held in
 * memory, not for new work. While both lines wait, grants alternate, so polls take at most half
 * of them and neither line starves; a line alone takes every grant.
 */
import { PlaymentError } from './errors';
import { DEFAULT_RETRY_POLICY } from './retry';
import { timerDelay } from './timer-delay';

export interface LimiterOptions {
  /** Requests per second; 0 = unlimited. */
  ratePerSecond: number;
  maxConcurrent: number;
  maxQueue: number;
  /**
   * Longest pause after a 429, whatever its Retry-After asks: one hostile answer must not hold
   * the whole account. The client passes its backoff ceiling.
   */
  maxPauseMs?: number;
  /** Told when a 429 slows the limiter down and when successes step it back up (for logging). */
  onChange?: (change: LimiterChange) => void;
}

export interface LimiterChange {
  kind: 'throttled' | 'recovered';
  concurrency: number;
  /** Requests per second now; 0 = unlimited. */
  ratePerSecond: number;
  /** Throttled: how long new grants pause, and the Retry-After asked for (ms) if any. */
  pauseMs?: number;
  retryAfterMs?: number;
}

export interface Slot {
  /** Gives the slot back; `throttled` when the API answered 429. */
  release(outcome: 'ok' | 'failed' | 'throttled', retryAfterMs?: number): void;
}

/** Which line a caller waits in: 'poll' is not counted against `maxQueue`. */
export type SlotKind = 'request' | 'poll';

export interface AcquireOptions {
  /** Retries skip the queue limit (see acquire). */
  retry?: boolean;
  kind?: SlotKind;
}

interface Waiter {
  resolve(slot: Slot): void;
  reject(err: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
  done: boolean;
}

/** Successes needed before a throttled limiter steps back up. */
const RECOVERY_STEP = 10;
/** Pause after a 429 without a usable Retry-After. */
const DEFAULT_PAUSE_MS = 1000;

/**
 * A FIFO with O(1) shift, compacted now and then so it does not grow without bound. A plain
 * array's shift() copies the whole array once it is large (the queue may hold up to 1 000 000):
 * draining 100 000 waiters took about 57 s of blocked event loop with an array, 3 ms with this.
 */
class Line {
  private items: Waiter[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }
  push(w: Waiter): void {
    this.items.push(w);
  }
  /** The first waiter not yet settled (aborted ones are dropped on the way). */
  peek(): Waiter | undefined {
    while (this.size > 0 && this.items[this.head].done) this.shift();
    return this.size > 0 ? this.items[this.head] : undefined;
  }
  shift(): void {
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
  }
  drain(): Waiter[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }
}

export class RequestLimiter {
  private readonly requests = new Line();
  private readonly polls = new Line();
  /** While both lines wait: the next grant goes to a poll (set after a request was granted). */
  private pollsTurn = false;
  private active = 0;
  private nextSlotAt = 0;
  private pausedUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private concurrency: number;
  private rate: number;
  private successes = 0;
  private closedError: PlaymentError | undefined;

  constructor(private readonly opts: LimiterOptions) {
    this.concurrency = opts.maxConcurrent;
    this.rate = opts.ratePerSecond;
  }

  /** Requests waiting (what `maxQueue` bounds); polls are counted in `pollsQueued`. */
  get queued(): number {
    return this.requests.size;
  }
  get pollsQueued(): number {
    return this.polls.size;
  }
  get inFlight(): number {
    return this.active;
  }
  /** A new (non-retry) request would be refused with QUEUE_FULL now. */
  get full(): boolean {
    return this.queued >= this.opts.maxQueue;
  }

  /** The refusal a new request meets when the queue is full. */
  queueFullError(): PlaymentError {
    return new PlaymentError({
      code: 'QUEUE_FULL',
      message: `the request queue of this Playment account is full (${this.opts.maxQueue} waiting); nothing was sent`,
    });
  }

  /**
   * Waits for a slot. `retry` requests skip the queue limit: they already hold a place in the
   * account's work and must not be turned away half-done. Polls wait in their own line, which
   * has no limit (true for `options` is the older form of `{ retry: true }`).
   */
  acquire(signal?: AbortSignal, options: boolean | AcquireOptions = false): Promise<Slot> {
    const { retry = false, kind = 'request' } = typeof options === 'boolean' ? { retry: options } : options;
    if (this.closedError) return Promise.reject(this.closedError);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (kind === 'request' && !retry && this.full) return Promise.reject(this.queueFullError());
    return new Promise<Slot>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, done: false };
      if (signal) {
        waiter.onAbort = () => this.settle(waiter, undefined, signal.reason);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      (kind === 'poll' ? this.polls : this.requests).push(waiter);
      this.pump();
    });
  }

  /** Rejects everything still waiting; slots already given out finish normally. */
  close(err: PlaymentError): void {
    this.closedError = err;
    clearTimeout(this.timer);
    for (const w of [...this.requests.drain(), ...this.polls.drain()]) this.settle(w, undefined, err);
  }

  private settle(w: Waiter, slot: Slot | undefined, err?: unknown): void {
    if (w.done) return;
    w.done = true;
    if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
    if (slot) w.resolve(slot);
    else w.reject(err);
  }

  private pump(): void {
    if (this.timer) return;
    while (this.active < this.concurrency) {
      const { line, contended } = this.nextLine();
      if (!line) return;
      const head = line.peek()!;
      const now = Date.now();
      const wait = Math.max(this.pausedUntil, this.rate > 0 ? this.nextSlotAt : 0) - now;
      if (wait > 0) {
        // A wait beyond what a timer holds fires early; pump() then measures again.
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, timerDelay(wait));
        return;
      }
      // Spacing counts from the later of now and the last slot: a late timer's lateness is lost
      // rather than made up in a burst, which the API's rolling one-second window would refuse.
      if (this.rate > 0) this.nextSlotAt = Math.max(now, this.nextSlotAt) + 1000 / this.rate;
      line.shift();
      if (contended) this.pollsTurn = line === this.requests;
      this.active++;
      this.settle(head, this.makeSlot());
    }
  }

  /** The line the next grant goes to: alternating while both wait, otherwise the one waiting. */
  private nextLine(): { line?: Line; contended: boolean } {
    const request = this.requests.peek();
    const poll = this.polls.peek();
    if (request && poll) return { line: this.pollsTurn ? this.polls : this.requests, contended: true };
    return { line: request ? this.requests : poll ? this.polls : undefined, contended: false };
  }

  private makeSlot(): Slot {
    let released = false;
    return {
      release: (outcome, retryAfterMs) => {
        if (released) return;
        released = true;
        this.active--;
        if (outcome === 'throttled') this.throttle(retryAfterMs);
        else if (outcome === 'ok') this.recover();
        this.pump();
      },
    };
  }

  private throttle(retryAfterMs?: number): void {
    this.successes = 0;
    this.concurrency = Math.max(1, Math.floor(this.concurrency / 2));
    if (this.opts.ratePerSecond > 0) this.rate = Math.max(this.opts.ratePerSecond / 8, this.rate / 2);
    const maxPause = this.opts.maxPauseMs ?? DEFAULT_RETRY_POLICY.maxDelayMs;
    const pause = Math.min(retryAfterMs ?? DEFAULT_PAUSE_MS, maxPause);
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + pause);
    this.opts.onChange?.({ kind: 'throttled', concurrency: this.concurrency, ratePerSecond: this.rate, pauseMs: pause, retryAfterMs });
  }

  private recover(): void {
    if (this.concurrency >= this.opts.maxConcurrent && this.rate >= this.opts.ratePerSecond) return;
    if (++this.successes < RECOVERY_STEP) return;
    this.successes = 0;
    this.concurrency = Math.min(this.opts.maxConcurrent, this.concurrency + 1);
    if (this.opts.ratePerSecond > 0) this.rate = Math.min(this.opts.ratePerSecond, this.rate * 1.25);
    this.opts.onChange?.({ kind: 'recovered', concurrency: this.concurrency, ratePerSecond: this.rate });
  }
}
