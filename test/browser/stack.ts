/**
 * What the browser tests drive: the package packed with `npm pack` and installed from its tarball
 * into a fresh Node-RED user directory, a real Node-RED process on it, and the Playment sandbox.
 * Everything listens on 127.0.0.1 only; the tarball is installed with `--offline`, so npm uses its
 * cache and never the network.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_PROJECT_ID, startSandbox, type Sandbox } from '../../src/sandbox/server';
import { HOST, startNodeRed, type NodeRedProcess } from '../support/node-red-process';
import { installIntoUserDir, packOnce } from '../support/npm';

export const PROJECT = DEFAULT_PROJECT_ID;

export interface Stack {
  tmp: string;
  userDir: string;
  /** A fresh key per run; the only key the sandbox accepts. */
  apiKey: string;
  sandbox: Sandbox;
  nodeRed: NodeRedProcess;
  close(): Promise<void>;
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
    const { tarball } = await packOnce();
    const userDir = await installIntoUserDir(path.join(tmp, 'userdir'), tarball, { offline: true });
    sandbox = await startSandbox({ host: HOST, port: 0, apiKeys: [apiKey], projectIds: [PROJECT], completionDelayMs: 60_000 });
    // The key is also in the environment, for a config node that says ${PLAYMENT_API_KEY}.
    nodeRed = await startNodeRed({ userDir, credentialSecret: randomBytes(16).toString('hex'), env: { PLAYMENT_API_KEY: apiKey } });
    return { tmp, userDir, apiKey, sandbox, nodeRed, close };
  } catch (err) {
    await close();
    throw err;
  }
}
