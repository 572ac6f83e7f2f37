/**
 * A real Node-RED runtime in this process, embedded through its public API (RED.init, RED.start,
 * runtime.flows.setFlows, RED.nodes.getNode, RED.stop): no test helper, so nothing records the
 * status/send/log calls that are being measured. Its user directory is a temporary one whose
 * nodesDir loads our nodes from the source and the `bench-sink` node type; the core nodes a
 * hand-written flow would use (function, http request, catch) come with Node-RED.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setSinks, type Sink } from './sink-node';
import { TAG } from './workload';

export type { Sink };

const ROOT = path.resolve(__dirname, '..', '..');
const OUR_NODE_TYPES = ['playment-config', 'playment-submit-video-job', 'playment-job-result'];

// Node-RED ships no types.
const RED: any = require('node-red');

let userDir: string | undefined;
let started = false;

/** A user directory whose nodesDir holds a file per node type that requires its source. */
function prepareUserDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'playment-bench-'));
  const nodesDir = path.join(dir, 'nodes');
  mkdirSync(nodesDir);
  // Node-RED reads the user directory's package.json for the modules installed there.
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'playment-bench', private: true }));
  const stub = (file: string, source: string, member = '') =>
    writeFileSync(path.join(nodesDir, file), `module.exports = require(${JSON.stringify(source)})${member};\n`);
  for (const type of OUR_NODE_TYPES) {
    stub(`${type}.js`, path.join(ROOT, 'src', 'nodes', `${type}.ts`));
    copyFileSync(path.join(ROOT, 'nodes', `${type}.html`), path.join(nodesDir, `${type}.html`));
  }
  symlinkSync(path.join(ROOT, 'nodes', 'locales'), path.join(nodesDir, 'locales'), 'dir');
  stub('bench-sink.js', require.resolve('./sink-node'), '.benchSinkNodes');
  // Node-RED registers a node file only with its editor template.
  writeFileSync(path.join(nodesDir, 'bench-sink.html'), '<script type="text/html" data-template-name="bench-sink"></script>\n');
  return dir;
}

/** A throwaway credential secret, and no credentials encrypted with it (as Node-RED stores them). */
const CREDENTIAL_SECRET = randomBytes(16).toString('hex');
function noCredentials(): { $: string } {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(CREDENTIAL_SECRET).digest(), iv);
  return { $: iv.toString('hex') + cipher.update('{}', 'utf8', 'base64') + cipher.final('base64') };
}

/** Node-RED's storage interface, in memory; the bench uses no library, projects or sessions. */
function memoryStorage(): Record<string, (...args: any[]) => Promise<unknown>> {
  let flows: unknown[] = [];
  // Stored encrypted from the start: plain or missing credentials make Node-RED warn at start.
  let credentials: unknown = noCredentials();
  let settings: unknown = {};
  return {
    init: async () => undefined,
    getFlows: async () => flows,
    saveFlows: async (f: unknown[]) => void (flows = f),
    getCredentials: async () => credentials,
    saveCredentials: async (c: unknown) => void (credentials = c),
    getSettings: async () => settings,
    saveSettings: async (s: unknown) => void (settings = s),
    getLibraryEntry: async () => [],
    saveLibraryEntry: async () => undefined,
  };
}

export async function startRuntime(): Promise<void> {
  if (started) return;
  // Node-RED can be initialised once per process (RED.stop() ends it for good).
  if (userDir) throw new Error('Node-RED was already stopped in this process');
  userDir = prepareUserDir();
  RED.init({
    userDir,
    nodesDir: path.join(userDir, 'nodes'),
    // Flows and credentials stay in memory, nothing written to disk.
    storageModule: memoryStorage(),
    credentialSecret: CREDENTIAL_SECRET,
    // No editor, Admin API or HTTP endpoints: the bench deploys through the runtime API.
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    logging: { console: { level: 'warn', metrics: false, audit: false } },
  });
  // RED.start() answers before the (empty) flows have started; a deploy must come after.
  const flowsStarted = new Promise((resolve) => RED.events.once('flows:started', resolve));
  await RED.start();
  await flowsStarted;
  started = true;
}

export async function stopRuntime(): Promise<void> {
  if (!started) return;
  await RED.stop();
  started = false;
  if (userDir) rmSync(userDir, { recursive: true, force: true });
}

/**
 * Full deploy, as the editor's Deploy button does; resolves once the new flows have started
 * (setFlows answers once the old ones have stopped, maybe before the new ones have started).
 */
async function deploy(flows: any[], credentials: Record<string, unknown>): Promise<void> {
  const startedRevisions = new Set<string>();
  let awaited: { rev: string; resolve(): void } | undefined;
  const onStarted = (e: { config: { rev: string } }) => {
    startedRevisions.add(e.config.rev);
    if (e.config.rev === awaited?.rev) awaited.resolve();
  };
  RED.events.on('flows:started', onStarted);
  try {
    const { rev } = await RED.runtime.flows.setFlows({ flows: { flows, credentials }, deploymentType: 'full' });
    if (!startedRevisions.has(rev)) await new Promise<void>((resolve) => (awaited = { rev, resolve }));
  } finally {
    RED.events.removeListener('flows:started', onStarted);
  }
}

/**
 * Loads a tab: the given nodes (x, y, z filled in), a Catch node wired to the 'caught' sink and
 * one sink node per id in `sinks`. Returns a function that injects into a node by id.
 */
export async function loadFlow(
  nodes: any[],
  sinks: Record<string, Sink>,
  credentials: Record<string, unknown> = {},
): Promise<{ inject(id: string, msg: any): void; node(id: string): any }> {
  const flow = [
    { id: 'tab', type: 'tab', label: 'bench' },
    ...nodes.map((n) => (n.type === 'playment-config' ? { z: 'tab', ...n } : { z: 'tab', x: 0, y: 0, ...n })),
    { id: 'catch', type: 'catch', z: 'tab', x: 0, y: 0, scope: null, uncaught: false, wires: [['caught']] },
    ...['caught', ...Object.keys(sinks).filter((id) => id !== 'caught')].map((id) => ({ id, type: 'bench-sink', z: 'tab', x: 0, y: 0 })),
  ];
  setSinks(sinks);
  await deploy(flow, credentials);
  return {
    inject: (id, msg) => RED.nodes.getNode(id).receive(msg),
    node: (id) => RED.nodes.getNode(id),
  };
}

/** Stops the flow: every node closes (ours end their queued messages with ABORTED). */
export async function unloadFlow(): Promise<void> {
  await deploy([], {});
  setSinks({});
}

/** The submit node under test, 'ours', using the config node 'cfg' and wired to the 'out' sink. */
export const SUBMIT_NODE = { id: 'ours', type: 'playment-submit-video-job', config: 'cfg', tag: TAG, tagType: 'str', wires: [['out']] };

/** The config node as stored in flows.json. */
export function configNodeDef(baseUrl: string, projectId: string, opts: Record<string, unknown>): any {
  return { id: 'cfg', type: 'playment-config', baseUrl, apiVersion: 'v0', projectId, maxRetries: 2, ...opts };
}
