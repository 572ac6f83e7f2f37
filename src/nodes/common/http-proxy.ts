/** The core `http proxy` config node a playment-config node selected, read as the client's proxy. */
import type { ProxySettings } from '../../api/dispatcher';
import type { RED } from './red';

/** What the core node (06-httpproxy.js) keeps: `url`, `noproxy` and the credentials. */
interface HttpProxyNode {
  type: string;
  url?: unknown;
  noproxy?: unknown;
  credentials?: { username?: string; password?: string };
}

const UNTICK = 'select another, or untick "Use proxy"';

/**
 * The proxy of the http proxy node with this id; undefined without an id. Throws an Error naming
 * the setting when the node is gone or its URL is not http(s): a selected proxy is never skipped.
 * The URL is not quoted: it can hold a user name and password.
 */
export function selectedProxy(red: RED, proxyId: string | undefined): ProxySettings | undefined {
  if (!proxyId) return undefined;
  const node = red.nodes.getNode(proxyId) as unknown as HttpProxyNode | null;
  if (!node || node.type !== 'http proxy') throw new Error(`proxy: the selected http proxy configuration node does not exist (${UNTICK})`);
  const url = typeof node.url === 'string' ? node.url.trim() : '';
  if (!isHttpUrl(url))
    throw new Error(`proxy: the URL of the selected http proxy configuration node is not an http:// or https:// URL (${UNTICK})`);
  const noProxy = Array.isArray(node.noproxy) ? node.noproxy.filter((host): host is string => typeof host === 'string') : [];
  return { url, noProxy, username: node.credentials?.username, password: node.credentials?.password };
}

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
