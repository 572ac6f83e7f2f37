/**
 * What the browser tests drive: the package packed with `npm pack` and installed from its tarball
 * into a fresh Node-RED user directory, a real Node-RED process on it, and the Playment sandbox.
 * Everything listens on 127.0.0.1 only; the tarball is installed with `--offline`, so npm uses its
 * cache and never the network.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/server';
import { HOST, startNodeRed, type NodeRedProcess } from '../support/node-red-process';

export const ROOT = path.resolve(__dirname, '..', '..');
export const PROJECT = 'demo-project';

export interface Stack {
  tmp: string;
  userDir: string;
  /** A fresh key per run; the only key the sandbox accepts. */
  apiKey: string;
  sandbox: Sandbox;
  nodeRed: NodeRedProcess;
  close(): Promise<void>;
}

function npm(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { cwd, shell: process.platform === 'win32', stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`npm ${args.join(' ')} failed (exit code ${code}):\n${out}`));
    });
  });
}

/** `npm pack` (which builds through the prepare script), then `npm install <tarball>` into a new user dir. */
async function installPackedPackage(tmp: string): Promise<string> {
  const packDir = path.join(tmp, 'pack');
  mkdirSync(packDir);
  await npm(['pack', '--pack-destination', packDir], ROOT);
  const tarballs = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`npm pack wrote ${tarballs.length} tarballs`);

  const userDir = path.join(tmp, 'userdir');
  mkdirSync(userDir);
  writeFileSync(
    path.join(userDir, 'package.json'),
    JSON.stringify({ name: 'browser-test-userdir', version: '0.0.0', private: true }),
  );
  // Offline: the dependencies come from npm's cache, which `npm ci` / `npm install` in the repository filled.
  await npm(['install', path.join(packDir, tarballs[0]), '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], userDir).catch(
    (err: Error) => {
      throw new Error(`installing the tarball offline failed; run npm install in the repository first.\n${err.message}`);
    },
  );
  return userDir;
}

export async function startStack(): Promise<Stack> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'playment-browser-'));
  let sandbox: Sandbox | undefined;
  let nodeRed: NodeRedProcess | undefined;
  const close = async () => {
    await nodeRed?.stop().catch(() => undefined);
    await sandbox?.close().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const apiKey = `sk-browser-${randomBytes(12).toString('hex')}`;
    const userDir = await installPackedPackage(tmp);
    sandbox = await startSandbox({ host: HOST, port: 0, apiKeys: [apiKey], projectIds: [PROJECT], completionDelayMs: 60_000 });
    // The key is also in the environment, for a config node that says ${PLAYMENT_API_KEY}.
    nodeRed = await startNodeRed({ userDir, credentialSecret: randomBytes(16).toString('hex'), env: { PLAYMENT_API_KEY: apiKey } });
    return { tmp, userDir, apiKey, sandbox, nodeRed, close };
  } catch (err) {
    await close();
    throw err;
  }
}
