/** The core `tls-config` config node a playment-config node selected, read as the client's TLS options. */
import type { ConnectionOptions } from 'node:tls';
import type { RED } from './red';

/** What the core node (05-tls.js) offers: its CA, certificate, key and checks as TLS options. */
interface TlsConfigNode {
  type: string;
  addTLSOptions(opts: Record<string, unknown>): void;
}

/**
 * The TLS options of the tls-config node with this id; undefined without an id. Throws when there
 * is no tls-config node of that id: a selected TLS configuration is never skipped.
 */
export function selectedTls(red: RED, tlsId: string | undefined): ConnectionOptions | undefined {
  if (!tlsId) return undefined;
  const node = red.nodes.getNode(tlsId) as unknown as TlsConfigNode | null;
  if (!node || node.type !== 'tls-config') throw new Error('the selected TLS configuration node does not exist');
  const opts: Record<string, unknown> = {};
  node.addTLSOptions(opts);
  return opts as ConnectionOptions;
}
