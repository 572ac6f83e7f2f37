/** A local HTTP server on 127.0.0.1 for one describe block, and API clients closed after each test. */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PlaymentClient, type ClientOptions } from '../../src/api/client';

export interface LocalServer {
  server: Server;
  /** `http://127.0.0.1:<port>`, set once the server listens. */
  baseUrl: string;
}

/** Starts `listener` on 127.0.0.1 port 0 before the block's tests and closes it after them. */
export function useLocalServer(listener: RequestListener): LocalServer {
  const local: LocalServer = { server: createServer(listener), baseUrl: '' };
  before(async () => {
    await new Promise<void>((resolve) => local.server.listen(0, '127.0.0.1', resolve));
    local.baseUrl = `http://127.0.0.1:${(local.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    local.server.closeAllConnections();
    await new Promise((resolve) => local.server.close(resolve));
  });
  return local;
}

/** Makes clients from `defaults` (read when each is made) and closes every one after each test. */
export function useClients(defaults: () => ClientOptions): (opts?: Partial<ClientOptions>) => PlaymentClient {
  const clients: PlaymentClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close(0)));
  });
  return (opts = {}) => {
    const c = new PlaymentClient({ ...defaults(), ...opts });
    clients.push(c);
    return c;
  };
}
