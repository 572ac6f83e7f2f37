// The "S3" side of attachment access: the API answers /v1/attachments with a redirect to a
// short-lived signed URL on this second listener, which serves the result file without an API key
// (as S3 would) and answers anything else with S3's AccessDenied.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RingLog, redactHeaders } from './request-log';
import type { SandboxStore } from './store';
import { buildVideoResult } from './synthetic-result';
import type { RecordedStorageRequest } from './types';

export const SIGNED_URL_TTL_SECONDS = 300;

interface Grant {
  projectId: string;
  jobId: string;
  expiresAtMs: number;
}

/** Signatures are random tokens remembered here; a URL is valid while its token is known and fresh. */
export class SignedUrlRegistry {
  private grants = new Map<string, Grant>();

  constructor(private storageUrl = '') {}

  setStorageUrl(url: string): void {
    this.storageUrl = url;
  }

  issue(projectId: string, jobId: string, now: number): string {
    if (this.grants.size >= 10_000) this.prune(now);
    const signature = randomBytes(32).toString('hex');
    this.grants.set(signature, { projectId, jobId, expiresAtMs: now + SIGNED_URL_TTL_SECONDS * 1000 });
    return (
      `${this.storageUrl}/signed/${encodeURIComponent(projectId)}/${jobId}.json` +
      `?X-Amz-Signature=${signature}&X-Amz-Expires=${SIGNED_URL_TTL_SECONDS}`
    );
  }

  isValid(signature: string, projectId: string, jobId: string, now: number): boolean {
    const grant = this.grants.get(signature);
    return grant !== undefined && grant.projectId === projectId && grant.jobId === jobId && grant.expiresAtMs > now;
  }

  clear(): void {
    this.grants.clear();
  }

  private prune(now: number): void {
    for (const [signature, grant] of this.grants) if (grant.expiresAtMs <= now) this.grants.delete(signature);
  }
}

export interface StorageDeps {
  store: SandboxStore;
  signer: SignedUrlRegistry;
  log: RingLog<RecordedStorageRequest>;
}

export function createStorageHandler(deps: StorageDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const now = Date.now();
    const url = req.url ?? '/';
    const body = resolveObject(deps, req.method ?? 'GET', url, now);
    const status = body === undefined ? 403 : 200;
    deps.log.push({
      method: req.method ?? '',
      url,
      status,
      apiKeyPresent: req.headers['x-api-key'] !== undefined,
      headers: redactHeaders(req.headers),
      receivedAtMs: now,
    });
    const payload = body ?? accessDenied();
    res.writeHead(status, {
      'content-type': body === undefined ? 'application/xml' : 'application/json',
      'content-length': Buffer.byteLength(payload),
    });
    res.end(req.method === 'HEAD' ? undefined : payload);
  };
}

/** The JSON body for a valid signed GET/HEAD, otherwise undefined (→ AccessDenied). */
function resolveObject(deps: StorageDeps, method: string, url: string, now: number): string | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  const segments = url.slice(0, q).split('/');
  // ['', 'signed', '<project>', '<job>.json']
  if (segments.length !== 4 || segments[0] !== '' || segments[1] !== 'signed' || !segments[3].endsWith('.json')) {
    return undefined;
  }
  let projectId: string;
  try {
    projectId = decodeURIComponent(segments[2]);
  } catch {
    return undefined;
  }
  const jobId = segments[3].slice(0, -'.json'.length);
  const signature = new URLSearchParams(url.slice(q + 1)).get('X-Amz-Signature') ?? '';
  if (!deps.signer.isValid(signature, projectId, jobId, now)) return undefined;
  const job = deps.store.job(jobId);
  if (!job || job.projectId !== projectId) return undefined;
  return JSON.stringify(buildVideoResult(job.jobId, job.frames, job.makerResponse));
}

function accessDenied(): string {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>${requestId}</RequestId></Error>`
  );
}
