/** The two path layouts Playment has documented (see the API reference, section 2). */

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

const seg = encodeURIComponent;

function profile(version: ApiVersion, batchCreatePrefix: string): EndpointProfile {
  const project = (id: string) => `/${version}/projects/${seg(id)}`;
  return {
    createJob: (p) => `${project(p)}/jobs`,
    createBatch: (p) => `${batchCreatePrefix}/${seg(p)}/batch`,
    getJob: (p, j) => `${project(p)}/jobs/${seg(j)}`,
    batchJobs: (p, b, token) =>
      `${project(p)}/batch/${seg(b)}` + (token ? `?page_token=${seg(token)}` : ''),
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
