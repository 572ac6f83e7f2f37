// Everything the sandbox keeps in memory, bundled so the API listener, the storage listener, the
// control endpoint and the test-facing SandboxState all see (and reset) the same data.
import { FaultQueue } from './faults';
import { RollingWindowLimiter } from './rate-limit';
import { RingLog, emptyRouteCounts } from './request-log';
import { SignedUrlRegistry } from './storage';
import { SandboxStore, batchInfo } from './store';
import { UrlReachability } from './url-check';
import type { JobRecord, RecordedRequest, RecordedStorageRequest, SandboxRouteName, SandboxState } from './types';

/** RecordedRequest while the server still fills in the outcome. */
export type MutableRecordedRequest = { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] };

/**
 * A request the server holds back (a delay fault, a URL check): dropping it stops it and closes
 * its socket.
 */
export interface HeldRequest {
  drop(): void;
}

export interface RuntimeConfig {
  apiKeys: readonly string[];
  projectIds: readonly string[];
  completionDelayMs: number;
  completionSpreadMs: number;
  rateLimitPerSecond: number;
  workflows: readonly string[] | undefined;
  checkUrls: boolean;
}

export class SandboxRuntime {
  readonly store: SandboxStore;
  readonly faults = new FaultQueue();
  readonly signer = new SignedUrlRegistry();
  readonly apiKeys: ReadonlySet<string>;
  readonly requestLog = new RingLog<MutableRecordedRequest>();
  readonly storageLog = new RingLog<RecordedStorageRequest>();
  readonly limiter: RollingWindowLimiter | undefined;
  readonly workflows: ReadonlySet<string> | undefined;
  readonly reachability: UrlReachability | undefined;
  /** Requests waiting to be handled; a reset or close drops them. */
  readonly held = new Set<HeldRequest>();
  requestCount = 0;
  routeCounts: Record<SandboxRouteName, number> = emptyRouteCounts();

  constructor(config: RuntimeConfig) {
    this.store = new SandboxStore(config.projectIds, config.completionDelayMs, config.completionSpreadMs);
    this.apiKeys = new Set(config.apiKeys);
    this.limiter = config.rateLimitPerSecond > 0 ? new RollingWindowLimiter(config.rateLimitPerSecond) : undefined;
    this.workflows = config.workflows ? new Set(config.workflows) : undefined;
    this.reachability = config.checkUrls ? new UrlReachability() : undefined;
  }

  /**
   * Clean slate: data, logs, counters, signed URLs, rate-limit window and queued faults. Requests
   * still held back are dropped, so nothing received before a reset can store data after it.
   */
  reset(): void {
    this.dropHeld();
    this.store.reset();
    this.faults.clear();
    this.signer.clear();
    this.requestLog.clear();
    this.storageLog.clear();
    this.limiter?.reset();
    this.reachability?.clear();
    this.requestCount = 0;
    this.routeCounts = emptyRouteCounts();
  }

  /** Stops every held request (their clients see a closed connection). */
  dropHeld(): void {
    const held = [...this.held];
    this.held.clear();
    for (const request of held) request.drop();
  }

  /** Counts served by GET /_sandbox/state (for drivers in another process). */
  summary(): Record<string, unknown> {
    return {
      requestCount: this.requestCount,
      jobs: this.store.jobCount(),
      batches: this.store.batchCount(),
      duplicateReferenceIds: this.store.duplicateReferenceIdAttempts,
      pendingFaults: this.faults.pending,
      routeCounts: { ...this.routeCounts },
    };
  }

  createStateView(): SandboxState {
    // Arrow functions and getters close over `runtime`, so a destructured view keeps working.
    const runtime = this;
    const store = this.store;
    return {
      get requestCount() {
        return runtime.requestCount;
      },
      get routeCounts() {
        return { ...runtime.routeCounts };
      },
      get requests() {
        return runtime.requestLog.toArray();
      },
      get storageRequests() {
        return runtime.storageLog.toArray();
      },
      get duplicateReferenceIdAttempts() {
        return store.duplicateReferenceIdAttempts;
      },
      jobs: () => store.allJobs(),
      jobsByReferenceId: (projectId: string, referenceId: string): JobRecord[] => {
        const job = store.project(projectId)?.jobsByReferenceId.get(referenceId);
        return job ? [job] : [];
      },
      batches: (projectId: string) => {
        const project = store.project(projectId);
        return project ? [...project.batchesById.values()].map(batchInfo) : [];
      },
      reset: () => runtime.reset(),
    };
  }
}
