/** What an action node needs from a playment-config node, and how it finds it. */
import { PlaymentError } from '../../api/errors';
import type { PlaymentClient } from '../../api/client';
import { PROFILES, type ApiVersion } from '../../api/profiles';
import type { VideoJobBody } from '../../jobs/job-body';
import type { Node, RED } from './red';

export interface PlaymentConfigNode extends Node<{ apiKey?: string }> {
  /** Set when the configuration is usable. */
  client?: PlaymentClient;
  /** Why there is no client (missing key, refused base URL, …). */
  configError?: string;
  /** Trimmed; '' when missing. */
  projectId: string;
  /** Set when the stored API profile is valid (also without a usable client). */
  apiVersion?: ApiVersion;
  /** How long in-flight requests may finish when a node closes. */
  closeGraceMs: number;
}

/** What building a job request needs: the project and the API profile, not the key or the base URL. */
export interface JobRequestTarget {
  readonly projectId: string;
  createJobRequest(body: VideoJobBody): { method: 'POST'; path: string; body: VideoJobBody };
}

function findConfig(red: RED, configId: string | undefined): PlaymentConfigNode {
  const config = configId ? (red.nodes.getNode(configId) as PlaymentConfigNode | null) : null;
  if (!config) {
    throw new PlaymentError({ code: 'NOT_CONFIGURED', message: 'no playment-config node is selected in this node' });
  }
  return config;
}

export function getClient(red: RED, configId: string | undefined): { client: PlaymentClient; config: PlaymentConfigNode } {
  const config = findConfig(red, configId);
  if (!config.client) {
    throw new PlaymentError({ code: 'NOT_CONFIGURED', message: `the playment-config node is not usable: ${config.configError ?? 'unknown reason'}` });
  }
  return { client: config.client, config };
}

/**
 * The request a job would be sent with, for dry runs: needs the config node's project id and API
 * profile only, so it works without an API key (or with a base URL that would be refused).
 */
export function getJobRequestTarget(red: RED, configId: string | undefined): JobRequestTarget {
  const config = findConfig(red, configId);
  const { projectId, apiVersion } = config;
  if (!projectId || !apiVersion) {
    const what = !projectId ? 'a project id is required' : 'the API profile is not valid';
    throw new PlaymentError({ code: 'NOT_CONFIGURED', message: `the playment-config node is not usable: ${what}` });
  }
  const profile = PROFILES[apiVersion];
  return {
    projectId,
    createJobRequest: (body) => ({ method: 'POST', path: profile.createJob(projectId), body }),
  };
}

/** The API key of a config node, for redaction only. */
export function apiKeyOf(red: RED, configId: string | undefined): string | undefined {
  const config = configId ? (red.nodes.getNode(configId) as PlaymentConfigNode | null) : null;
  return config?.credentials?.apiKey;
}
