#!/usr/bin/env node
// `npm start`: a local demo. Starts the Playment sandbox and a Node-RED (from devDependencies)
// that loads this package as an installed module, deploys the demo flow (the example "Create a
// batch and submit video jobs" plus result polling), and shows job ids and results here.
// Ctrl-C stops both. Everything stays on 127.0.0.1; the API key is random and never printed.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const demoDir = path.join(root, '.demo');
const userDir = path.join(demoDir, 'userdir');
const logFile = path.join(demoDir, 'node-red.log');
const HOST = '127.0.0.1';
const PROJECT = 'demo-project';
const SANDBOX_PORT = 4010;
const NODE_RED_PORT = 1880;
const COMPLETION_DELAY_MS = 10_000;
const PACKAGE_NAME = require(path.join(root, 'package.json')).name;

const say = (line = '') => process.stdout.write(`${line}\n`);
const fail = (line) => process.stderr.write(`npm start: ${line}\n`);

// ---- build ------------------------------------------------------------------------------

function newestMtime(p) {
  let stat;
  try {
    stat = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

function oldestMtime(p) {
  const stat = fs.statSync(p);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let oldest = Infinity;
  for (const entry of fs.readdirSync(p)) oldest = Math.min(oldest, oldestMtime(path.join(p, entry)));
  return oldest;
}

function buildIfNeeded() {
  const dist = path.join(root, 'dist');
  const needed = ['sandbox/server.js', 'demo/flows.js', 'nodes/playment-config.js'];
  let stale = needed.some((f) => !fs.existsSync(path.join(dist, f)));
  if (!stale) {
    const sources = Math.max(
      ...['src', 'nodes', 'tsconfig.json', 'scripts/build.js'].map((p) => newestMtime(path.join(root, p))),
    );
    stale = sources > oldestMtime(dist);
  }
  if (!stale) return;
  say('Building (dist/ is missing or older than src/ and nodes/) ...');
  const npmCli = process.env.npm_execpath;
  const [cmd, args] = npmCli && /\.c?js$/.test(npmCli)
    ? [process.execPath, [npmCli, 'run', 'build']]
    : ['npm', ['run', 'build']];
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: cmd === 'npm' && process.platform === 'win32' });
  if (res.status !== 0) {
    fail('the build failed; fix the errors above and run npm start again');
    process.exit(1);
  }
}

// ---- ports ------------------------------------------------------------------------------

function portIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

function anyFreePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function nodeRedPort() {
  if (process.env.PORT) {
    const port = Number(process.env.PORT);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`PORT must be a port number, got ${process.env.PORT}`);
    if (!(await portIsFree(port))) throw new Error(`PORT ${port} is already in use on ${HOST}`);
    return port;
  }
  return (await portIsFree(NODE_RED_PORT)) ? NODE_RED_PORT : anyFreePort();
}

// ---- sandbox ----------------------------------------------------------------------------

async function startSandbox(apiKey) {
  const { startSandbox: start } = require(path.join(root, 'dist', 'sandbox', 'server.js'));
  const options = { host: HOST, apiKeys: [apiKey], projectIds: [PROJECT], completionDelayMs: COMPLETION_DELAY_MS };
  try {
    return await start({ ...options, port: SANDBOX_PORT });
  } catch (err) {
    if (err && err.code === 'EADDRINUSE') return start({ ...options, port: 0 });
    throw err;
  }
}

// ---- Node-RED user directory ------------------------------------------------------------

const SETTINGS = `// Written by scripts/start.js on every \`npm start\`; local demo only.
module.exports = {
    uiHost: '127.0.0.1',
    flowFile: 'flows.json',
    flowFilePretty: true,
    // A fixed secret is fine for a throwaway demo directory; never reuse it elsewhere.
    credentialSecret: 'playment-local-demo-only',
    telemetry: { enabled: false, updateNotification: false },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    editorTheme: { tours: false },
};
`;

/** A user directory with this package installed as a module (a link to the checkout). */
function prepareUserDir() {
  fs.mkdirSync(path.join(userDir, 'node_modules', '@labelops'), { recursive: true });
  fs.writeFileSync(path.join(userDir, 'settings.js'), SETTINGS);
  fs.writeFileSync(
    path.join(userDir, 'package.json'),
    `${JSON.stringify({
      name: 'node-red-playment-demo',
      description: 'Node-RED user directory for npm start',
      version: '0.0.0',
      private: true,
      dependencies: { [PACKAGE_NAME]: 'file:../..' },
    }, null, 2)}\n`,
  );
  const link = path.join(userDir, 'node_modules', ...PACKAGE_NAME.split('/'));
  let existing;
  try {
    existing = fs.lstatSync(link);
  } catch {
    existing = undefined;
  }
  if (existing) {
    if (existing.isSymbolicLink() && path.resolve(path.dirname(link), fs.readlinkSync(link)) === root) {
      // already linked
    } else if (existing.isSymbolicLink() || existing.isFile()) {
      fs.unlinkSync(link);
      existing = undefined;
    } else {
      fs.rmSync(link, { recursive: true, force: true });
      existing = undefined;
    }
  }
  if (!existing) {
    if (process.platform === 'win32') fs.symlinkSync(root, link, 'junction');
    else fs.symlinkSync(path.relative(path.dirname(link), root), link, 'dir');
  }
  // The demo flow is deployed fresh on every start: a stale one would run once before that.
  for (const f of ['flows.json', 'flows_cred.json', '.flows.json.backup', '.flows_cred.json.backup']) {
    fs.rmSync(path.join(userDir, f), { force: true });
  }
}

// ---- Node-RED output --------------------------------------------------------------------

const LOG_LINE = /^\d{1,2} \w{3} (\d\d:\d\d:\d\d) - \[(\w+)\] (.*)$/;
/** Start-up warnings that are expected here (no projects; the flow files are removed on purpose). */
const EXPECTED_WARNINGS = [/^Projects disabled/, /^Encrypted credentials not found/];

/**
 * Keeps the terminal readable: our debug lines, warnings and errors (with their continuation
 * lines); everything goes to .demo/node-red.log.
 */
function createOutputFilter(log) {
  let keeping = false;
  let pending = '';
  let silenced = false;
  const handle = (line) => {
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
    write(chunk) {
      pending += chunk.toString('utf8');
      const lines = pending.split(/\r?\n/);
      pending = lines.pop();
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

// ---- Admin API --------------------------------------------------------------------------

async function waitForAdmin(baseUrl, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('Node-RED exited during start-up');
    try {
      const res = await fetch(`${baseUrl}/flows`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Node-RED did not answer within ${timeoutMs / 1000} s`);
}

async function deploy(baseUrl, flow) {
  const res = await fetch(`${baseUrl}/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(flow),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`deploying the demo flow failed: HTTP ${res.status} ${text.slice(0, 300)}`);
}

// ---- main -------------------------------------------------------------------------------

async function main() {
  buildIfNeeded();
  const { demoFlow } = require(path.join(root, 'dist', 'demo', 'flows.js'));

  const apiKey = crypto.randomBytes(24).toString('base64url');
  const port = await nodeRedPort();
  prepareUserDir();
  const sandbox = await startSandbox(apiKey);

  const log = fs.createWriteStream(logFile, { flags: 'w' });
  const filter = createOutputFilter(log);
  const redJs = require.resolve('node-red/red.js', { paths: [root] });
  const child = spawn(
    process.execPath,
    [redJs, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js'), '--port', String(port)],
    { cwd: root, env: { ...process.env, PLAYMENT_API_KEY: apiKey }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.on('data', (d) => filter.write(d));
  child.stderr.on('data', (d) => {
    log.write(d);
    process.stderr.write(d);
  });

  let stopping = false;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const shutdown = async (exitCode) => {
    if (stopping) return;
    stopping = true;
    filter.quiet();
    say('\nStopping Node-RED and the sandbox ...');
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    filter.flush();
    await sandbox.close().catch(() => undefined);
    await new Promise((r) => log.end(r));
    say('Stopped.');
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGHUP', () => void shutdown(0));
  // Last resort: never leave Node-RED running behind us.
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  // npm forwards a SIGTERM to its shell, which may die without passing it on: stop when orphaned.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown(0);
  }, 1000).unref();
  exited.then(({ code, signal }) => {
    if (stopping) return;
    filter.flush();
    fail(`Node-RED stopped unexpectedly (${signal ?? `exit code ${code}`}); see .demo/node-red.log`);
    void shutdown(1);
  });

  const editorUrl = `http://${HOST}:${port}`;
  await waitForAdmin(editorUrl, child, 60_000);
  say('');
  say('  Playment Node-RED demo');
  say(`  Node-RED editor    ${editorUrl}/`);
  say(`  Playment sandbox   ${sandbox.url}  (project ${PROJECT}; jobs complete after ${COMPLETION_DELAY_MS / 1000} s)`);
  say('  Node-RED log       .demo/node-red.log');
  say('  Ctrl-C stops both.');
  say('');
  await deploy(editorUrl, demoFlow({ baseUrl: sandbox.url, apiKey: '${PLAYMENT_API_KEY}', projectId: PROJECT, runOnce: true }));
  say('Demo flow deployed: it creates a batch and submits two video jobs into it. Job ids appear');
  say('below, then each job\'s result once the sandbox completes it.');
  say('');
}

main().catch((err) => {
  fail(err && err.message ? err.message : String(err));
  process.exit(1);
});
