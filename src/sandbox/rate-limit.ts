// Rolling one-second window: a ring of the timestamps of the last N accepted requests. A request
// is refused when the oldest of those N is still inside the window. O(1) per request.
export class RollingWindowLimiter {
  private readonly stamps: Float64Array;
  private next = 0;

  constructor(
    readonly limit: number,
    private readonly windowMs = 1000,
  ) {
    this.stamps = new Float64Array(limit).fill(-Infinity);
  }

  /** Refused requests are not recorded, so a client that backs off gets through again. */
  tryAcquire(now: number): boolean {
    if (now - this.stamps[this.next] < this.windowMs) return false;
    this.stamps[this.next] = now;
    this.next = (this.next + 1) % this.limit;
    return true;
  }

  reset(): void {
    this.stamps.fill(-Infinity);
    this.next = 0;
  }
}
