/**
 * npm from a test: run it (optionally under another Node.js binary), pack this repository, and
 * read what `npm pack --json` says it packed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

/** This repository's package.json. */
export const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  engines: { node: string };
  'node-red': { nodes: Record<string, string> };
};

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: env ? { ...process.env, ...env } : process.env,
      shell: process.platform === 'win32',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** npm's own CLI script, so that npm can be run under a Node.js binary other than the one on PATH. */
function npmCli(): string {
  if (process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath)) return process.env.npm_execpath;
  const onPath = (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'npm'));
  for (const candidate of onPath) {
    try {
      const real = realpathSync(candidate);
      if (real.endsWith('npm-cli.js')) return real;
    } catch {
      // not in this directory
    }
  }
  throw new Error('cannot find npm-cli.js (run the tests through npm)');
}

/**
 * Runs npm and returns its stdout; throws with everything npm printed when it fails. With
 * `nodeBinary`, npm runs under that Node.js, so engine checks and install scripts see it.
 */
export async function npm(args: string[], cwd: string, nodeBinary?: string): Promise<string> {
  const res = nodeBinary
    ? await run(nodeBinary, [npmCli(), ...args], cwd, { PATH: `${path.dirname(nodeBinary)}${path.delimiter}${process.env.PATH ?? ''}` })
    : await run('npm', args, cwd);
  if (res.code !== 0) throw new Error(`npm ${args.join(' ')} failed (${res.code}):\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

export interface Packed {
  filename: string;
  files: Array<{ path: string }>;
}

/** `npm pack --json` output, after whatever the lifecycle scripts printed to stdout. */
function parsePackJson(stdout: string): Packed {
  const start = stdout.search(/^\[\s*$/m);
  assert.ok(start >= 0, `no JSON in npm pack output:\n${stdout}`);
  const [entry] = JSON.parse(stdout.slice(start)) as Packed[];
  return entry;
}

/** Packs this repository into `destination` (the prepack script builds it first); returns the tarball's path and file list. */
async function packRepository(destination: string): Promise<Packed & { tarball: string }> {
  const packed = parsePackJson(await npm(['pack', '--json', '--pack-destination', destination], ROOT));
  return { ...packed, tarball: path.join(destination, packed.filename) };
}

let packed: Promise<Packed & { tarball: string }> | undefined;

/**
 * This repository packed once per test process, into a temporary folder that is removed when the
 * process exits; every later call gets the same tarball.
 */
export function packOnce(): Promise<Packed & { tarball: string }> {
  if (!packed) {
    const dir = mkdtempSync(path.join(tmpdir(), 'playment-pack-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    packed = packRepository(dir);
  }
  return packed;
}

export const QUIET_INSTALL = ['--no-audit', '--no-fund', '--prefer-offline'];

export interface UserDirOptions {
  /** npm uses only its cache (filled by `npm ci` in the repository), never the network. */
  offline?: boolean;
  /** Runs npm under this Node.js binary. */
  nodeBinary?: string;
}

/** A fresh Node-RED user directory at `userDir` with the tarball installed into it, as the palette manager would. */
export async function installIntoUserDir(userDir: string, tarball: string, opts: UserDirOptions = {}): Promise<string> {
  mkdirSync(userDir, { recursive: true });
  writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-user-dir', version: '0.0.0', private: true }));
  const mode = opts.offline ? ['--offline', '--no-audit', '--no-fund'] : QUIET_INSTALL;
  await npm(['install', tarball, ...mode], userDir, opts.nodeBinary).catch((err: Error) => {
    throw new Error(
      `installing ${path.basename(tarball)}${opts.offline ? ' offline (run npm install in the repository first)' : ''} failed.\n${err.message}`,
    );
  });
  return userDir;
}
