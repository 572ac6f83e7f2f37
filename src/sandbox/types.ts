// Public types of the Playment sandbox. Kept in one place so the server, the CLI and
// tests (and other packages in this repo) can import them without pulling in the server.
import { ROUTE_NAMES, type ApiVersion } from '../api/profiles';

/**
 * Concrete routes (what a request is recorded as): the client's route names, plus the Python
 * SDK's project summary (GET /v0/projects/{id}/stats), which the client does not use.
 */
export const SANDBOX_ROUTE_NAMES = [...ROUTE_NAMES, 'project.stats'] as const;
export type SandboxRouteName = (typeof SANDBOX_ROUTE_NAMES)[number];

/** Named API routes; '*' in a FaultSpec matches any of them. */
export type SandboxRoute = SandboxRouteName | '*';

/** v0 = readme.io / SDK era (tag), v1 = GitBook / TELUS era (work_flow_id): the client's API versions. */
export type ApiProfile = ApiVersion;

/**
 * 'malformed' answers 200 with a garbled body without handling the request; 'truncated' handles
 * it (a job or batch is stored), then answers its status with the body cut short (first use) or
 * empty (second use), alternating: a proxy that cut the answer after the work was done.
 */
export type FaultMode = 'status' | 'delay' | 'delay-answer' | 'reset-before' | 'reset-after' | 'malformed' | 'truncated';

export interface FaultSpec {
  route: SandboxRoute;
  mode: FaultMode;
  /** How many matching requests it applies to (default 1); Infinity allowed. */
  count?: number;
  /** mode 'status': HTTP status to answer with (default 500). */
  status?: number;
  /** mode 'status': value of a Retry-After header (seconds or HTTP date). */
  retryAfter?: string;
  /**
   * mode 'delay': wait this long, then handle normally. mode 'delay-answer': handle at once (a job
   * or batch is stored), then hold the answer this long. At most 2^31-1.
   */
  delayMs?: number;
}

export interface SandboxOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Accepted x-api-key values, default ['sandbox-key']. */
  apiKeys?: string[];
  /** Known projects, default ['demo-project']. */
  projectIds?: string[];
  /** A job reports 'completed' this long after creation; default 5000. */
  completionDelayMs?: number;
  /**
   * Default 0. Spreads completion times: the job created n-th (from 0, since start or reset)
   * completes completionDelayMs + completionSpreadMs × frac(n × 0.618…) after creation, so any
   * run of consecutive jobs completes evenly over the spread, the same way in every run.
   */
  completionSpreadMs?: number;
  /** 0/undefined = off; otherwise requests beyond N per rolling second get 429. */
  rateLimitPerSecond?: number;
  /** Default 64 MiB. */
  maxBodyBytes?: number;
  /**
   * Known tags / work-flow ids: when given, a job whose tag or work_flow_id is not listed is
   * refused with FS_0005. Default: any non-empty value is accepted.
   */
  workflows?: string[];
  /**
   * Check that the host of every http(s) attachment URL resolves and accepts a connection;
   * FS_0007 otherwise. Default false (no DNS or network traffic).
   */
  checkUrls?: boolean;
}

export interface VideoFrame {
  readonly frame_id: string;
  readonly src: string;
}

export interface JobRecord {
  readonly jobId: string;
  readonly projectId: string;
  readonly referenceId: string;
  readonly tag?: string;
  readonly workFlowId?: string;
  readonly batchId: string;
  readonly priorityWeight: number;
  readonly frames: readonly VideoFrame[];
  readonly createdAtMs: number;
  /** When the job reports 'completed': creation + completion delay (+ its share of the spread). */
  readonly completesAtMs: number;
  /** Number of (tracker, frame) annotations the synthetic result holds once completed. */
  readonly annotationCount: number;
  /** data.maker_response as sent: its trackers, when there are any, are the job's result. */
  readonly makerResponse?: Readonly<Record<string, unknown>>;
  /** data.reference_data as sent. */
  readonly referenceData?: Readonly<Record<string, unknown>>;
  /** data.metadata as sent. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface BatchInfo {
  readonly batchId: string;
  readonly projectId: string;
  readonly name: string;
  readonly description: string;
  readonly label: string;
  readonly isDefault: boolean;
  readonly createdAtMs: number;
  readonly jobCount: number;
}

export type HeaderMap = Record<string, string | string[] | undefined>;

export interface RecordedRequest {
  readonly method: string;
  /** Path without the query string, as received (not decoded). */
  readonly path: string;
  /** null when no API route matched (404, bad path). */
  readonly route: SandboxRouteName | null;
  /** HTTP status answered; 0 while pending or when the socket was reset without an answer. */
  readonly status: number;
  readonly apiKeyPresent: boolean;
  /** Request headers; an x-api-key value is replaced by '[redacted]'. */
  readonly headers: HeaderMap;
  /** Set when an injected fault was applied to this request. */
  readonly fault?: FaultMode;
  /** The error code answered (e.g. 'FS_0001'), when the answer was a failure envelope. */
  readonly errorCode?: string;
  /** job.create only: the job this request stored, also when its answer was then lost. */
  readonly jobId?: string;
  readonly receivedAtMs: number;
}

export interface RecordedStorageRequest {
  readonly method: string;
  /** Full request target including the query string. */
  readonly url: string;
  readonly status: number;
  /** True when the request carried an x-api-key header (it never should). */
  readonly apiKeyPresent: boolean;
  /** Request headers; an x-api-key value is replaced by '[redacted]' (the name stays visible). */
  readonly headers: HeaderMap;
  readonly receivedAtMs: number;
}

export interface SandboxState {
  /** All API requests received, including rejected ones (control endpoints excluded). */
  readonly requestCount: number;
  /** Requests per named route (control endpoints excluded). */
  readonly routeCounts: Readonly<Record<SandboxRouteName, number>>;
  /** The most recent API requests (capped at 10,000), oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** Requests received by the storage listener (capped at 10,000), oldest first. */
  readonly storageRequests: readonly RecordedStorageRequest[];
  /** Job-create attempts rejected with FS_0001 (reference_id already used). */
  readonly duplicateReferenceIdAttempts: number;
  /** All stored jobs, in creation order. */
  jobs(): JobRecord[];
  /** Jobs stored under this reference id (at most one: the sandbox enforces uniqueness). */
  jobsByReferenceId(projectId: string, referenceId: string): JobRecord[];
  /** Batches of a project (the default batch first); [] for an unknown project. */
  batches(projectId: string): BatchInfo[];
  /** Forget jobs, batches (default batches are re-created), logs, counters and faults. */
  reset(): void;
}

export interface Sandbox {
  /** 'http://127.0.0.1:<port>' */
  url: string;
  port: number;
  /** Base URL of the second listener that serves signed attachment URLs. */
  storageUrl: string;
  state: SandboxState;
  injectFault(f: FaultSpec): void;
  clearFaults(): void;
  /** Closes both listeners and destroys open sockets. */
  close(): Promise<void>;
}
