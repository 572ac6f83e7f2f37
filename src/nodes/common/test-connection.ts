/**
 * The editor's "Test connection" button: the runtime calls project details with the entered (or
 * stored) settings and answers one word. The key itself never goes back to the browser.
 */
import { PlaymentClient } from '../../api/client';
import { isPlaymentError } from '../../api/errors';
import { API_VERSIONS, type ApiVersion } from '../../api/profiles';
import { checkBaseUrl } from './base-url';
import type { RED } from './red';

export type ConnectionResult = 'connected' | 'wrong_key' | 'unknown_project' | 'unreachable' | 'invalid';

export interface ConnectionCheck {
  baseUrl: string;
  apiVersion: ApiVersion;
  projectId: string;
  apiKey: string;
}

export async function checkConnection(check: ConnectionCheck): Promise<{ result: ConnectionResult; message: string }> {
  let baseUrl: string;
  try {
    baseUrl = checkBaseUrl(check.baseUrl);
  } catch (err) {
    return { result: 'invalid', message: (err as Error).message };
  }
  if (!check.projectId) return { result: 'invalid', message: 'a project id is required' };
  if (!check.apiKey) return { result: 'invalid', message: 'an API key is required' };
  const client = new PlaymentClient({
    ...check,
    baseUrl,
    maxRetries: 0,
    timeoutMs: 10_000,
    connectTimeoutMs: 5_000,
    rateLimit: 0,
  });
  try {
    const details = await client.projectDetails();
    return { result: 'connected', message: details.name ? `project "${details.name}"` : 'connected' };
  } catch (err) {
    if (!isPlaymentError(err)) return { result: 'unreachable', message: 'unexpected failure' };
    if (err.statusCode === 401) return { result: 'wrong_key', message: 'the API key was refused' };
    if (err.statusCode === 403 || err.statusCode === 404 || err.code === 'GE_0001') {
      return { result: 'unknown_project', message: `no access to project ${check.projectId}` };
    }
    if (err.code === 'NETWORK' || err.code === 'TIMEOUT') return { result: 'unreachable', message: err.message };
    return { result: 'unreachable', message: `${err.code}${err.statusCode ? ` (HTTP ${err.statusCode})` : ''}` };
  } finally {
    await client.close(0);
  }
}

let registered = false;

export function registerTestConnectionRoute(red: RED): void {
  if (registered) return;
  registered = true;
  red.httpAdmin.post('/playment-config/test', red.auth.needsPermission('playment-config.write'), (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const id = typeof body.id === 'string' ? body.id : '';
    const typedKey = typeof body.apiKey === 'string' && body.apiKey !== '__PWRD__' ? body.apiKey : '';
    const stored = id ? (red.nodes.getCredentials(id) as { apiKey?: string } | undefined) : undefined;
    const version = API_VERSIONS.includes(body.apiVersion as ApiVersion) ? (body.apiVersion as ApiVersion) : 'v0';
    checkConnection({
      baseUrl: String(body.baseUrl ?? ''),
      apiVersion: version,
      projectId: String(body.projectId ?? '').trim(),
      apiKey: fromEnvironment(typedKey || stored?.apiKey || ''),
    })
      .then((answer) => res.json(answer))
      .catch(() => res.status(500).json({ result: 'unreachable', message: 'internal error' }));
  });
}

/** Node-RED replaces a credential that is exactly `${NAME}` from the environment; do the same here. */
function fromEnvironment(key: string): string {
  const match = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(key.trim());
  return match ? (process.env[match[1]] ?? '') : key;
}
