/**
 * The keep-alive undici dispatcher a config node owns: a proxy (a core http proxy node's, else the
 * environment's), TLS options.
 */
import { Agent, Dispatcher, EnvHttpProxyAgent, ProxyAgent } from 'undici';
import type { ConnectionOptions } from 'node:tls';
import { isLoopbackHost } from '../nodes/common/base-url';
import { bypassesProxy } from './no-proxy';

/** From a core `http proxy` config node. */
export interface ProxySettings {
  /** http:// or https:// URL of the proxy. */
  url: string;
  /** Hosts that go direct ("Ignore hosts"), matched as in no-proxy.ts. */
  noProxy: readonly string[];
  /** Sent as Proxy-Authorization (Basic) when either is set. */
  username?: string;
  password?: string;
}

export interface DispatcherOptions {
  connectTimeoutMs: number;
  /** From a core tls-config node: ca, cert, key, passphrase, rejectUnauthorized. */
  tls?: ConnectionOptions;
  maxConnections?: number;
  /** Wins over HTTP_PROXY / HTTPS_PROXY / NO_PROXY. */
  proxy?: ProxySettings;
}

const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'];

export function createDispatcher(opts: DispatcherOptions): Dispatcher {
  const connect = { timeout: opts.connectTimeoutMs, ...(opts.tls ?? {}) };
  const common = { keepAliveTimeout: 30_000, connections: opts.maxConnections ?? null, connect };
  // TLS options are for the API's host; the connection to the proxy only gets the timeout.
  const throughProxy = { ...common, requestTls: connect, proxyTls: { timeout: opts.connectTimeoutMs } };
  const direct = new Agent(common);
  const { proxy } = opts;
  if (proxy) {
    const proxied = new ProxyAgent({ ...throughProxy, uri: proxy.url, token: proxyAuthorization(proxy) });
    return new ProxyBypass(direct, proxied, (origin) => isLoopbackHost(origin.hostname) || bypassesProxy(proxy.noProxy, origin));
  }
  if (!PROXY_VARIABLES.some((name) => process.env[name])) return direct;
  // EnvHttpProxyAgent reads HTTP_PROXY / HTTPS_PROXY / NO_PROXY; its NO_PROXY matching knows no
  // address ranges, so loopback is routed around it here.
  const proxied = new EnvHttpProxyAgent(throughProxy as EnvHttpProxyAgent.Options);
  return new ProxyBypass(direct, proxied, (origin) => isLoopbackHost(origin.hostname));
}

/** As Node-RED's http request node sends a proxy node's credentials: Basic, when either is set. */
function proxyAuthorization({ username = '', password = '' }: ProxySettings): string | undefined {
  if (!username && !password) return undefined;
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/**
 * Sends requests to the origins `goesDirect` names straight to them and everything else through
 * the proxy dispatcher. Loopback hosts are always among them: a proxy must never see a plain-http
 * request to this machine (it carries the key).
 */
class ProxyBypass extends Dispatcher {
  constructor(
    private readonly direct: Dispatcher,
    private readonly proxied: Dispatcher,
    private readonly goesDirect: (origin: URL) => boolean,
  ) {
    super();
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return (this.goesDirect(new URL(String(options.origin))) ? this.direct : this.proxied).dispatch(options, handler);
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
