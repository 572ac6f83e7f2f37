// Playment API route handlers. Each takes the matched route plus the already-read body and
// returns a Reply (a promise of one when a job's URLs are checked for reachability); nothing here
// touches sockets, which keeps fault injection in one place.
import { clip, failure, redirect, success, type Reply } from './reply';
import type { ApiRouteMatch } from './router';
import type { SignedUrlRegistry } from './storage';
import type { BatchRecord, ProjectRecord, SandboxStore } from './store';
import type { ApiProfile, JobRecord } from './types';
import type { UrlReachability } from './url-check';
import { isUuid, parseJsonObject, validateBatchInput, validateJobInput, type JobInput } from './validate';

export interface ApiContext {
  store: SandboxStore;
  apiKeys: ReadonlySet<string>;
  signer: SignedUrlRegistry;
  /** Known tags / work-flow ids; undefined = any. */
  workflows: ReadonlySet<string> | undefined;
  /** Set when attachment URLs are checked for reachability. */
  reachability: UrlReachability | undefined;
}

export interface ApiRequest {
  match: ApiRouteMatch;
  apiKey: string | string[] | undefined;
  body: Buffer;
  /** Raw query string without the leading '?'. */
  query: string;
  now: number;
}

export const PAGE_SIZE = 100;
const VIEWER_URL_BASE = 'https://app.playment.io/projects/';
const PROJECT_BASE = 'VIDEO';

export function handleApiRequest(ctx: ApiContext, req: ApiRequest): Reply | Promise<Reply> {
  if (typeof req.apiKey !== 'string' || !ctx.apiKeys.has(req.apiKey)) {
    return failure(401, 'auth-failure', 'Invalid or missing x-api-key');
  }
  const { match } = req;
  if (match.route === 'attachment') return getAttachment(ctx, req);

  const projectId = match.projectId ?? '';
  const project = ctx.store.project(projectId);
  if (!project) return failure(403, 'unauthorized', `API key has no access to project ${clip(projectId)}`);

  switch (match.route) {
    case 'job.create':
      return createJob(ctx, project, req);
    case 'batch.create':
      return createBatch(ctx, project, req);
    case 'job.get':
      return getJob(ctx, project, req);
    case 'batch.jobs':
      return listBatchJobs(ctx, project, req);
    case 'project.details':
      return projectDetails(ctx, project, req.now);
    case 'project.stats':
      return projectStats(ctx, project, req.now);
  }
}

function createJob(ctx: ApiContext, project: ProjectRecord, req: ApiRequest): Reply | Promise<Reply> {
  const body = parseJsonObject(req.body);
  if (!body.ok) return failure(400, body.code, body.message);
  const input = validateJobInput(body.value, ctx.workflows);
  if (!input.ok) return failure(400, input.code, input.message);
  const job = input.value;

  let batch: BatchRecord | undefined = project.defaultBatch;
  if (job.batchId !== undefined) {
    batch = project.batchesById.get(job.batchId);
    if (!batch) return failure(400, 'GE_0001', `batch_id ${job.batchId} not found in project ${clip(project.projectId)}`);
  }
  if (!ctx.reachability) return storeJob(ctx, project, batch, job, req.match.profile);
  const target = batch;
  return ctx.reachability.firstUnreachable(job.attachments.map((a) => a.url)).then((unreachable) => {
    if (unreachable) {
      const { where } = job.attachments[unreachable.index];
      return failure(400, 'FS_0007', `${where}: attachment could not be accessed: ${unreachable.problem}`);
    }
    // A reset while the URLs were checked replaced the project: this request belongs to the old state.
    if (ctx.store.project(project.projectId) !== project) return failure(503, 'FS_0000', 'the sandbox was reset during this request');
    return storeJob(ctx, project, target, job, req.match.profile);
  });
}

function storeJob(ctx: ApiContext, project: ProjectRecord, batch: BatchRecord, job: JobInput, profile: ApiProfile): Reply {
  // Checked last (and right before storing), so only otherwise-valid jobs ever conflict.
  if (project.jobsByReferenceId.has(job.referenceId)) {
    ctx.store.duplicateReferenceIdAttempts++;
    return failure(400, 'FS_0001', `reference_id ${clip(job.referenceId)} already exists in project ${clip(project.projectId)}`);
  }

  const stored = ctx.store.createJob(project, batch, job);
  const reply = success({
    job_id: stored.jobId,
    reference_id: stored.referenceId,
    ...createdRoutingFields(stored, profile),
  });
  return { ...reply, jobId: stored.jobId };
}

// tag (v0) and work_flow_id (v1) both name the workflow; TELUS documents tag == workflow id, so
// when only one was sent it stands in for the other where a profile's field must be present.
const tagOf = (job: JobRecord): string => job.tag ?? job.workFlowId ?? '';
const workFlowIdOf = (job: JobRecord): string => job.workFlowId ?? job.tag ?? '';

/** Create response: the profile's own field always, the other one when the client sent it. */
function createdRoutingFields(job: JobRecord, profile: ApiProfile): Record<string, string> {
  if (profile === 'v0') return job.workFlowId === undefined ? { tag: tagOf(job) } : { tag: tagOf(job), work_flow_id: job.workFlowId };
  return job.tag === undefined ? { work_flow_id: workFlowIdOf(job) } : { work_flow_id: workFlowIdOf(job), tag: job.tag };
}

/** Job result: tag always (RM); work_flow_id on v1 (TELUS adds it) or when the client sent it. */
function resultRoutingFields(job: JobRecord, profile: ApiProfile): Record<string, string> {
  if (profile === 'v0' && job.workFlowId === undefined) return { tag: tagOf(job) };
  return { tag: tagOf(job), work_flow_id: workFlowIdOf(job) };
}

function createBatch(ctx: ApiContext, project: ProjectRecord, req: ApiRequest): Reply {
  const body = parseJsonObject(req.body);
  if (!body.ok) return failure(400, body.code, body.message);
  const input = validateBatchInput(body.value);
  if (!input.ok) return failure(400, input.code, input.message);
  if (input.value.projectId !== undefined && input.value.projectId !== project.projectId) {
    return failure(400, 'GE_0001', `project_id ${clip(input.value.projectId)} does not match the project in the path`);
  }
  const batch = ctx.store.createBatch(project, input.value);
  if (!batch) {
    // Same wording Playment surfaces (a Postgres unique-constraint violation).
    return failure(400, 'BATCH_CREATION', 'pq: duplicate key value violates unique constraint "batches_project_id_name_unique"');
  }
  return success({ batch_id: batch.batchId });
}

function getJob(ctx: ApiContext, project: ProjectRecord, req: ApiRequest): Reply {
  const jobId = req.match.jobId ?? '';
  if (!isUuid(jobId)) return failure(400, 'GE_0001', `job_id ${clip(jobId)} is not a valid UUID`);
  const job = ctx.store.job(jobId.toLowerCase());
  if (!job || job.projectId !== project.projectId) return failure(400, 'FS_0006', `job not found: ${jobId}`);
  const completed = ctx.store.isCompleted(job, req.now);
  return success({
    project_id: job.projectId,
    job_id: job.jobId,
    reference_id: job.referenceId,
    batch_id: job.batchId,
    status: completed ? 'completed' : 'created',
    ...resultRoutingFields(job, req.match.profile),
    priority_weight: job.priorityWeight,
    result: completed ? ctx.store.resultUrl(job) : '',
  });
}

function listBatchJobs(ctx: ApiContext, project: ProjectRecord, req: ApiRequest): Reply {
  const batchId = req.match.batchId ?? '';
  const batch = isUuid(batchId) ? project.batchesById.get(batchId.toLowerCase()) : undefined;
  if (!batch) return failure(400, 'GE_0001', `batch_id ${clip(batchId)} is not a valid batch of project ${clip(project.projectId)}`);

  const token = req.query === '' ? '' : (new URLSearchParams(req.query).get('page_token') ?? '').trim();
  const offset = token === '' ? 0 : decodePageToken(token, batch);
  if (offset === undefined) return failure(400, 'invalid_request_error', 'page_token is invalid');

  const end = Math.min(offset + PAGE_SIZE, batch.jobs.length);
  const jobs = [];
  for (let i = offset; i < end; i++) {
    const job = batch.jobs[i];
    const completed = ctx.store.isCompleted(job, req.now);
    jobs.push({
      id: job.jobId,
      reference_id: job.referenceId,
      status: completed ? 'completed' : 'created',
      frames: job.frames.length,
      annotations: completed ? job.annotationCount : 0,
      priority_weight: job.priorityWeight,
      tag: tagOf(job),
      viewer_url: `${VIEWER_URL_BASE}${encodeURIComponent(job.projectId)}/jobs/${job.jobId}`,
    });
  }
  return success({
    id: batch.batchId,
    project_id: project.projectId,
    name: batch.name,
    jobs,
    next_page_token: end < batch.jobs.length ? encodePageToken(batch, end) : '',
  });
}

// Opaque tokens: base64url of "<batch id>:<offset>". Binding the batch id makes a token from
// another batch invalid, and the offset must be one the sandbox could have issued.
function encodePageToken(batch: BatchRecord, offset: number): string {
  return Buffer.from(`${batch.batchId}:${offset}`).toString('base64url');
}

function decodePageToken(token: string, batch: BatchRecord): number | undefined {
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  // Node's base64 decoder skips junk characters, so insist on an exact round trip.
  if (Buffer.from(decoded).toString('base64url') !== token) return undefined;
  const separator = decoded.lastIndexOf(':');
  if (separator === -1 || decoded.slice(0, separator) !== batch.batchId) return undefined;
  const offsetText = decoded.slice(separator + 1);
  const offset = Number(offsetText);
  if (offsetText === '' || !Number.isInteger(offset) || String(offset) !== offsetText) return undefined;
  if (offset <= 0 || offset % PAGE_SIZE !== 0 || offset >= batch.jobs.length) return undefined;
  return offset;
}

interface BatchSummary {
  id: string;
  name: string;
  description: string;
  is_default: boolean;
  total_jobs: number;
  completed_jobs: number;
  total_frames: number;
  completed_frames: number;
  annotations: number;
  created_at: string;
  status: 'Inactive' | 'Active' | 'Complete';
}

function batchSummaries(ctx: ApiContext, project: ProjectRecord, now: number): BatchSummary[] {
  return [...project.batchesById.values()].map((batch) => {
    let completedJobs = 0;
    let totalFrames = 0;
    let completedFrames = 0;
    let annotations = 0;
    for (const job of batch.jobs) {
      totalFrames += job.frames.length;
      if (!ctx.store.isCompleted(job, now)) continue;
      completedJobs++;
      completedFrames += job.frames.length;
      annotations += job.annotationCount;
    }
    const totalJobs = batch.jobs.length;
    return {
      id: batch.batchId,
      name: batch.name,
      description: batch.description,
      is_default: batch.isDefault,
      total_jobs: totalJobs,
      completed_jobs: completedJobs,
      total_frames: totalFrames,
      completed_frames: completedFrames,
      annotations,
      created_at: new Date(batch.createdAtMs).toISOString(),
      status: totalJobs === 0 ? 'Inactive' : completedJobs === totalJobs ? 'Complete' : 'Active',
    };
  });
}

function projectDetails(ctx: ApiContext, project: ProjectRecord, now: number): Reply {
  return success({ name: project.projectId, base: PROJECT_BASE, batches: batchSummaries(ctx, project, now) });
}

/** The Python SDK's project summary: the batch figures added up (fields of its ProjectSummary). */
function projectStats(ctx: ApiContext, project: ProjectRecord, now: number): Reply {
  const stats = {
    name: project.projectId,
    base: PROJECT_BASE,
    total_batches: 0,
    completed_batches: 0,
    total_jobs: 0,
    completed_jobs: 0,
    total_frames: 0,
    completed_frames: 0,
    annotations: 0,
  };
  for (const batch of batchSummaries(ctx, project, now)) {
    stats.total_batches++;
    if (batch.status === 'Complete') stats.completed_batches++;
    stats.total_jobs += batch.total_jobs;
    stats.completed_jobs += batch.completed_jobs;
    stats.total_frames += batch.total_frames;
    stats.completed_frames += batch.completed_frames;
    stats.annotations += batch.annotations;
  }
  return success(stats);
}

function getAttachment(ctx: ApiContext, req: ApiRequest): Reply {
  const url = req.query === '' ? null : new URLSearchParams(req.query).get('url');
  if (url === null || url === '') return failure(400, 'GE_0002', 'query parameter url is missing');
  const job = ctx.store.jobForResultUrl(url);
  // A result file exists only once the job has completed.
  if (!job || !ctx.store.isCompleted(job, req.now)) return failure(400, 'GE_0001', `unknown attachment url: ${clip(url)}`);
  return redirect(ctx.signer.issue(job.projectId, job.jobId, req.now));
}
