// In-memory projects, batches and jobs. Lookups the hot paths need (job by id, job by
// reference id, batch by id/name) are Maps; job status is derived from the creation time.
import { randomUUID } from 'node:crypto';
import { countAnnotations } from './synthetic-result';
import type { JobExtras } from '../jobs/pre-labels';
import type { BatchInfo, JobRecord, VideoFrame } from './types';

/** What tests see of a batch (BatchInfo), but holding its jobs instead of their count. */
export interface BatchRecord extends Omit<BatchInfo, 'jobCount'> {
  /** Jobs in creation order (the batch listing pages through this). */
  readonly jobs: JobRecord[];
}

export interface ProjectRecord {
  readonly projectId: string;
  readonly defaultBatch: BatchRecord;
  readonly batchesById: Map<string, BatchRecord>;
  readonly batchesByName: Map<string, BatchRecord>;
  readonly jobsByReferenceId: Map<string, JobRecord>;
}

export interface NewJob {
  referenceId: string;
  tag?: string;
  workFlowId?: string;
  priorityWeight: number;
  frames: VideoFrame[];
  extras?: JobExtras;
}

export interface NewBatch {
  name: string;
  description: string;
  label: string;
}

export const DEFAULT_BATCH_NAME = 'Default';
export const RESULT_URL_BASE = 'https://playment-data-uploads.s3.ap-south-1.amazonaws.com/sandbox/';

export class SandboxStore {
  private projects = new Map<string, ProjectRecord>();
  private jobsById = new Map<string, JobRecord>();
  /** Job-create attempts rejected because the reference id was taken (FS_0001). */
  duplicateReferenceIdAttempts = 0;

  constructor(
    private readonly projectIds: readonly string[],
    readonly completionDelayMs: number,
    readonly completionSpreadMs = 0,
  ) {
    this.reset();
  }

  reset(): void {
    this.projects = new Map();
    this.jobsById = new Map();
    this.duplicateReferenceIdAttempts = 0;
    const now = Date.now();
    for (const projectId of this.projectIds) {
      const defaultBatch = makeBatch(projectId, { name: DEFAULT_BATCH_NAME, description: 'Default batch', label: '' }, true, now);
      this.projects.set(projectId, {
        projectId,
        defaultBatch,
        batchesById: new Map([[defaultBatch.batchId, defaultBatch]]),
        batchesByName: new Map([[defaultBatch.name, defaultBatch]]),
        jobsByReferenceId: new Map(),
      });
    }
  }

  project(projectId: string): ProjectRecord | undefined {
    return this.projects.get(projectId);
  }

  /** Returns undefined when the name is already taken in that project. */
  createBatch(project: ProjectRecord, input: NewBatch): BatchRecord | undefined {
    if (project.batchesByName.has(input.name)) return undefined;
    const batch = makeBatch(project.projectId, input, false, Date.now());
    project.batchesById.set(batch.batchId, batch);
    project.batchesByName.set(batch.name, batch);
    return batch;
  }

  /** The caller has checked that the reference id is free in project.jobsByReferenceId. */
  createJob(project: ProjectRecord, batch: BatchRecord, input: NewJob): JobRecord {
    const jobId = randomUUID();
    const createdAtMs = Date.now();
    const extras = input.extras ?? {};
    const job: JobRecord = {
      jobId,
      projectId: project.projectId,
      referenceId: input.referenceId,
      tag: input.tag,
      workFlowId: input.workFlowId,
      batchId: batch.batchId,
      priorityWeight: input.priorityWeight,
      frames: input.frames,
      createdAtMs,
      completesAtMs: createdAtMs + this.completionDelayMs + spreadShare(this.jobsById.size, this.completionSpreadMs),
      annotationCount: countAnnotations(jobId, input.frames, extras.maker_response),
      ...(extras.maker_response && { makerResponse: extras.maker_response }),
      ...(extras.reference_data && { referenceData: extras.reference_data }),
      ...(extras.metadata && { metadata: extras.metadata }),
    };
    this.jobsById.set(jobId, job);
    project.jobsByReferenceId.set(job.referenceId, job);
    batch.jobs.push(job);
    return job;
  }

  job(jobId: string): JobRecord | undefined {
    return this.jobsById.get(jobId);
  }

  allJobs(): JobRecord[] {
    return [...this.jobsById.values()];
  }

  jobCount(): number {
    return this.jobsById.size;
  }

  batchCount(): number {
    let total = 0;
    for (const project of this.projects.values()) total += project.batchesById.size;
    return total;
  }

  /** Completion is computed lazily from the creation time, so no per-job timers exist. */
  isCompleted(job: JobRecord, now: number): boolean {
    return now >= job.completesAtMs;
  }

  resultUrl(job: JobRecord): string {
    return `${RESULT_URL_BASE}${encodeURIComponent(job.projectId)}/${job.jobId}.json`;
  }

  /** Inverse of resultUrl; undefined for anything the sandbox did not hand out. */
  jobForResultUrl(url: string): JobRecord | undefined {
    if (!url.startsWith(RESULT_URL_BASE) || !url.endsWith('.json')) return undefined;
    const rest = url.slice(RESULT_URL_BASE.length, -'.json'.length).split('/');
    if (rest.length !== 2) return undefined;
    let projectId: string;
    try {
      projectId = decodeURIComponent(rest[0]);
    } catch {
      return undefined;
    }
    const job = this.jobsById.get(rest[1]);
    return job && job.projectId === projectId ? job : undefined;
  }
}

function makeBatch(projectId: string, input: NewBatch, isDefault: boolean, now: number): BatchRecord {
  return {
    batchId: randomUUID(),
    projectId,
    name: input.name,
    description: input.description,
    label: input.label,
    isDefault,
    createdAtMs: now,
    jobs: [],
  };
}

export function batchInfo(batch: BatchRecord): BatchInfo {
  return {
    batchId: batch.batchId,
    projectId: batch.projectId,
    name: batch.name,
    description: batch.description,
    label: batch.label,
    isDefault: batch.isDefault,
    createdAtMs: batch.createdAtMs,
    jobCount: batch.jobs.length,
  };
}

/**
 * The n-th job's share of the completion spread: the fractional part of n × the golden ratio
 * spreads any run of consecutive indexes evenly over [0, spread), deterministically.
 */
export function spreadShare(n: number, spreadMs: number): number {
  if (spreadMs <= 0) return 0;
  const golden = (Math.sqrt(5) - 1) / 2;
  return Math.floor(((n * golden) % 1) * spreadMs);
}
