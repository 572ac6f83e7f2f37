/** Which base URLs a config node accepts: https anywhere, plain http only on this machine. */

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]', '::1']);

/**
 * Loopback hosts: `localhost`, 127.0.0.0/8 and ::1, as a WHATWG URL gives its hostname. Names under
 * `.localhost` are not loopback here: Node.js resolves them through DNS like any other name, so
 * the key could leave the machine unencrypted. The editor (playment-config.html) applies the same rule.
 */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/** Returns the normalised base URL, or throws an Error saying what is wrong with it. */
export function checkBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`base URL ${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`base URL must use https, not ${url.protocol.slice(0, -1)}`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new Error(
      'base URL must use https: plain http would send the API key unencrypted (allowed only for the loopback hosts localhost, 127.0.0.0/8 and [::1])',
    );
  }
  if (url.username || url.password) throw new Error('base URL must not contain a user name or password');
  if (url.search || url.hash) throw new Error('base URL must not contain a query string or fragment');
  return url.origin + url.pathname.replace(/\/+$/, '');
}
