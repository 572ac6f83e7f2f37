/**
 * A hostile API on 127.0.0.1: every request is answered with Playment's error envelope whose
 * message quotes the x-api-key it was sent, so tests can check that the key is redacted.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KeyEchoApi {
  url: string;
  close(): Promise<void>;
}

/** `message(key)` is the error text; the answer is HTTP 400 with `code`. */
export async function startKeyEchoApi(code: string, message: (key: string) => string): Promise<KeyEchoApi> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const key = String(req.headers['x-api-key'] ?? req.headers.authorization ?? '');
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ success: false, error: { code, message: message(key) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
