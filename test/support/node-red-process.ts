/**
 * A real Node-RED process for end-to-end tests: its own user directory and settings file, bound
 * to 127.0.0.1 on a free port, started with the node-red devDependency (or another red.js), and
 * driven through the Admin API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { HOST, anyFreePort } from '../../src/demo/ports';

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
  /** Added to the environment of the Node-RED process. */
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
}

export interface AdminResponse {
  status: number;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Admin API bodies are checked field by field
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

function settingsFile(secret: string): string {
  return `module.exports = {
    uiHost: '${HOST}',
    flowFile: 'flows.json',
    credentialSecret: ${JSON.stringify(secret)},
    telemetry: { enabled: false, updateNotification: false },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    editorTheme: { tours: false, palette: { catalogues: [] } },
};
`;
}

export async function startNodeRed(opts: NodeRedOptions): Promise<NodeRedProcess> {
  const port = opts.port ?? (await anyFreePort());
  const redJs = opts.redJs ?? require.resolve('node-red/red.js');
  const settings = path.join(opts.userDir, 'settings.js');
  writeFileSync(settings, settingsFile(opts.credentialSecret ?? 'node-red-process-test-secret'));

  const child = spawn(opts.nodeBinary ?? process.execPath, [redJs, '--userDir', opts.userDir, '--settings', settings, '--port', String(port)], {
    cwd: opts.userDir,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;

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

  const stop = async (graceMs = 5000) => {
    if (!running()) return;
    child.kill('SIGINT');
    const timer = setTimeout(() => {
      if (running()) child.kill('SIGKILL');
    }, graceMs);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (;;) {
    if (!running()) throw new Error(`Node-RED exited during start-up:\n${output}`);
    try {
      const res = await fetch(`${url}/flows`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Node-RED did not answer on ${url} in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    url,
    port,
    userDir: opts.userDir,
    child,
    output: () => output,
    request,
    deploy: async (flow) => {
      const res = await request('POST', '/flows', flow, { 'Node-RED-Deployment-Type': 'full' });
      if (res.status !== 200 && res.status !== 204) throw new Error(`deploy failed: HTTP ${res.status} ${res.text}`);
    },
    stop,
  };
}

/** Polls `check` until it returns a truthy value (which is returned) or the time is up. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<NonNullable<Exclude<T, false | 0 | ''>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<Exclude<T, false | 0 | ''>>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
