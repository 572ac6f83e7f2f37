/**
 * A genuine restart, for the waits and watches that outlive one: a Node-RED process that runs our
 * nodes from the source, with a persistent context store (localfilesystem) in its user directory,
 * stopped with SIGINT and started again on the same directory. The test helper cannot show this:
 * it never loads the context stores of its settings, so a stopping node's context is dropped.
 *
 * The deployed flow: an inject node `start` wired to the node under test (`n1`), whose outputs a
 * recorder writes as JSON lines to a file in the directory; a log handler writes the errors.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Sandbox } from '../../src/sandbox/server';
import { API_KEY, PROJECT } from './harness';
import { startNodeRed, type NodeRedProcess } from './node-red-process';
import { ROOT } from './npm';
import { waitFor } from './wait';

const NODE_TYPES = ['playment-config', 'playment-create-batch', 'playment-submit-video-job', 'playment-job-result'];

/** A message node `n1` sent, as the recorder wrote it. */
export interface Recorded {
  topic?: string;
  payload?: any;
}

/** An error Node-RED logged for a node (a stopping node's errors reach no Catch node). */
export interface LoggedError {
  node: string;
  code?: string;
  message: string;
}

export interface RestartableNodeRed {
  /** Full deploy of the flow around `node` (its id becomes `n1`). */
  deploy(node: Record<string, unknown>): Promise<void>;
  /** Clicks the inject node, as the editor does, with these message properties (strings). */
  inject(props: Record<string, string>): Promise<void>;
  /** SIGINT, as Ctrl-C or a service manager stops Node-RED; resolves once the process exited. */
  stop(): Promise<void>;
  /** Starts Node-RED again on the same user directory: the same flows, the same context store. */
  start(): Promise<void>;
  /** Every message `n1` sent so far, over every run, in order. */
  records(): Recorded[];
  /** Every error logged so far, over every run, in order. */
  errors(): LoggedError[];
  /** Everything Node-RED printed, over every run. */
  output(): string;
  /** Stops Node-RED and deletes the user directory. */
  close(): Promise<void>;
}

/** A user directory whose nodesDir holds our nodes: a file per node that loads its source. */
function prepareUserDir(): string {
  const userDir = mkdtempSync(path.join(tmpdir(), 'playment-restart-'));
  const nodesDir = path.join(userDir, 'nodes');
  mkdirSync(nodesDir);
  for (const type of NODE_TYPES) {
    writeFileSync(
      path.join(nodesDir, `${type}.js`),
      `module.exports = require(${JSON.stringify(path.join(ROOT, 'src', 'nodes', `${type}.ts`))});\n`,
    );
    copyFileSync(path.join(ROOT, 'nodes', `${type}.html`), path.join(nodesDir, `${type}.html`));
  }
  symlinkSync(path.join(ROOT, 'nodes', 'locales'), path.join(nodesDir, 'locales'), 'dir');
  return userDir;
}

export async function startRestartableNodeRed(sandbox: Sandbox): Promise<RestartableNodeRed> {
  const userDir = prepareUserDir();
  const recordFile = path.join(userDir, 'records.jsonl');
  // The child loads the nodes' TypeScript source as this process does.
  const nodeOptions = [process.env.NODE_OPTIONS, `--import ${pathToFileURL(require.resolve('tsx')).href}`].filter(Boolean).join(' ');
  const errorFile = path.join(userDir, 'errors.jsonl');
  // Errors go to a file with their code, which the console log line leaves out.
  const settingsScript = `
Object.assign(module.exports, ${JSON.stringify({ nodesDir: path.join(userDir, 'nodes'), contextStorage: { default: { module: 'localfilesystem' } } })});
module.exports.logging.errors = {
  level: 'error', metrics: false, audit: false,
  handler: () => (m) => require('fs').appendFileSync(${JSON.stringify(errorFile)},
    JSON.stringify({ node: m.id, code: m.msg && m.msg.code, message: String(m.msg && m.msg.message || m.msg) }) + '\\n'),
};`;
  let nr: NodeRedProcess | undefined;
  let printed = '';
  const start = async () => {
    nr = await startNodeRed({ userDir, settingsScript, env: { NODE_OPTIONS: nodeOptions } });
  };
  const stop = async () => {
    if (!nr) return;
    await nr.stop(15_000);
    printed += nr.output();
    nr = undefined;
  };
  const running = (): NodeRedProcess => {
    assert.ok(nr, 'Node-RED is not running');
    return nr;
  };
  await start();
  return {
    async deploy(node) {
      await running().deploy(recordingFlow(sandbox, node, recordFile));
    },
    async inject(props) {
      const body = { __user_inject_props__: Object.entries(props).map(([p, v]) => ({ p, v, vt: 'str' })) };
      // Node-RED answers a deploy, and its Admin API at start, before the flows run: until the
      // inject node runs it is not found, and nothing was injected.
      await waitFor('the inject node to take the message', async () => {
        const res = await running().request('POST', '/inject/start', body);
        if (res.status === 404) return false;
        assert.equal(res.status, 200, `inject: ${res.text}`);
        return true;
      });
    },
    stop,
    start,
    records: () => jsonLines<Recorded>(recordFile),
    errors: () => jsonLines<LoggedError>(errorFile),
    output: () => printed + (nr?.output() ?? ''),
    async close() {
      await stop();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** The whole lines of a JSON-lines file (the last one may still be being written). */
function jsonLines<T>(file: string): T[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => JSON.parse(line) as T);
}

function recordingFlow(sandbox: Sandbox, node: Record<string, unknown>, recordFile: string): unknown[] {
  const record = 'return { payload: JSON.stringify({ topic: msg.topic, payload: msg.payload }) };';
  const at = { z: 'tab', x: 100, y: 100 };
  return [
    { id: 'tab', type: 'tab', label: 'restart' },
    {
      id: 'cfg',
      type: 'playment-config',
      baseUrl: sandbox.url,
      apiVersion: 'v0',
      projectId: PROJECT,
      rateLimit: 0,
      maxConcurrent: 8,
      maxRetries: 2,
      credentials: { apiKey: API_KEY },
    },
    { ...at, id: 'start', type: 'inject', props: [], repeat: '', once: false, wires: [['n1']] },
    { ...at, ...node, id: 'n1', config: 'cfg', wires: [['out']] },
    { ...at, id: 'out', type: 'function', func: record, outputs: 1, wires: [['file']] },
    {
      ...at,
      id: 'file',
      type: 'file',
      filename: recordFile,
      filenameType: 'str',
      appendNewline: true,
      createDir: false,
      overwriteFile: 'false',
      encoding: 'none',
      wires: [[]],
    },
  ];
}
