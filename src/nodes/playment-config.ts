/** playment-config: base URL, API profile, project id and API key; owns the shared client. */
import type { ConnectionOptions } from 'node:tls';
import { PlaymentClient } from '../api/client';
import { PlaymentError } from '../api/errors';
import { closeResultPoller } from '../api/result-poller';
import { apiKeyProblem } from './common/api-key';
import { checkBaseUrl } from './common/base-url';
import { configPropertiesSchema } from './common/config-settings';
import { DEFAULT_CLOSE_GRACE_MS } from './common/action-node';
import { registerTestConnectionRoute } from './common/test-connection';
import type { PlaymentConfigNode } from './common/config-node';
import type { NodeDef, RED } from './common/red';

interface TlsConfigNode {
  addTLSOptions(opts: Record<string, unknown>): void;
}

export = function register(RED: RED): void {
  function PlaymentConfig(this: PlaymentConfigNode, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const node = this;
    const grace = Number((RED.settings as unknown as Record<string, unknown>).playmentConfigCloseGrace);
    node.closeGraceMs = Number.isFinite(grace) && grace >= 0 ? grace : DEFAULT_CLOSE_GRACE_MS;
    // Project and profile on their own: a dry run builds requests from them without a usable client.
    const project = configPropertiesSchema.shape.projectId.safeParse(def.projectId ?? '');
    node.projectId = project.success ? project.data : '';
    if (!project.success) node.projectIdProblem = `projectId: ${project.error.issues[0]?.message ?? 'not valid'}`;
    const profile = configPropertiesSchema.shape.apiVersion.safeParse(def.apiVersion);
    node.apiVersion = profile.success ? profile.data : undefined;
    try {
      const props = configPropertiesSchema.parse(def);
      const apiKey = node.credentials?.apiKey;
      if (!apiKey) throw new Error('the API key is missing (set it in the config node, or ${PLAYMENT_API_KEY} to read it from the environment)');
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
        tls: tlsOptions(RED, props.tls),
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
      client.close(node.closeGraceMs).catch(() => undefined).finally(done);
    });
  }

  RED.nodes.registerType('playment-config', PlaymentConfig as never, {
    credentials: { apiKey: { type: 'password' } },
  });
  registerTestConnectionRoute(RED);
};

function tlsOptions(RED: RED, tlsId: string | undefined): ConnectionOptions | undefined {
  if (!tlsId) return undefined;
  const tlsNode = RED.nodes.getNode(tlsId) as unknown as TlsConfigNode | null;
  if (!tlsNode) throw new Error('the selected TLS configuration node does not exist');
  const opts: Record<string, unknown> = {};
  tlsNode.addTLSOptions(opts);
  return opts as ConnectionOptions;
}

function describe(err: unknown): string {
  if (err && typeof err === 'object' && 'issues' in err) {
    const issue = (err as { issues: Array<{ path: PropertyKey[]; message: string }> }).issues[0];
    return `${issue.path.map(String).join('.')}: ${issue.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
