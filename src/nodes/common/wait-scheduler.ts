/**
 * One timer for many waits: thousands of jobs waiting for their results cost one heap entry
 * each, not one timer each.
 */
/** setTimeout's largest delay: a longer one fires at once (Node.js clamps it to 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  dueAt: number;
  resolve(): void;
  cancelled: boolean;
}

export class WaitScheduler {
  private heap: Entry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerDueAt = Infinity;

  /** Resolves after `ms`; rejects with the signal's reason if it aborts first. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const entry: Entry = { dueAt: Date.now() + ms, cancelled: false, resolve: () => {} };
      const onAbort = () => {
        entry.cancelled = true;
        reject(signal!.reason);
      };
      entry.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.push(entry);
      this.arm();
    });
  }

  private arm(): void {
    const next = this.heap[0];
    if (!next || next.dueAt >= this.timerDueAt) return;
    clearTimeout(this.timer);
    // A due time beyond the largest delay is reached in steps: fire() finds nothing due and re-arms.
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next.dueAt - Date.now()));
    this.timerDueAt = Date.now() + delay;
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerDueAt = Infinity;
    const now = Date.now();
    while (this.heap.length > 0 && this.heap[0].dueAt <= now) {
      const entry = this.pop()!;
      if (!entry.cancelled) entry.resolve();
    }
    this.arm();
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].dueAt <= h[i].dueAt) break;
      [h[parent], h[i]] = [h[i], h[parent]];
      i = parent;
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l].dueAt < h[m].dueAt) m = l;
        if (r < h.length && h[r].dueAt < h[m].dueAt) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}
