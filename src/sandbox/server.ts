// Local HTTP server that behaves like the Playment API (both the v0 and the v1 profile), plus a
// second "storage" listener for signed attachment URLs. Used by demos, tests and benchmarks.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleControl } from './control';
import type { AppliedFault } from './faults';
import { handleApiRequest, type ApiContext, type ApiRequest } from './handlers';
import { failure, readBody, writeReply, type Reply } from './reply';
import { redactHeaders } from './request-log';
import { resolveRoute, type ApiRouteMatch, type ControlRouteMatch, type RouteResolution } from './router';
import { SandboxRuntime, type MutableRecordedRequest } from './runtime';
import { createStorageHandler } from './storage';
import type { FaultSpec, Sandbox, SandboxOptions } from './types';

export type {
  ApiProfile,
  BatchInfo,
  FaultMode,
  FaultSpec,
  HeaderMap,
  JobRecord,
  RecordedRequest,
  RecordedStorageRequest,
  Sandbox,
  SandboxOptions,
  SandboxRoute,
  SandboxRouteName,
  SandboxState,
  VideoFrame,
} from './types';

export const DEFAULT_API_KEY = 'sandbox-key';
export const DEFAULT_PROJECT_ID = 'demo-project';

interface ResolvedOptions {
  host: string;
  port: number;
  apiKeys: string[];
  projectIds: string[];
  completionDelayMs: number;
  completionSpreadMs: number;
  rateLimitPerSecond: number;
  maxBodyBytes: number;
  workflows: string[] | undefined;
  checkUrls: boolean;
}

// Longer than typical client idle timeouts, so benchmark clients reuse connections.
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const options = resolveOptions(opts);
  const runtime = new SandboxRuntime(options);

  const storageServer = createServer(createStorageHandler({ store: runtime.store, signer: runtime.signer, log: runtime.storageLog }));
  const apiServer = createServer(createApiHandler(runtime, options));
  for (const server of [apiServer, storageServer]) {
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
  }

  const storagePort = await listen(storageServer, options.host, 0);
  let port: number;
  try {
    port = await listen(apiServer, options.host, options.port);
  } catch (error) {
    await closeServer(storageServer);
    throw error;
  }

  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  const storageUrl = `http://${hostInUrl}:${storagePort}`;
  runtime.signer.setStorageUrl(storageUrl);

  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostInUrl}:${port}`,
    port,
    storageUrl,
    state: runtime.createStateView(),
    injectFault: (fault: FaultSpec) => runtime.faults.add(fault),
    clearFaults: () => {
      runtime.faults.clear();
    },
    close: () => {
      closing ??= (async () => {
        runtime.dropHeld();
        await Promise.all([closeServer(apiServer), closeServer(storageServer)]);
      })();
      return closing;
    },
  };
}

function resolveOptions(opts: SandboxOptions): ResolvedOptions {
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be 0..65535, got ${port}`);
  const apiKeys = opts.apiKeys ?? [DEFAULT_API_KEY];
  if (apiKeys.length === 0 || apiKeys.some((k) => typeof k !== 'string' || k === '')) {
    throw new RangeError('apiKeys must be a non-empty list of non-empty strings');
  }
  const projectIds = opts.projectIds ?? [DEFAULT_PROJECT_ID];
  if (projectIds.length === 0 || projectIds.some((p) => typeof p !== 'string' || p === '')) {
    throw new RangeError('projectIds must be a non-empty list of non-empty strings');
  }
  const completionDelayMs = opts.completionDelayMs ?? 5000;
  if (!Number.isFinite(completionDelayMs) || completionDelayMs < 0) {
    throw new RangeError('completionDelayMs must be a non-negative number');
  }
  const completionSpreadMs = opts.completionSpreadMs ?? 0;
  if (!Number.isFinite(completionSpreadMs) || completionSpreadMs < 0) {
    throw new RangeError('completionSpreadMs must be a non-negative number');
  }
  const rateLimitPerSecond = opts.rateLimitPerSecond ?? 0;
  if (!Number.isInteger(rateLimitPerSecond) || rateLimitPerSecond < 0) {
    throw new RangeError('rateLimitPerSecond must be a non-negative integer');
  }
  const maxBodyBytes = opts.maxBodyBytes ?? 64 * 1024 * 1024;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) throw new RangeError('maxBodyBytes must be a positive integer');
  const workflows = opts.workflows;
  if (workflows !== undefined && (workflows.length === 0 || workflows.some((w) => typeof w !== 'string' || w.trim() === ''))) {
    throw new RangeError('workflows must be a non-empty list of non-empty strings');
  }
  return {
    host: opts.host ?? '127.0.0.1',
    port,
    apiKeys: [...apiKeys],
    projectIds: [...projectIds],
    completionDelayMs,
    completionSpreadMs,
    rateLimitPerSecond,
    maxBodyBytes,
    workflows: workflows ? [...workflows] : undefined,
    checkUrls: opts.checkUrls === true,
  };
}

function createApiHandler(runtime: SandboxRuntime, options: ResolvedOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const ctx: ApiContext = {
    store: runtime.store,
    apiKeys: runtime.apiKeys,
    signer: runtime.signer,
    workflows: runtime.workflows,
    reachability: runtime.reachability,
  };

  return (req, res) => {
    const rawUrl = req.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const path = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
    const query = queryStart === -1 ? '' : rawUrl.slice(queryStart + 1);
    const method = req.method ?? 'GET';
    const resolution = resolveRoute(method, path);

    // Control endpoints bypass auth, faults, rate limiting and the request counters.
    if (resolution.kind === 'control') {
      serveControl(runtime, resolution, req, res, options.maxBodyBytes);
      return;
    }
    if (resolution.kind === 'control-not-found' || (resolution.kind === 'method-not-allowed' && resolution.control)) {
      writeReply(res, routingFailure(resolution));
      return;
    }

    const route = resolution.kind === 'api' || resolution.kind === 'method-not-allowed' ? resolution.route : null;
    const record: MutableRecordedRequest = {
      method,
      path,
      route,
      status: 0,
      apiKeyPresent: req.headers['x-api-key'] !== undefined,
      headers: redactHeaders(req.headers),
      receivedAtMs: Date.now(),
    };
    runtime.requestCount++;
    if (route !== null) runtime.routeCounts[route]++;
    runtime.requestLog.push(record);

    const respond = (reply: Reply): void => {
      record.status = reply.status;
      if (reply.code !== undefined) record.errorCode = reply.code;
      writeReply(res, reply);
    };

    if (runtime.limiter && !runtime.limiter.tryAcquire(performance.now())) {
      respond(failure(429, 'rate_limited', 'Too many requests; retry after 1 second', { 'retry-after': '1' }));
      return;
    }
    if (resolution.kind !== 'api') {
      respond(routingFailure(resolution));
      return;
    }

    const fault = runtime.faults.take(resolution.route);
    if (fault) record.fault = fault.spec.mode;
    if (fault?.spec.mode === 'reset-before') {
      req.socket.destroy();
      return;
    }

    readBody(req, options.maxBodyBytes, (body) => {
      if (!body.ok) {
        if ('tooLarge' in body) respond(payloadTooLarge(options.maxBodyBytes));
        return;
      }
      const handle = (): void => {
        const result = safelyHandle(ctx, {
          match: resolution,
          apiKey: req.headers['x-api-key'],
          body: body.body,
          query,
          now: Date.now(),
        });
        if (!(result instanceof Promise)) {
          finish(result);
          return;
        }
        // Held while the job's URLs are checked: a reset or close in the meantime drops it.
        const held = { drop: () => req.socket.destroy() };
        runtime.held.add(held);
        void result.then((reply) => {
          if (runtime.held.delete(held)) finish(reply);
        });
      };
      const finish = (reply: Reply): void => {
        if (reply.jobId !== undefined) record.jobId = reply.jobId;
        if (fault?.spec.mode === 'reset-after') {
          // The work is done (a job or batch may be stored) but the client never learns it.
          req.socket.destroy();
          return;
        }
        if (fault?.spec.mode === 'delay-answer') {
          // The work is done; the answer comes late (after a client timeout, usually).
          holdFor(fault.spec.delayMs ?? 0, () => respond(reply));
          return;
        }
        if (fault?.spec.mode === 'truncated') {
          // The work is done; the client gets its status with a body it cannot read.
          respond(truncatedReply(reply, fault));
          return;
        }
        respond(reply);
      };
      /** Runs `then` after `ms`, unless a reset or close drops the request first. */
      const holdFor = (ms: number, then: () => void): void => {
        const held = {
          drop: () => {
            clearTimeout(timer);
            req.socket.destroy();
          },
        };
        const timer = setTimeout(() => {
          runtime.held.delete(held);
          then();
        }, ms);
        runtime.held.add(held);
      };
      if (!fault) {
        handle();
        return;
      }
      switch (fault.spec.mode) {
        case 'status':
          respond(injectedStatus(fault.spec));
          return;
        case 'malformed':
          respond(malformedReply(fault));
          return;
        case 'delay':
          holdFor(fault.spec.delayMs ?? 0, handle);
          return;
        default:
          handle();
      }
    });
  };
}

function serveControl(
  runtime: SandboxRuntime,
  resolution: ControlRouteMatch,
  req: IncomingMessage,
  res: ServerResponse,
  maxBodyBytes: number,
): void {
  readBody(req, maxBodyBytes, (body) => {
    if (body.ok) writeReply(res, handleControl(runtime, resolution.action, body.body));
    else if ('tooLarge' in body) writeReply(res, payloadTooLarge(maxBodyBytes));
  });
}

function routingFailure(resolution: Exclude<RouteResolution, ApiRouteMatch | ControlRouteMatch>): Reply {
  switch (resolution.kind) {
    case 'method-not-allowed':
      return failure(405, 'method_not_allowed', `Method not allowed; use ${resolution.allow}`, { allow: resolution.allow });
    case 'bad-path':
      return failure(400, 'GE_0001', resolution.message);
    default:
      return failure(404, 'not_found', 'No such route');
  }
}

/** A handler bug must answer 500 like a real server would, not take the sandbox down. */
function safelyHandle(ctx: ApiContext, request: ApiRequest): Reply | Promise<Reply> {
  try {
    const reply = handleApiRequest(ctx, request);
    return reply instanceof Promise ? reply.catch(internalError) : reply;
  } catch (error) {
    return internalError(error);
  }
}

function internalError(error: unknown): Reply {
  return failure(500, 'FS_0000', `Sandbox internal error: ${(error as Error).message}`);
}

function payloadTooLarge(maxBodyBytes: number): Reply {
  // The rest of the body is not read, so the connection cannot be reused.
  return failure(413, 'payload_too_large', `Request body exceeds ${maxBodyBytes} bytes`, { connection: 'close' });
}

function injectedStatus(spec: Readonly<FaultSpec>): Reply {
  const status = spec.status ?? 500;
  const headers = spec.retryAfter === undefined ? undefined : { 'retry-after': spec.retryAfter };
  return failure(status, status === 500 ? 'FS_0000' : 'api_error', `Sandbox injected fault: HTTP ${status}`, headers);
}

/** Alternates between an HTML proxy page and a truncated JSON body, both with status 200. */
function malformedReply(fault: AppliedFault): Reply {
  return fault.use % 2 === 0
    ? { status: 200, body: '<html>bad gateway</html>', contentType: 'text/html' }
    : { status: 200, body: '{"success":true,"data":{"job_id":"', contentType: 'application/json; charset=utf-8' };
}

/** The real answer cut in half (first use, third, ...) or emptied (second, fourth, ...). */
function truncatedReply(reply: Reply, fault: AppliedFault): Reply {
  const body = fault.use % 2 === 0 ? reply.body.slice(0, Math.floor(reply.body.length / 2)) : '';
  return { ...reply, body };
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    // Idle keep-alive sockets (and any in-flight request) would otherwise hold close() open.
    server.closeAllConnections();
  });
}
