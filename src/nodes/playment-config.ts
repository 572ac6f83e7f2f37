/** playment-config: base URL, API profile, project id and API key; owns the shared client. */
import { PlaymentClient } from '../api/client';
import { PlaymentError } from '../api/errors';
import { closeResultPoller } from '../api/result-poller';
import { apiKeyProblem } from './common/api-key';
import { checkBaseUrl } from './common/base-url';
import { configPropertiesSchema } from './common/config-settings';
import { selectedProxy } from './common/http-proxy';
import { selectedTls } from './common/tls-config';
import { DEFAULT_CLOSE_GRACE_MS } from './common/action-node';
import { migrate } from './common/migrations';
import { registerTestConnectionRoute } from './common/test-connection';
import type { PlaymentConfigNode } from './common/config-node';
import type { NodeDef, RED } from './common/red';

const TYPE = 'playment-config';

export = function register(RED: RED): void {
  const closeGraceMs = closeGraceSetting(RED);
  function PlaymentConfig(this: PlaymentConfigNode, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    // After createNode, which reads properties the runtime keeps on the original (not enumerable).
    def = migrate(TYPE, def);
    const node = this;
    node.closeGraceMs = closeGraceMs;
    // Project and profile on their own: a dry run builds requests from them without a usable client.
    const project = configPropertiesSchema.shape.projectId.safeParse(def.projectId ?? '');
    node.projectId = project.success ? project.data : '';
    if (!project.success) node.projectIdProblem = `projectId: ${project.error.issues[0]?.message ?? 'not valid'}`;
    const profile = configPropertiesSchema.shape.apiVersion.safeParse(def.apiVersion);
    node.apiVersion = profile.success ? profile.data : undefined;
    try {
      const props = configPropertiesSchema.parse(def);
      const apiKey = node.credentials?.apiKey;
      if (!apiKey)
        throw new Error('the API key is missing (set it in the config node, or ${PLAYMENT_API_KEY} to read it from the environment)');
      const keyProblem = apiKeyProblem(apiKey);
      if (keyProblem) throw new Error(keyProblem);
      node.client = new PlaymentClient({
        baseUrl: checkBaseUrl(props.baseUrl),
        apiVersion: props.apiVersion,
        projectId: props.projectId,
        apiKey,
        timeoutMs: props.requestTimeout * 1000,
        connectTimeoutMs: props.connectTimeout * 1000,
        maxRetries: props.maxRetries,
        rateLimit: props.rateLimit,
        maxConcurrent: props.maxConcurrent,
        maxQueue: props.maxQueue,
        tls: selectedTls(RED, props.tls),
        proxy: selectedProxy(RED, props.proxy),
        // The runtime's log at debug and trace level (settings.js logging.console.level).
        logger: { debug: (text) => node.debug(text), trace: (text) => node.trace(text) },
      });
    } catch (err) {
      node.configError = describe(err);
      node.warn(`playment-config: ${node.configError}`);
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      const client = node.client;
      node.client = undefined;
      if (!client) return done();
      closeResultPoller(client, new PlaymentError({ code: 'ABORTED', message: 'the Playment config node was closed' }));
      client
        .close(node.closeGraceMs)
        .catch(() => undefined)
        .finally(done);
    });
  }

  RED.nodes.registerType(TYPE, PlaymentConfig as never, {
    credentials: { apiKey: { type: 'password' } },
    // Runtime settings (settings.js). Node-RED uses `value` only for the editor's copy of the
    // settings; RED.settings holds what settings.js sets, so closeGraceSetting applies the default.
    // Not exportable: the editor has no use for it.
    settings: { playmentConfigCloseGrace: { value: DEFAULT_CLOSE_GRACE_MS, exportable: false } },
  });
  registerTestConnectionRoute(RED);
};

/**
 * `playmentConfigCloseGrace` from settings.js: the milliseconds requests in flight get to finish
 * when a config node closes. Unset means the default; a value that is not a number from 0 is
 * reported once and the default used.
 */
function closeGraceSetting(RED: RED): number {
  const value = RED.settings.playmentConfigCloseGrace;
  if (value === undefined || value === null) return DEFAULT_CLOSE_GRACE_MS;
  const ms = typeof value === 'number' || (typeof value === 'string' && value.trim() !== '') ? Number(value) : NaN;
  if (Number.isFinite(ms) && ms >= 0) return ms;
  RED.log.warn(
    `playment-config: settings.js playmentConfigCloseGrace must be a number of milliseconds from 0, got ${String(value).slice(0, 40)}: ` +
      `using ${DEFAULT_CLOSE_GRACE_MS} ms`,
  );
  return DEFAULT_CLOSE_GRACE_MS;
}

function describe(err: unknown): string {
  if (err && typeof err === 'object' && 'issues' in err) {
    const issue = (err as { issues: Array<{ path: PropertyKey[]; message: string }> }).issues[0];
    return `${issue.path.map(String).join('.')}: ${issue.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
