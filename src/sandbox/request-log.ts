// Bounded in-memory log (a ring buffer, so recording stays O(1) once full) plus counters.
import { SANDBOX_ROUTE_NAMES, type HeaderMap, type SandboxRouteName } from './types';

export const REQUEST_LOG_CAPACITY = 10_000;

export class RingLog<T> {
  private items: T[] = [];
  private start = 0;

  constructor(private readonly capacity = REQUEST_LOG_CAPACITY) {}

  push(item: T): void {
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
  }

  /** Oldest first. */
  toArray(): T[] {
    return this.start === 0 ? this.items.slice() : this.items.slice(this.start).concat(this.items.slice(0, this.start));
  }

  clear(): void {
    this.items = [];
    this.start = 0;
  }
}

export function emptyRouteCounts(): Record<SandboxRouteName, number> {
  return Object.fromEntries(SANDBOX_ROUTE_NAMES.map((name) => [name, 0])) as Record<SandboxRouteName, number>;
}

/** Copies request headers, keeping the x-api-key name but never its value. */
export function redactHeaders(headers: HeaderMap): HeaderMap {
  const copy: HeaderMap = {};
  for (const name in headers) copy[name] = name === 'x-api-key' ? '[redacted]' : headers[name];
  return copy;
}
