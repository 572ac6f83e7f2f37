/**
 * A real Node-RED process for end-to-end tests: its own user directory and settings file, bound
 * to 127.0.0.1 on a free port, started with the node-red devDependency (or another red.js), and
 * driven through the Admin API. Also the checks the packaging and compatibility tests share on
 * such a process with this package installed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { NODE_TYPES } from '../../src/demo/flows';
import { EXPECTED_WARNINGS, deploy, settingsFileText, stopChild, waitForAdmin } from '../../src/demo/node-red';
import { HOST, anyFreePort } from '../../src/demo/ports';
import { DEFAULT_PROJECT_ID, type Sandbox } from '../../src/sandbox/server';
import { PKG } from './npm';
import { waitFor } from './wait';

export { HOST, anyFreePort as freePort };

export interface NodeRedOptions {
  userDir: string;
  /** red.js to run; default: the node-red devDependency of this repository. */
  redJs?: string;
  /** Node.js binary that runs red.js; default: the one running the tests. */
  nodeBinary?: string;
  /** Default: a free port. */
  port?: number;
  credentialSecret?: string;
  /** JavaScript appended to settings.js, to change the settings every process here has (module.exports). */
  settingsScript?: string;
  /** Added to the environment of the Node-RED process. */
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
}

export interface AdminResponse {
  status: number;
  text: string;
  // Admin API bodies are checked field by field.
  json: any;
}

export interface NodeRedProcess {
  /** 'http://127.0.0.1:<port>' (the editor and the Admin API). */
  url: string;
  port: number;
  userDir: string;
  child: ChildProcess;
  /** Everything Node-RED printed so far (stdout and stderr). */
  output(): string;
  request(method: string, urlPath: string, body?: unknown, headers?: Record<string, string>): Promise<AdminResponse>;
  /** Full deploy of a flow through POST /flows. */
  deploy(flow: unknown[]): Promise<void>;
  /** SIGINT, then SIGKILL when it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export async function startNodeRed(opts: NodeRedOptions): Promise<NodeRedProcess> {
  const port = opts.port ?? (await anyFreePort());
  const redJs = opts.redJs ?? require.resolve('node-red/red.js');
  const settings = path.join(opts.userDir, 'settings.js');
  const common = settingsFileText({ credentialSecret: opts.credentialSecret ?? 'node-red-process-test-secret' });
  writeFileSync(settings, opts.settingsScript ? `${common}${opts.settingsScript}\n` : common);

  const child = spawn(
    opts.nodeBinary ?? process.execPath,
    [redJs, '--userDir', opts.userDir, '--settings', settings, '--port', String(port)],
    {
      cwd: opts.userDir,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString('utf8')));

  const url = `http://${HOST}:${port}`;
  const request = async (method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}${urlPath}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json };
  };

  const stop = (graceMs = 5000) => stopChild(child, 'SIGINT', graceMs);

  try {
    await waitForAdmin(url, child, opts.startTimeoutMs ?? 30_000, 200);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}:\n${output}`, { cause: err });
  }

  return {
    url,
    port,
    userDir: opts.userDir,
    child,
    output: () => output,
    request,
    deploy: (flow) => deploy(url, flow),
    stop,
  };
}

/** A node set as GET /nodes lists it. */
export interface NodeSet {
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
}

/** Checks that Node-RED loaded our four node types, all enabled; returns every node set it lists. */
export async function assertOurNodesLoaded(nr: NodeRedProcess): Promise<NodeSet[]> {
  const list = await nr.request('GET', '/nodes', undefined, { accept: 'application/json' });
  assert.equal(list.status, 200);
  const sets = list.json as NodeSet[];
  const ours = sets.filter((s) => s.module === PKG.name);
  assert.deepEqual(ours.flatMap((s) => s.types).sort(), [...NODE_TYPES].sort());
  for (const set of ours) assert.ok(set.enabled && !set.err, `${set.types} failed to load: ${set.err}`);
  return sets;
}

/** Warning and error lines Node-RED printed so far, but for the start-up warnings expected here. */
export function logProblems(nr: NodeRedProcess): string[] {
  return nr
    .output()
    .split('\n')
    .filter((line) => {
      const m = /\[(error|warn)\] ?(.*)$/.exec(line);
      return m !== null && !EXPECTED_WARNINGS.some((re) => re.test(m[2]));
    });
}

/**
 * Waits for a deployed demo flow to run: its batch `batchName` in the sandbox, two jobs in that
 * batch, and the demo's "result for job <id>: completed" line for each. Returns batch and jobs.
 */
export async function waitForDemoRun(nr: NodeRedProcess, sandbox: Sandbox, batchName: string, project = DEFAULT_PROJECT_ID) {
  const batch = await waitFor(`batch "${batchName}"`, () => sandbox.state.batches(project).find((b) => b.name === batchName));
  const jobs = await waitFor('two jobs in the batch', () => {
    const found = sandbox.state.jobs().filter((j) => j.batchId === batch.batchId);
    return found.length >= 2 && found;
  });
  assert.equal(jobs.length, 2);
  for (const job of jobs) {
    await waitFor(`the result of ${job.jobId}`, () => nr.output().includes(`result for job ${job.jobId}: completed`));
  }
  return { batch, jobs };
}
