// Queue of injected faults. Each request takes the first queued fault whose route matches;
// a fault with count N is used by N matching requests, then dropped (FIFO per route).
import { SANDBOX_ROUTE_NAMES, type FaultMode, type FaultSpec, type SandboxRoute, type SandboxRouteName } from './types';

const ROUTES: readonly SandboxRoute[] = [...SANDBOX_ROUTE_NAMES, '*'];
const MODES: readonly FaultMode[] = ['status', 'delay', 'delay-answer', 'reset-before', 'reset-after', 'malformed', 'truncated'];
/** Node fires longer timers at once. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** A fault as applied to one request. */
export interface AppliedFault {
  spec: Readonly<FaultSpec>;
  /** 0 for the first request the fault applies to, 1 for the second, ... */
  use: number;
}

interface QueuedFault {
  spec: Readonly<FaultSpec>;
  remaining: number;
  used: number;
}

export class FaultQueue {
  private queue: QueuedFault[] = [];

  /** Throws a TypeError describing the problem when the spec is invalid. */
  add(input: unknown): void {
    const spec = parseFaultSpec(input);
    this.queue.push({ spec, remaining: spec.count ?? 1, used: 0 });
  }

  clear(): number {
    const cleared = this.queue.length;
    this.queue = [];
    return cleared;
  }

  get pending(): number {
    return this.queue.length;
  }

  take(route: SandboxRouteName): AppliedFault | undefined {
    if (this.queue.length === 0) return undefined;
    for (let i = 0; i < this.queue.length; i++) {
      const queued = this.queue[i];
      if (queued.spec.route !== '*' && queued.spec.route !== route) continue;
      const applied = { spec: queued.spec, use: queued.used++ };
      if (--queued.remaining <= 0) this.queue.splice(i, 1);
      return applied;
    }
    return undefined;
  }
}

/**
 * Validates a fault coming from code or from the control endpoint's JSON. JSON cannot carry
 * Infinity, so count also accepts the string "Infinity" (or -1 / null meaning "forever").
 */
export function parseFaultSpec(input: unknown): FaultSpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError('fault must be an object');
  }
  const raw = input as Record<string, unknown>;
  const route = raw.route;
  const mode = raw.mode;
  if (!ROUTES.includes(route as SandboxRoute)) throw new TypeError(`fault.route must be one of ${ROUTES.join(', ')}`);
  if (!MODES.includes(mode as FaultMode)) throw new TypeError(`fault.mode must be one of ${MODES.join(', ')}`);
  const spec: FaultSpec = { route: route as SandboxRoute, mode: mode as FaultMode, count: parseCount(raw.count) };

  if (mode === 'status') {
    const status = raw.status ?? 500;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599) {
      throw new TypeError('fault.status must be an integer HTTP status from 400 to 599');
    }
    spec.status = status;
    if (raw.retryAfter !== undefined && raw.retryAfter !== null) {
      if (typeof raw.retryAfter !== 'string' && typeof raw.retryAfter !== 'number') {
        throw new TypeError('fault.retryAfter must be a string (seconds or an HTTP date)');
      }
      spec.retryAfter = String(raw.retryAfter);
    }
  }
  if (mode === 'delay' || mode === 'delay-answer') {
    const delayMs = raw.delayMs;
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0 || delayMs > MAX_DELAY_MS) {
      throw new TypeError(`fault.delayMs must be a number from 0 to ${MAX_DELAY_MS} for mode "${mode}"`);
    }
    spec.delayMs = delayMs;
  }
  return spec;
}

function parseCount(count: unknown): number {
  if (count === undefined) return 1;
  if (count === null || count === Infinity || count === 'Infinity' || count === -1) return Infinity;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
    throw new TypeError('fault.count must be a positive integer or Infinity');
  }
  return count;
}
