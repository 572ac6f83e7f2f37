/**
 * A real HTTP proxy on 127.0.0.1 that records what reaches it, and an https host name only it
 * knows: a CONNECT to `api.example.test:443` is answered by the proxy itself, which speaks TLS
 * with the certificate below and passes the decrypted bytes to a local server (the sandbox).
 * Any other CONNECT is refused (403), any plain request answered 502: nothing leaves the machine.
 */
import { createServer, type Server } from 'node:http';
import { connect as connectTcp, type AddressInfo, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

export const PROXIED_HOST = 'api.example.test';

/**
 * Self-signed for `api.example.test` (subjectAltName), valid 2020–2120: a tls-config node with
 * this as its CA trusts the proxy's TLS end. A test key: it protects nothing.
 */
export const PROXIED_HOST_CERT = `-----BEGIN CERTIFICATE-----
MIIBdjCCARygAwIBAgIBATAKBggqhkjOPQQDAjAbMRkwFwYDVQQDDBBhcGkuZXhh
bXBsZS50ZXN0MCAXDTIwMDEwMTAwMDAwMFoYDzIxMjAwMTAxMDAwMDAwWjAbMRkw
FwYDVQQDDBBhcGkuZXhhbXBsZS50ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcD
QgAE+C5DISyF9wo52JBZPR29LR0MWkLc524gCcDAWvP20eF/XO9SmhyQYlllID98
OnyKHUQhL7uFwpHcuEMkLtDwW6NPME0wGwYDVR0RBBQwEoIQYXBpLmV4YW1wbGUu
dGVzdDAPBgNVHRMBAf8EBTADAQH/MB0GA1UdDgQWBBRow9wLg9u+A8xLaBHr5Ju/
xRwqODAKBggqhkjOPQQDAgNIADBFAiBnG4EI/17TtiMO+AtX6RYQR5mqRAIiLg5/
44WIByH/vwIhAIF/6DWWVf4t08GWSBvaL37LUih4B6UqRUFCwik84Ec5
-----END CERTIFICATE-----
`;

const PROXIED_HOST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVDF8YTRWXifq0N4t
C4UdBCeL1TyV8sU8oO47RPt69m2hRANCAAT4LkMhLIX3CjnYkFk9Hb0tHQxaQtzn
biAJwMBa8/bR4X9c71KaHJBiWWUgP3w6fIodRCEvu4XCkdy4QyQu0PBb
-----END PRIVATE KEY-----
`;

export interface ProxyRecord {
  /** `CONNECT host:port`, or the method and absolute URL of a plain request. */
  line: string;
  proxyAuthorization?: string;
}

export interface RecordingProxy {
  /** http://127.0.0.1:port */
  url: string;
  /** Everything that reached the proxy, oldest first. */
  records: ProxyRecord[];
  /** Port of the local server a CONNECT to api.example.test:443 reaches; unset: refused. */
  tunnelToPort?: number;
  /** When set, requests without exactly this Proxy-Authorization are answered 407. */
  requireAuthorization?: string;
  close(): Promise<void>;
}

export async function startRecordingProxy(): Promise<RecordingProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    proxy.records.push({ line: `${req.method} ${req.url}`, proxyAuthorization: req.headers['proxy-authorization'] });
    req.resume();
    res.writeHead(502).end();
  });
  server.on('connect', (req, socket: Socket, head: Buffer) => {
    proxy.records.push({ line: `CONNECT ${req.url}`, proxyAuthorization: req.headers['proxy-authorization'] });
    socket.on('error', () => undefined);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (proxy.requireAuthorization !== undefined && req.headers['proxy-authorization'] !== proxy.requireAuthorization) {
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    if (req.url !== `${PROXIED_HOST}:443` || proxy.tunnelToPort === undefined) {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const upstream = connectTcp(proxy.tunnelToPort, '127.0.0.1');
    upstream.on('error', () => socket.destroy());
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    const tls = new TLSSocket(socket, { isServer: true, key: PROXIED_HOST_KEY, cert: PROXIED_HOST_CERT });
    tls.on('error', () => upstream.destroy());
    tls.pipe(upstream).pipe(tls);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  const proxy: RecordingProxy = {
    url: `http://127.0.0.1:${port}`,
    records: [],
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}

/** The Proxy-Authorization value for these credentials. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** The proxy variables undici's EnvHttpProxyAgent reads, both spellings. */
export const PROXY_VARIABLES = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'];

/**
 * Replaces every proxy variable of this process's environment with `values` (the others unset) and
 * returns the function that puts the previous environment back.
 */
export function replaceProxyEnvironment(values: Record<string, string> = {}): () => void {
  const saved = PROXY_VARIABLES.map((name) => [name, process.env[name]] as const);
  for (const name of PROXY_VARIABLES) delete process.env[name];
  Object.assign(process.env, values);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
