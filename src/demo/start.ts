/**
 * `npm start`: a local demo. Starts the Playment sandbox and a Node-RED (from devDependencies)
 * that loads this package as an installed module, deploys the demo flow (the example "Create a
 * batch and submit video jobs" plus result polling), and shows job ids and results here.
 * Ctrl-C stops both. Everything stays on 127.0.0.1; the API key is random and never printed.
 *
 * Environment: PORT (Node-RED's port, default 1880 or any free one), PLAYMENT_DEMO_DIR (the
 * demo's folder, default .demo in the checkout).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_CLI_PORT } from '../sandbox/cli-args';
import { DEFAULT_PROJECT_ID, startSandbox, type Sandbox } from '../sandbox/server';
import { demoFlow } from './flows';
import { EXPECTED_WARNINGS, deploy, running, settingsFileText, stopChild, waitForAdmin } from './node-red';
import { HOST, anyFreePort, portIsFree } from './ports';

const ROOT = path.resolve(__dirname, '..', '..');
const DEMO_DIR = path.resolve(process.env.PLAYMENT_DEMO_DIR || path.join(ROOT, '.demo'));
const USER_DIR = path.join(DEMO_DIR, 'userdir');
const LOG_FILE = path.join(DEMO_DIR, 'node-red.log');
const PROJECT = DEFAULT_PROJECT_ID;
const SANDBOX_PORT = DEFAULT_CLI_PORT;
const NODE_RED_PORT = 1880;
const COMPLETION_DELAY_MS = 10_000;
const PACKAGE_NAME = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string }).name;

const say = (line = '') => process.stdout.write(`${line}\n`);
const fail = (line: string) => process.stderr.write(`npm start: ${line}\n`);

// ---- ports ------------------------------------------------------------------------------

async function nodeRedPort(): Promise<number> {
  if (process.env.PORT) {
    const port = Number(process.env.PORT);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`PORT must be a port number, got ${process.env.PORT}`);
    if (!(await portIsFree(port))) throw new Error(`PORT ${port} is already in use on ${HOST}`);
    return port;
  }
  return (await portIsFree(NODE_RED_PORT)) ? NODE_RED_PORT : anyFreePort();
}

/** The sandbox on its usual port, or on any free one when that is taken. */
async function startDemoSandbox(apiKey: string): Promise<Sandbox> {
  const options = { host: HOST, apiKeys: [apiKey], projectIds: [PROJECT], completionDelayMs: COMPLETION_DELAY_MS };
  try {
    return await startSandbox({ ...options, port: SANDBOX_PORT });
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code === 'EADDRINUSE') return startSandbox({ ...options, port: 0 });
    throw err;
  }
}

// ---- Node-RED user directory ------------------------------------------------------------

const SETTINGS = settingsFileText({
  comment: 'Written by npm start on every start; local demo only.',
  flowFilePretty: true,
  // A fixed secret is fine for a throwaway demo directory; never reuse it elsewhere.
  credentialSecret: 'playment-local-demo-only',
});

/** A user directory with this package installed as a module (a link to the checkout). */
function prepareUserDir(): void {
  fs.mkdirSync(path.join(USER_DIR, 'node_modules', '@labelops'), { recursive: true });
  fs.writeFileSync(path.join(USER_DIR, 'settings.js'), SETTINGS);
  const manifest = {
    name: 'node-red-playment-demo',
    description: 'Node-RED user directory for npm start',
    version: '0.0.0',
    private: true,
    dependencies: { [PACKAGE_NAME]: `file:${path.relative(USER_DIR, ROOT).split(path.sep).join('/')}` },
  };
  fs.writeFileSync(path.join(USER_DIR, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const link = path.join(USER_DIR, 'node_modules', ...PACKAGE_NAME.split('/'));
  let existing: fs.Stats | undefined;
  try {
    existing = fs.lstatSync(link);
  } catch {
    existing = undefined;
  }
  if (existing && !(existing.isSymbolicLink() && path.resolve(path.dirname(link), fs.readlinkSync(link)) === ROOT)) {
    fs.rmSync(link, { recursive: true, force: true });
    existing = undefined;
  }
  if (!existing) {
    if (process.platform === 'win32') fs.symlinkSync(ROOT, link, 'junction');
    else fs.symlinkSync(path.relative(path.dirname(link), ROOT), link, 'dir');
  }
  // The demo flow is deployed fresh on every start: a stale one would run once before that.
  for (const f of ['flows.json', 'flows_cred.json', '.flows.json.backup', '.flows_cred.json.backup']) {
    fs.rmSync(path.join(USER_DIR, f), { force: true });
  }
}

// ---- Node-RED output --------------------------------------------------------------------

const LOG_LINE = /^\d{1,2} \w{3} (\d\d:\d\d:\d\d) - \[(\w+)\] (.*)$/;

/**
 * Keeps the terminal readable: our debug lines, warnings and errors (with their continuation
 * lines); everything goes to the log file.
 */
function createOutputFilter(log: fs.WriteStream) {
  let keeping = false;
  let pending = '';
  let silenced = false;
  const handle = (line: string) => {
    log.write(`${line}\n`);
    // While stopping, waits that end with "node was closed" are expected: log file only.
    if (silenced) return;
    const m = LOG_LINE.exec(line);
    if (!m) {
      if (keeping && line.trim() !== '') say(`           ${line}`);
      return;
    }
    const [, time, level, text] = m;
    const debug = /^\[debug:([^\]]*)\] ?(.*)$/.exec(text);
    if (debug) {
      keeping = true;
      say(`${time}  ${debug[2]}`);
    } else if ((level === 'warn' || level === 'error') && !EXPECTED_WARNINGS.some((re) => re.test(text))) {
      keeping = true;
      say(`${time}  [${level}] ${text}`);
    } else {
      keeping = false;
    }
  };
  return {
    write(chunk: Buffer) {
      pending += chunk.toString('utf8');
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      lines.forEach(handle);
    },
    flush() {
      if (pending) handle(pending);
      pending = '';
    },
    quiet() {
      silenced = true;
    },
  };
}

// ---- main -------------------------------------------------------------------------------

async function main(): Promise<void> {
  const apiKey = randomBytes(24).toString('base64url');
  const port = await nodeRedPort();
  prepareUserDir();
  const sandbox = await startDemoSandbox(apiKey);

  const log = fs.createWriteStream(LOG_FILE, { flags: 'w' });
  const filter = createOutputFilter(log);
  const redJs = require.resolve('node-red/red.js', { paths: [ROOT] });
  const child = spawn(
    process.execPath,
    [redJs, '--userDir', USER_DIR, '--settings', path.join(USER_DIR, 'settings.js'), '--port', String(port)],
    { cwd: ROOT, env: { ...process.env, PLAYMENT_API_KEY: apiKey }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d: Buffer) => filter.write(d));
  child.stderr!.on('data', (d: Buffer) => {
    log.write(d);
    process.stderr.write(d);
  });

  let stopping = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const shutdown = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    filter.quiet();
    say('\nStopping Node-RED and the sandbox ...');
    await stopChild(child, 'SIGINT', 10_000);
    filter.flush();
    await sandbox.close().catch(() => undefined);
    await new Promise<void>((r) => log.end(r));
    say('Stopped.');
    process.exit(exitCode);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0));
  // Last resort: never leave Node-RED running behind us.
  process.on('exit', () => {
    if (running(child)) child.kill('SIGKILL');
  });
  // npm forwards a SIGTERM to its shell, which may die without passing it on: stop when orphaned.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown(0);
  }, 1000).unref();
  void exited.then(({ code, signal }) => {
    if (stopping) return;
    filter.flush();
    fail(`Node-RED stopped unexpectedly (${signal ?? `exit code ${code}`}); see ${path.relative(process.cwd(), LOG_FILE)}`);
    void shutdown(1);
  });

  const editorUrl = `http://${HOST}:${port}`;
  await waitForAdmin(editorUrl, child, 60_000);
  say('');
  say('  Playment Node-RED demo');
  say(`  Node-RED editor    ${editorUrl}/`);
  say(`  Playment sandbox   ${sandbox.url}  (project ${PROJECT}; jobs complete after ${COMPLETION_DELAY_MS / 1000} s)`);
  say(`  Node-RED log       ${path.relative(process.cwd(), LOG_FILE)}`);
  say('  Ctrl-C stops both.');
  say('');
  await deploy(
    editorUrl,
    demoFlow({ baseUrl: sandbox.url, apiKey: '${PLAYMENT_API_KEY}', projectId: PROJECT, runOnce: true }),
    'the demo flow',
  );
  say('Demo flow deployed: it creates a batch and submits two video jobs into it. Job ids appear');
  say("below, then each job's result once the sandbox completes it.");
  say('');
}

main().catch((err: unknown) => {
  fail(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
