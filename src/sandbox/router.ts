// Maps method + path to a named route by splitting the path into segments (no regexes per
// request). Segments are URL-decoded after splitting, so an encoded '/' stays inside its segment.
import type { ApiProfile, SandboxRouteName } from './types';

export interface ApiRouteMatch {
  kind: 'api';
  route: SandboxRouteName;
  profile: ApiProfile;
  projectId?: string;
  jobId?: string;
  batchId?: string;
}

export type ControlAction = 'add-fault' | 'clear-faults' | 'state' | 'reset';

export interface ControlRouteMatch {
  kind: 'control';
  action: ControlAction;
}

export type RouteResolution =
  | ApiRouteMatch
  | ControlRouteMatch
  | { kind: 'not-found' }
  | { kind: 'control-not-found' }
  | { kind: 'method-not-allowed'; route: SandboxRouteName | null; allow: string; control: boolean }
  | { kind: 'bad-path'; message: string };

const NOT_FOUND = { kind: 'not-found' } as const;

export function resolveRoute(method: string, pathname: string): RouteResolution {
  const parts = splitPath(pathname);
  if (parts === undefined) return { kind: 'bad-path', message: 'malformed percent-encoding in path' };
  if (parts[0] === '_sandbox') return resolveControl(method, parts);
  if (parts[0] === 'projectsvc') return resolveSdkJobCreation(method, parts);

  const version = parts[0];
  if (version !== 'v0' && version !== 'v1') return NOT_FOUND;

  if (parts.length === 2 && parts[1] === 'attachments') {
    return version === 'v1' ? api(method, 'GET', { kind: 'api', route: 'attachment', profile: 'v1' }) : NOT_FOUND;
  }
  if (parts.length < 4 || parts.length > 5) return NOT_FOUND;

  const [, collection, projectId, resource] = parts;
  const id = parts[4];
  if (projectId === '' || id === '') return NOT_FOUND;

  // The readme.io/SDK era created batches under the singular 'project' (and only on v1).
  if (collection === 'project') {
    if (version === 'v1' && resource === 'batch' && parts.length === 4) {
      return api(method, 'POST', { kind: 'api', route: 'batch.create', profile: 'v0', projectId });
    }
    return NOT_FOUND;
  }
  if (collection !== 'projects') return NOT_FOUND;

  switch (resource) {
    case 'jobs':
      return id === undefined
        ? api(method, 'POST', { kind: 'api', route: 'job.create', profile: version, projectId })
        : api(method, 'GET', { kind: 'api', route: 'job.get', profile: version, projectId, jobId: id });
    case 'batch':
      if (id !== undefined) {
        return api(method, 'GET', { kind: 'api', route: 'batch.jobs', profile: version, projectId, batchId: id });
      }
      return version === 'v1' ? api(method, 'POST', { kind: 'api', route: 'batch.create', profile: 'v1', projectId }) : NOT_FOUND;
    case 'details':
      return id === undefined ? api(method, 'GET', { kind: 'api', route: 'project.details', profile: version, projectId }) : NOT_FOUND;
    case 'stats':
      // The project summary exists only in the Python SDK, under v0.
      return id === undefined && version === 'v0'
        ? api(method, 'GET', { kind: 'api', route: 'project.stats', profile: version, projectId })
        : NOT_FOUND;
    default:
      return NOT_FOUND;
  }
}

/**
 * The Python SDK creates jobs at /projectsvc/projects/{id}/jobs (on another host in its config);
 * its bodies carry `tag`, so this is the v0 profile.
 */
function resolveSdkJobCreation(method: string, parts: string[]): RouteResolution {
  const [, collection, projectId, resource] = parts;
  if (parts.length !== 4 || collection !== 'projects' || projectId === '' || resource !== 'jobs') return NOT_FOUND;
  return api(method, 'POST', { kind: 'api', route: 'job.create', profile: 'v0', projectId });
}

function api(method: string, expected: string, match: ApiRouteMatch): RouteResolution {
  if (method === expected) return match;
  return { kind: 'method-not-allowed', route: match.route, allow: expected, control: false };
}

function resolveControl(method: string, parts: string[]): RouteResolution {
  if (parts.length !== 2) return { kind: 'control-not-found' };
  const notAllowed = (allow: string): RouteResolution => ({ kind: 'method-not-allowed', route: null, allow, control: true });
  switch (parts[1]) {
    case 'faults':
      if (method === 'POST') return { kind: 'control', action: 'add-fault' };
      if (method === 'DELETE') return { kind: 'control', action: 'clear-faults' };
      return notAllowed('POST, DELETE');
    case 'state':
      return method === 'GET' ? { kind: 'control', action: 'state' } : notAllowed('GET');
    case 'reset':
      return method === 'POST' ? { kind: 'control', action: 'reset' } : notAllowed('POST');
    default:
      return { kind: 'control-not-found' };
  }
}

/** '/v1/projects/p%20x/jobs/' → ['v1', 'projects', 'p x', 'jobs']; undefined on bad encoding. */
function splitPath(pathname: string): string[] | undefined {
  let trimmed = pathname.startsWith('/') ? pathname.slice(1) : pathname;
  if (trimmed.endsWith('/')) trimmed = trimmed.slice(0, -1);
  const parts = trimmed.split('/');
  for (let i = 0; i < parts.length; i++) {
    const segment = parts[i];
    if (!segment.includes('%')) continue;
    try {
      parts[i] = decodeURIComponent(segment);
    } catch {
      return undefined;
    }
  }
  return parts;
}
