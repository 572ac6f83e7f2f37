/**
 * One budget per account: a rate limit, a concurrency limit and a bounded queue, shared by every
 * node that uses the same config node. Slows down when the API answers 429 and recovers after
 * successes.
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
}

export interface Slot {
  /** Gives the slot back; `throttled` when the API answered 429. */
  release(outcome: 'ok' | 'failed' | 'throttled', retryAfterMs?: number): void;
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

export class RequestLimiter {
  private readonly queue: Waiter[] = [];
  private queueHead = 0;
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

  get queued(): number {
    return this.queue.length - this.queueHead;
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
   * account's work and must not be turned away half-done.
   */
  acquire(signal?: AbortSignal, retry = false): Promise<Slot> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!retry && this.full) return Promise.reject(this.queueFullError());
    return new Promise<Slot>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, done: false };
      if (signal) {
        waiter.onAbort = () => this.settle(waiter, undefined, signal.reason);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** Rejects everything still waiting; slots already given out finish normally. */
  close(err: PlaymentError): void {
    this.closedError = err;
    clearTimeout(this.timer);
    for (let i = this.queueHead; i < this.queue.length; i++) this.settle(this.queue[i], undefined, err);
    this.queue.length = 0;
    this.queueHead = 0;
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
    while (this.queued > 0 && this.active < this.concurrency) {
      const head = this.queue[this.queueHead];
      if (head.done) {
        this.shift();
        continue;
      }
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
      if (this.rate > 0) this.nextSlotAt = Math.max(now, this.nextSlotAt) + 1000 / this.rate;
      this.shift();
      this.active++;
      this.settle(head, this.makeSlot());
    }
  }

  private shift(): void {
    this.queueHead++;
    // Compact now and then so the array does not grow without bound.
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
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
  }

  private recover(): void {
    if (this.concurrency >= this.opts.maxConcurrent && this.rate >= this.opts.ratePerSecond) return;
    if (++this.successes < RECOVERY_STEP) return;
    this.successes = 0;
    this.concurrency = Math.min(this.opts.maxConcurrent, this.concurrency + 1);
    if (this.opts.ratePerSecond > 0) this.rate = Math.min(this.opts.ratePerSecond, this.rate * 1.25);
  }
}
