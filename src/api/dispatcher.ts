/** The keep-alive undici dispatcher a config node owns: proxies from the environment, TLS options. */
import { Agent, Dispatcher, EnvHttpProxyAgent } from 'undici';
import type { ConnectionOptions } from 'node:tls';
import { isLoopbackHost } from '../nodes/common/base-url';

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
  const direct = new Agent(common);
  if (!PROXY_VARIABLES.some((name) => process.env[name])) return direct;
  // EnvHttpProxyAgent reads HTTP_PROXY / HTTPS_PROXY / NO_PROXY; its NO_PROXY matching knows no
  // address ranges, so loopback is routed around it here.
  return new LoopbackDirect(direct, new EnvHttpProxyAgent({ ...common, requestTls: connect } as EnvHttpProxyAgent.Options));
}

/**
 * Sends requests to loopback hosts straight to them and everything else through the proxy
 * dispatcher: a proxy must never see a plain-http request to this machine (it carries the key).
 */
class LoopbackDirect extends Dispatcher {
  constructor(
    private readonly direct: Dispatcher,
    private readonly proxied: Dispatcher,
  ) {
    super();
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const { hostname } = new URL(String(options.origin));
    return (isLoopbackHost(hostname) ? this.direct : this.proxied).dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const closed = Promise.all([this.direct.close(), this.proxied.close()]).then(() => undefined);
    if (!callback) return closed;
    void closed.then(callback, callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(errOrCallback?: Error | null | (() => void), maybeCallback?: () => void): Promise<void> | void {
    const err = typeof errOrCallback === 'function' ? null : (errOrCallback ?? null);
    const callback = typeof errOrCallback === 'function' ? errOrCallback : maybeCallback;
    const destroyed = Promise.all([this.direct.destroy(err), this.proxied.destroy(err)]).then(() => undefined);
    if (!callback) return destroyed;
    void destroyed.then(callback, callback);
  }
}
