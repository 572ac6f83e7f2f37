/**
 * The editor's "Test connection" button: the runtime asks for the project's details with the
 * dialog's settings and answers one of a fixed set of results. Nothing in an answer comes from the
 * key, the environment or the request, so the route cannot be used to read either back.
 *
 * The rules that keep the key where it belongs:
 * - JSON bodies only (415 otherwise): an HTML form on another site can post urlencoded or
 *   text/plain bodies to the admin API without the user noticing, but not JSON.
 * - The stored key of a deployed config node goes only to the base URL that node was deployed
 *   with; testing another base URL needs the key typed in the dialog.
 * - A whole-value `${NAME}` (or `$(NAME)`) in the key, base URL or project id is replaced from the
 *   environment as the runtime does at deploy, for this one test only.
 * - The test takes the way the deployed node would (its http proxy and tls-config nodes, through
 *   the same dispatcher). With the stored key, the deployed node's own proxy and TLS nodes; the
 *   dialog's selection only with a typed key, and only deployed nodes of those types.
 */
import type { ConnectionOptions } from 'node:tls';
import { z } from 'zod';
import { PlaymentClient } from '../../api/client';
import { authFailure, isPlaymentError } from '../../api/errors';
import type { ProxySettings } from '../../api/dispatcher';
import { API_VERSIONS, type ApiVersion } from '../../api/profiles';
import { checkBaseUrl } from './base-url';
import { apiKeyProblem } from './api-key';
import { lookupConfig, type PlaymentConfigNode } from './config-node';
import { configPropertiesSchema } from './config-settings';
import { selectedProxy } from './http-proxy';
import { selectedTls } from './tls-config';
import type { RED } from './red';

export const CONNECTION_RESULTS = [
  'connected',
  'wrong_key',
  'unknown_project',
  'wrong_profile',
  'key_needed',
  'unreachable',
  'invalid',
] as const;
export type ConnectionResult = (typeof CONNECTION_RESULTS)[number];

export interface ConnectionAnswer {
  result: ConnectionResult;
  message: string;
  /** With `wrong_profile`: the API profile that answered. */
  useVersion?: ApiVersion;
}

/** Every message an answer can carry: fixed texts, so nothing from the request or the environment is echoed. */
const MESSAGES = {
  connected: 'connected: the key has access to the project',
  wrong_key: 'the API key was refused',
  unknown_project: 'the project was not found, or the key has no access to it',
  key_needed: 'the stored API key is only sent to the base URL the config node was deployed with: enter the key to test this base URL',
  unreachable: 'the API could not be reached, or did not answer as the Playment API does',
  noApiHere: 'no Playment API at this base URL: neither API profile knows the project details route',
  notJson: 'send the settings as a JSON body (Content-Type: application/json)',
  badRequest: 'the settings could not be read',
  baseUrl: 'the base URL must be an https URL without user name, query or fragment (plain http only for localhost, 127.0.0.0/8 and [::1])',
  projectId: 'a project id is required, and it cannot be . or ..',
  apiKey: 'an API key is required',
  apiKeyChars: 'the API key contains a line break, control character, space or non-ASCII character, which an HTTP header cannot carry',
  route: 'the proxy must be a deployed http proxy node with an http:// or https:// URL, the TLS configuration a deployed tls-config node',
} as const;

function wrongProfile(use: ApiVersion): ConnectionAnswer {
  const other = use === 'v0' ? 'v1' : 'v0';
  return {
    result: 'wrong_profile',
    message: `this base URL does not serve the ${other} API profile but serves ${use}: use ${use}`,
    useVersion: use,
  };
}

const invalid = (message: string): ConnectionAnswer => ({ result: 'invalid', message });

export interface ConnectionCheck {
  /** Normalised by checkBaseUrl. */
  baseUrl: string;
  apiVersion: ApiVersion;
  projectId: string;
  apiKey: string;
  /** A core http proxy node's proxy; without one, the proxy environment variables apply. */
  proxy?: ProxySettings;
  /** A core tls-config node's options. */
  tls?: ConnectionOptions;
}

/** What one request for the project's details said. `no_route`: this API profile has no such route (HTTP 404). */
type Probe = 'connected' | 'wrong_key' | 'unknown_project' | 'no_route' | 'unreachable';

async function probe(check: ConnectionCheck): Promise<Probe> {
  // The proxy and TLS options go to the client's own dispatcher, as the deployed node's do.
  const client = new PlaymentClient({ ...check, maxRetries: 0, timeoutMs: 10_000, connectTimeoutMs: 5_000, rateLimit: 0 });
  try {
    await client.projectDetails();
    return 'connected';
  } catch (err) {
    if (!isPlaymentError(err)) return 'unreachable';
    const refused = err.code === 'UNAUTHORIZED' ? authFailure(err.statusCode, err.apiCode) : undefined;
    if (refused === 'key') return 'wrong_key';
    // GE_0001: a project id Playment cannot parse.
    if (refused === 'access' || err.code === 'GE_0001') return 'unknown_project';
    if (err.statusCode === 404) return 'no_route';
    return 'unreachable';
  } finally {
    await client.close(0);
  }
}

/**
 * Asks for the project's details with the chosen API profile. A 404 means the profile's route does
 * not exist there (Playment refuses an unknown project with `unauthorized`, not 404), so the other
 * profile is tried on the same base URL: when that one connects, the answer says which to use.
 */
export async function checkConnection(check: ConnectionCheck): Promise<ConnectionAnswer> {
  const first = await probe(check);
  if (first !== 'no_route') return { result: first, message: MESSAGES[first] };
  const other: ApiVersion = check.apiVersion === 'v0' ? 'v1' : 'v0';
  const second = await probe({ ...check, apiVersion: other });
  if (second === 'connected') return wrongProfile(other);
  if (second === 'no_route') return { result: 'unreachable', message: MESSAGES.noApiHere };
  return { result: second, message: MESSAGES[second] };
}

const testRequestSchema = z.object({
  /** The config node's id: its stored key is used when the dialog's key field is untouched. */
  id: z.string().optional(),
  baseUrl: z.string(),
  apiVersion: z.enum(API_VERSIONS),
  projectId: z.string(),
  /** Absent, empty or Node-RED's placeholder `__PWRD__`: the stored key. */
  apiKey: z.string().optional(),
  /** Ids of the http proxy and tls-config nodes selected in the dialog: used with a typed key only. */
  proxy: z.string().optional(),
  tls: z.string().optional(),
});

/** The settings of one test, resolved; or the answer that ends it before anything is sent. */
export function settingsToTest(red: RED, body: unknown): ConnectionCheck | ConnectionAnswer {
  const parsed = testRequestSchema.safeParse(body);
  if (!parsed.success) return invalid(MESSAGES.badRequest);
  const request = parsed.data;
  const node = lookupConfig(red, request.id);
  const deployed = node?.type === 'playment-config' ? node : undefined;
  // Stryker disable next-line MethodExpression: the URL parser and the project id schema trim as well
  const resolve = (value: string) => fromEnvironment(red, deployed, value).trim();

  let baseUrl: string;
  try {
    baseUrl = checkBaseUrl(resolve(request.baseUrl));
  } catch {
    return invalid(MESSAGES.baseUrl);
  }
  // The config node's own rule: required, and not `.` or `..`.
  const project = configPropertiesSchema.shape.projectId.safeParse(resolve(request.projectId));
  if (!project.success) return invalid(MESSAGES.projectId);
  const projectId = project.data;

  const typedKey = request.apiKey && request.apiKey !== '__PWRD__' ? request.apiKey : '';
  if (typedKey) {
    const apiKey = fromEnvironment(red, deployed, typedKey);
    if (!apiKey) return invalid(MESSAGES.apiKey);
    // The same rule as the config node's; the answer says what is wrong, never where or with what.
    if (apiKeyProblem(apiKey)) return invalid(MESSAGES.apiKeyChars);
    const route = selectedRoute(red, request.proxy, request.tls);
    if (!route) return invalid(MESSAGES.route);
    return { baseUrl, apiVersion: request.apiVersion, projectId, apiKey, ...route };
  }

  const storedKey = deployed?.credentials?.apiKey;
  if (!deployed || !storedKey) return invalid(MESSAGES.apiKey);
  const definition = deployedDefinition(red, deployed);
  if (deployedBaseUrl(red, deployed, definition.baseUrl) !== baseUrl) return { result: 'key_needed', message: MESSAGES.key_needed };
  // The stored key takes only the deployed node's way: the dialog's proxy and TLS are not used.
  const route = selectedRoute(red, idOrUndefined(definition.proxy), idOrUndefined(definition.tls));
  if (!route) return invalid(MESSAGES.route);
  return { baseUrl, apiVersion: request.apiVersion, projectId, apiKey: storedKey, ...route };
}

/**
 * The proxy and TLS options of these http proxy and tls-config nodes, read by the same code as the
 * config node's; undefined when one is named but not usable. Never expanded from the environment.
 */
function selectedRoute(
  red: RED,
  proxyId: string | undefined,
  tlsId: string | undefined,
): Pick<ConnectionCheck, 'proxy' | 'tls'> | undefined {
  try {
    return { proxy: selectedProxy(red, proxyId), tls: selectedTls(red, tlsId) };
  } catch {
    return undefined;
  }
}

const idOrUndefined = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);

/** The properties a config node was deployed with (the flow's definition, not the dialog's). */
function deployedDefinition(red: RED, node: PlaymentConfigNode): Record<string, unknown> {
  let found: Record<string, unknown> = {};
  red.nodes.eachNode((def) => {
    if (def.id === node.id) found = def as unknown as Record<string, unknown>;
  });
  return found;
}

/** The base URL a deployed config node uses, normalised; undefined when it has none that works. */
function deployedBaseUrl(red: RED, node: PlaymentConfigNode, raw: unknown): string | undefined {
  const value = configPropertiesSchema.shape.baseUrl.safeParse(typeof raw === 'string' ? fromEnvironment(red, node, raw) : raw);
  if (!value.success) return undefined;
  try {
    return checkBaseUrl(value.data);
  } catch {
    return undefined;
  }
}

// The runtime's rule (flows/util.js, mapEnvVarProperties): only a whole value of this form is replaced.
const WHOLE_ENV_REFERENCE = /^\$\{(\S+)\}$|^\$\((\S+)\)$/;

/**
 * A value as the runtime would deploy it: `${NAME}` or `$(NAME)` as the whole value is replaced by
 * that setting (the node's flow and group env first, then the process environment minus
 * `envVarExcludes`); one that is not set leaves the value as it is. Never put into an answer.
 */
function fromEnvironment(red: RED, deployed: PlaymentConfigNode | undefined, value: string): string {
  const match = WHOLE_ENV_REFERENCE.exec(value);
  if (!match) return value;
  const name = match[1] ?? match[2];
  let setting: unknown;
  if (deployed) {
    setting = red.util.getSetting(deployed, name);
  } else {
    // A node not deployed yet has no flow: only the process environment applies.
    const excluded = (red.settings as unknown as { envVarExcludes?: unknown }).envVarExcludes;
    setting = Array.isArray(excluded) && excluded.includes(name) ? undefined : process.env[name];
  }
  return setting === undefined || setting === null ? value : String(setting);
}

/** Admin apps that have the route: each runtime (and each test load) has its own. */
const withRoute = new WeakSet<object>();

export function registerTestConnectionRoute(red: RED): void {
  if (withRoute.has(red.httpAdmin)) return;
  withRoute.add(red.httpAdmin);
  red.httpAdmin.post('/playment-config/test', red.auth.needsPermission('playment-config.write'), (req, res) => {
    // Forms can post urlencoded and text/plain bodies from any site; JSON needs this origin.
    if (req.is('application/json') !== 'application/json') {
      res.status(415).json(invalid(MESSAGES.notJson));
      return;
    }
    const settings = settingsToTest(red, req.body);
    if ('result' in settings) {
      res.json(settings);
      return;
    }
    checkConnection(settings)
      .then((answer) => res.json(answer))
      .catch(() => res.status(500).json({ result: 'unreachable', message: MESSAGES.unreachable }));
  });
}
