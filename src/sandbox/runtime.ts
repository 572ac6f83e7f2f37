// Everything the sandbox keeps in memory, bundled so the API listener, the storage listener, the
// control endpoint and the test-facing SandboxState all see (and reset) the same data.
import { FaultQueue } from './faults';
import { RollingWindowLimiter } from './rate-limit';
import { RingLog, emptyRouteCounts } from './request-log';
import { SignedUrlRegistry } from './storage';
import { SandboxStore, batchInfo } from './store';
import type { JobRecord, RecordedRequest, RecordedStorageRequest, SandboxRouteName, SandboxState } from './types';

/** RecordedRequest while the server still fills in the outcome. */
export type MutableRecordedRequest = { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] };

export interface RuntimeConfig {
  apiKeys: readonly string[];
  projectIds: readonly string[];
  completionDelayMs: number;
  rateLimitPerSecond: number;
}

export class SandboxRuntime {
  readonly store: SandboxStore;
  readonly faults = new FaultQueue();
  readonly signer = new SignedUrlRegistry();
  readonly apiKeys: ReadonlySet<string>;
  readonly requestLog = new RingLog<MutableRecordedRequest>();
  readonly storageLog = new RingLog<RecordedStorageRequest>();
  readonly limiter: RollingWindowLimiter | undefined;
  requestCount = 0;
  routeCounts: Record<SandboxRouteName, number> = emptyRouteCounts();

  constructor(config: RuntimeConfig) {
    this.store = new SandboxStore(config.projectIds, config.completionDelayMs);
    this.apiKeys = new Set(config.apiKeys);
    this.limiter = config.rateLimitPerSecond > 0 ? new RollingWindowLimiter(config.rateLimitPerSecond) : undefined;
  }

  /** Clean slate: data, logs, counters, signed URLs, rate-limit window and queued faults. */
  reset(): void {
    this.store.reset();
    this.faults.clear();
    this.signer.clear();
    this.requestLog.clear();
    this.storageLog.clear();
    this.limiter?.reset();
    this.requestCount = 0;
    this.routeCounts = emptyRouteCounts();
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
      jobCountsByReferenceId: (projectId: string) => {
        const counts = new Map<string, number>();
        const project = store.project(projectId);
        if (project) for (const referenceId of project.jobsByReferenceId.keys()) counts.set(referenceId, 1);
        return counts;
      },
      batches: (projectId: string) => {
        const project = store.project(projectId);
        return project ? [...project.batchesById.values()].map(batchInfo) : [];
      },
      reset: () => runtime.reset(),
    };
  }
}
