/** The keep-alive undici dispatcher a config node owns: proxies from the environment, TLS options. */
import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici';
import type { ConnectionOptions } from 'node:tls';

export interface DispatcherOptions {
  connectTimeoutMs: number;
  /** From a core tls-config node: ca, cert, key, passphrase, rejectUnauthorized. */
  tls?: ConnectionOptions;
  maxConnections?: number;
}

const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'];

export function createDispatcher(opts: DispatcherOptions): Dispatcher {
  const connect = { timeout: opts.connectTimeoutMs, ...(opts.tls ?? {}) };
  const common = { keepAliveTimeout: 30_000, connections: opts.maxConnections ?? null, connect };
  // EnvHttpProxyAgent reads HTTP_PROXY / HTTPS_PROXY / NO_PROXY; a plain Agent when none is set.
  if (PROXY_VARIABLES.some((name) => process.env[name])) {
    return new EnvHttpProxyAgent({ ...common, requestTls: connect } as EnvHttpProxyAgent.Options);
  }
  return new Agent(common);
}
