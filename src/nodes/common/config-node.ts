/** What an action node needs from a playment-config node, and how it finds it. */
import { PlaymentError } from '../../api/errors';
import type { PlaymentClient } from '../../api/client';
import { PROFILES, type ApiVersion, type EndpointProfile } from '../../api/profiles';
import type { Node, RED } from './red';

export interface PlaymentConfigNode extends Node<{ apiKey?: string }> {
  /** Set when the configuration is usable. */
  client?: PlaymentClient;
  /** Why there is no client (missing key, refused base URL, …). */
  configError?: string;
  /** Trimmed; '' when missing or refused. */
  projectId: string;
  /** Why the project id was refused (missing, `.` or `..`). */
  projectIdProblem?: string;
  /** Set when the stored API profile is valid (also without a usable client). */
  apiVersion?: ApiVersion;
  /** How long in-flight requests may finish when a node closes. */
  closeGraceMs: number;
}

/** The config node with this id, if there is one. */
export function lookupConfig(red: RED, configId: string | undefined): PlaymentConfigNode | undefined {
  return configId ? ((red.nodes.getNode(configId) as PlaymentConfigNode | null) ?? undefined) : undefined;
}

/** The config node an action node selected: NOT_CONFIGURED without one. */
export function selectedConfig(red: RED, configId: string | undefined): PlaymentConfigNode {
  const config = lookupConfig(red, configId);
  if (!config) {
    throw new PlaymentError({ code: 'NOT_CONFIGURED', message: 'no playment-config node is selected in this node' });
  }
  return config;
}

function notUsable(reason: string): PlaymentError {
  return new PlaymentError({ code: 'NOT_CONFIGURED', message: `the playment-config node is not usable: ${reason}` });
}

/** The config node's client: NOT_CONFIGURED when it has none (no key, refused base URL, …). */
export function clientOf(config: PlaymentConfigNode): PlaymentClient {
  if (!config.client) throw notUsable(config.configError ?? 'unknown reason');
  return config.client;
}

/**
 * What a dry run builds its requests from: the project and the API profile, so it works without
 * an API key (or with a base URL that would be refused).
 */
export function dryRunTarget(config: PlaymentConfigNode): { projectId: string; profile: EndpointProfile } {
  if (!config.projectId) throw notUsable(config.projectIdProblem ?? 'a project id is required');
  if (!config.apiVersion) throw notUsable('the API profile is not valid');
  return { projectId: config.projectId, profile: PROFILES[config.apiVersion] };
}
