/**
 * At most a few result-file downloads of one account at once: each holds up to the size cap in
 * memory while it is read and parsed, so the cap times this number bounds the memory they take.
 */
export class DownloadGate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  /** Resolves with a release function once a download may start; rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const start = () => {
        signal?.removeEventListener('abort', onAbort);
        this.active++;
        resolve(this.releaser());
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(start);
        // Stryker disable next-line ConditionalExpression: `start` removes this listener, so an aborted waiter is always queued; kept so a change there cannot drop another waiter.
        if (i !== -1) this.waiting.splice(i, 1);
        reject(signal!.reason);
      };
      // A signal aborts once: no `once` option needed.
      signal?.addEventListener('abort', onAbort);
      this.waiting.push(start);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiting.shift()?.();
    };
  }
}
