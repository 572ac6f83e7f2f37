/**
 * The "Ignore hosts" list of a core `http proxy` config node, matched as Node-RED's http request
 * node matches it (its proxy helper in strict mode), so one list means the same in both nodes.
 */

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * Whether `origin` is exempt from the proxy. Entries are split at commas and spaces and compared
 * without case: `*` exempts every host; `host` or `host:port` an exact host (on that port only,
 * with one); a leading `.` or `*` a suffix (`.example.com` and `*.example.com` match
 * `api.example.com`).
 */
export function bypassesProxy(noProxy: readonly string[], origin: URL): boolean {
  // URL.host keeps the brackets of an IPv6 address, as the list writes them.
  const hostname = origin.host.replace(/:\d*$/, '').toLowerCase();
  const port = Number.parseInt(origin.port, 10) || DEFAULT_PORTS[origin.protocol] || 0;
  const entries = noProxy.join(',').toLowerCase().split(/[,\s]/).filter(Boolean);
  return entries.some((entry) => {
    const withPort = /^(.+):(\d+)$/.exec(entry);
    const host = withPort ? withPort[1] : entry;
    const entryPort = withPort ? Number(withPort[2]) : 0;
    if (entryPort && entryPort !== port) return false;
    if (!/^[.*]/.test(host)) return hostname === host;
    return hostname.endsWith(host.startsWith('*') ? host.slice(1) : host);
  });
}
