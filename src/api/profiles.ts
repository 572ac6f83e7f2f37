/** The two path layouts Playment has documented (see the API reference, section 2). */
import { invalidInput } from './errors';

export const API_VERSIONS = ['v0', 'v1'] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];

/** Route names: also what the sandbox and the status texts call each endpoint. */
export const ROUTE_NAMES = ['job.create', 'batch.create', 'job.get', 'batch.jobs', 'project.details', 'attachment'] as const;
export type RouteName = (typeof ROUTE_NAMES)[number];

export interface EndpointProfile {
  createJob(projectId: string): string;
  createBatch(projectId: string): string;
  getJob(projectId: string, jobId: string): string;
  batchJobs(projectId: string, batchId: string, pageToken?: string): string;
  projectDetails(projectId: string): string;
}

/**
 * One id as one path segment. Encoding keeps `/`, `?` and `#` inside the segment, but `.` and
 * `..` pass through it unchanged and a URL parser then resolves them (`jobs/..` names the
 * project), so they are refused, as is an empty id.
 */
export function pathSegment(id: string, what = 'id'): string {
  const encoded = encodeURIComponent(id);
  if (encoded === '' || encoded === '.' || encoded === '..') {
    throw invalidInput(`${what} ${JSON.stringify(id)} cannot be used in a request path: it is empty, "." or ".."`);
  }
  return encoded;
}

function profile(version: ApiVersion, batchCreatePrefix: string): EndpointProfile {
  const project = (id: string) => `/${version}/projects/${pathSegment(id, 'project id')}`;
  return {
    createJob: (p) => `${project(p)}/jobs`,
    createBatch: (p) => `${batchCreatePrefix}/${pathSegment(p, 'project id')}/batch`,
    getJob: (p, j) => `${project(p)}/jobs/${pathSegment(j, 'job id')}`,
    batchJobs: (p, b, token) =>
      `${project(p)}/batch/${pathSegment(b, 'batch id')}` + (token ? `?page_token=${encodeURIComponent(token)}` : ''),
    projectDetails: (p) => `${project(p)}/details`,
  };
}

/** The create-job request as sent (and as a dry run shows it). */
export function jobCreateRequest<B>(profile: EndpointProfile, projectId: string, body: B): { method: 'POST'; path: string; body: B } {
  return { method: 'POST', path: profile.createJob(projectId), body };
}

export const PROFILES: Record<ApiVersion, EndpointProfile> = {
  // The job-creation document users hold: jobs under /v0, batch creation under the singular /v1/project.
  v0: profile('v0', '/v1/project'),
  // The current documents: everything under /v1/projects.
  v1: profile('v1', '/v1/projects'),
};
