// Optional reachability check of attachment URLs: a job whose http(s) URL names a host that does
// not resolve or does not accept a connection is refused with FS_0007, as Playment refuses an
// attachment it cannot fetch. Off by default, so tests and demos never depend on DNS or on the
// network. Bounded: one probe per host and port (its result cached for a minute), a few probes at
// once, each ending within a fixed time.
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';

export const PROBE_TIMEOUT_MS = 3000;
export const MAX_PARALLEL_PROBES = 4;
export const PROBE_RESULT_TTL_MS = 60_000;
const MAX_CACHED_TARGETS = 1000;

interface Target {
  /** 'host:port', the cache key. */
  key: string;
  hostname: string;
  port: number;
}

interface CachedProbe {
  /** undefined when the host answered, otherwise why it did not. */
  problem: Promise<string | undefined>;
  expiresAtMs: number;
}

export interface Unreachable {
  /** Index into the URLs given. */
  index: number;
  problem: string;
}

export class UrlReachability {
  private cache = new Map<string, CachedProbe>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  /** The first URL whose host does not resolve or answer; s3:// and gs:// URLs are not probed. */
  async firstUnreachable(urls: readonly string[]): Promise<Unreachable | undefined> {
    const targets = urls.map(targetOf);
    // Every distinct host is probed (in parallel, within the limit) before the first is awaited.
    const probes = targets.map((target) => (target ? this.probe(target) : undefined));
    for (let index = 0; index < probes.length; index++) {
      const problem = await probes[index];
      if (problem !== undefined) return { index, problem };
    }
    return undefined;
  }

  /** Forgets cached results (a sandbox reset). */
  clear(): void {
    this.cache = new Map();
  }

  private probe(target: Target): Promise<string | undefined> {
    const now = Date.now();
    const cached = this.cache.get(target.key);
    if (cached && cached.expiresAtMs > now) return cached.problem;
    if (this.cache.size >= MAX_CACHED_TARGETS) this.cache.clear();
    const problem = this.limited(() => probeTarget(target));
    this.cache.set(target.key, { problem, expiresAtMs: now + PROBE_RESULT_TTL_MS });
    return problem;
  }

  private async limited<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= MAX_PARALLEL_PROBES) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

function targetOf(url: string): Target | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  const hostname = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
  return { key: `${parsed.hostname}:${port}`, hostname, port };
}

/** Resolves the host, then opens (and closes) a TCP connection, all within PROBE_TIMEOUT_MS. */
function probeTarget(target: Target): Promise<string | undefined> {
  const { hostname, port } = target;
  // RFC 6761: names under .invalid never resolve, so no query is sent for them.
  if (hostname === 'invalid' || hostname.endsWith('.invalid') || hostname.endsWith('.invalid.')) {
    return Promise.resolve(`host "${hostname}" does not resolve`);
  }
  return new Promise((resolve) => {
    let done = false;
    let socket: ReturnType<typeof connect> | undefined;
    const finish = (problem: string | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket?.destroy();
      resolve(problem);
    };
    const timer = setTimeout(finish, PROBE_TIMEOUT_MS, `host "${hostname}" did not answer on port ${port} within ${PROBE_TIMEOUT_MS} ms`);
    lookup(hostname).then(
      ({ address }) => {
        if (done) return;
        socket = connect({ host: address, port });
        socket.once('connect', () => finish(undefined));
        socket.once('error', (error: NodeJS.ErrnoException) =>
          finish(`host "${hostname}" did not answer on port ${port} (${error.code ?? error.message})`),
        );
      },
      () => finish(`host "${hostname}" does not resolve`),
    );
  });
}
