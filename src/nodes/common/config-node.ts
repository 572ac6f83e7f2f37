/** What an action node needs from a playment-config node, and how it finds it. */
import { PlaymentError } from '../../api/errors';
import type { PlaymentClient } from '../../api/client';
import type { Node, RED } from './red';

export interface PlaymentConfigNode extends Node<{ apiKey?: string }> {
  /** Set when the configuration is usable. */
  client?: PlaymentClient;
  /** Why there is no client (missing key, refused base URL, …). */
  configError?: string;
  projectId: string;
  /** How long in-flight requests may finish when a node closes. */
  closeGraceMs: number;
}

export function getClient(red: RED, configId: string | undefined): { client: PlaymentClient; config: PlaymentConfigNode } {
  const config = configId ? (red.nodes.getNode(configId) as PlaymentConfigNode | null) : null;
  if (!config) {
    throw new PlaymentError({ code: 'NOT_CONFIGURED', message: 'no playment-config node is selected in this node' });
  }
  if (!config.client) {
    throw new PlaymentError({ code: 'NOT_CONFIGURED', message: `the playment-config node is not usable: ${config.configError ?? 'unknown reason'}` });
  }
  return { client: config.client, config };
}

/** The API key of a config node, for redaction only. */
export function apiKeyOf(red: RED, configId: string | undefined): string | undefined {
  const config = configId ? (red.nodes.getNode(configId) as PlaymentConfigNode | null) : null;
  return config?.credentials?.apiKey;
}
