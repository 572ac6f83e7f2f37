// Compatibility: the packed tarball installed into a fresh user directory of each Node-RED the
// package claims (3.1 and 4.1 on the machine's Node.js 20, 5 on Node.js 22 from the npm package
// node-<platform>-<arch>@22), a flow deployed through the Admin API, and jobs reaching the sandbox.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CONFIG_TYPE, demoFlow } from '../../src/demo/flows';
import { DEFAULT_PROJECT_ID as PROJECT, startSandbox, type Sandbox } from '../../src/sandbox/server';
import { assertOurNodesLoaded, logProblems, startNodeRed, waitForDemoRun, type NodeRedProcess } from '../support/node-red-process';
import { QUIET_INSTALL, installIntoUserDir, npm, packOnce } from '../support/npm';

interface Target {
  nodeRed: string;
  /** Major version of Node.js to run it on; undefined: the Node.js running the tests. */
  nodeMajor?: number;
}

// Exact Node-RED versions, so that a new release cannot change the result of an old commit.
const TARGETS: Target[] = [{ nodeRed: '3.1.15' }, { nodeRed: '4.1.15' }, { nodeRed: '5.0.7', nodeMajor: 22 }];

/** Installs Node.js `major` from the npm registry (the node-<platform>-<arch> package holds the binary). */
async function installNode(major: number, dir: string): Promise<string> {
  const pkg = `node-${process.platform}-${process.arch}`;
  mkdirSync(dir, { recursive: true });
  await npm(['install', `${pkg}@${major}`, '--no-save', ...QUIET_INSTALL], dir);
  return path.join(dir, 'node_modules', pkg, 'bin', 'node');
}

describe('compatibility: the packed package on Node-RED 3.1, 4.1 and 5', function () {
  let tmp: string;
  let tarball: string;
  let sandbox: Sandbox;
  const apiKey = `pk-compat-${randomBytes(12).toString('hex')}`;

  before(async function () {
    tmp = mkdtempSync(path.join(tmpdir(), 'playment-compat-'));
    ({ tarball } = await packOnce());
    sandbox = await startSandbox({ apiKeys: [apiKey], projectIds: [PROJECT], completionDelayMs: 500 });
  });

  after(async function () {
    await sandbox?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  for (const target of TARGETS) {
    const nodeLabel = target.nodeMajor ? `Node.js ${target.nodeMajor}` : `Node.js ${process.versions.node.split('.')[0]}`;

    describe(`Node-RED ${target.nodeRed} on ${nodeLabel}`, function () {
      let nodeBinary: string;
      let nodeRed: NodeRedProcess | undefined;
      let userDir: string;

      before(async function () {
        const dir = path.join(tmp, `node-red-${target.nodeRed}`);
        nodeBinary = target.nodeMajor ? await installNode(target.nodeMajor, path.join(dir, 'node')) : process.execPath;
        const runtimeDir = path.join(dir, 'runtime');
        mkdirSync(runtimeDir, { recursive: true });
        await npm(['install', `node-red@${target.nodeRed}`, '--no-save', ...QUIET_INSTALL], runtimeDir, nodeBinary);
        userDir = await installIntoUserDir(path.join(dir, 'userdir'), tarball, { nodeBinary });
        nodeRed = await startNodeRed({
          userDir,
          nodeBinary,
          redJs: path.join(runtimeDir, 'node_modules', 'node-red', 'red.js'),
          credentialSecret: randomBytes(16).toString('hex'),
          startTimeoutMs: 60_000,
        });
      });

      after(async function () {
        await nodeRed?.stop();
      });

      it('runs the intended Node.js and Node-RED', async function () {
        const version = execFileSync(nodeBinary, ['--version'], { encoding: 'utf8' }).trim();
        if (target.nodeMajor) assert.match(version, new RegExp(`^v${target.nodeMajor}\\.`));
        const settings = await nodeRed!.request('GET', '/settings');
        assert.equal(settings.status, 200);
        assert.equal(settings.json.version, target.nodeRed);
      });

      it('loads the four node types from the installed tarball', async function () {
        await assertOurNodesLoaded(nodeRed!);
      });

      it('creates a batch, submits jobs and fetches their results through a flow deployed with the Admin API', async function () {
        const nr = nodeRed!;
        const batchName = `compat ${target.nodeRed}`;
        const flow = demoFlow({ baseUrl: sandbox.url, apiKey, projectId: PROJECT, runOnce: true, pollInterval: 1 });
        // A batch name of its own per version, so each run's jobs can be told apart in the shared sandbox.
        for (const node of flow) if (node.type === 'playment-create-batch') node.batchName = batchName;
        await nr.deploy(flow);

        await waitForDemoRun(nr, sandbox, batchName);
        const flowsFile = readFileSync(path.join(userDir, 'flows.json'), 'utf8');
        assert.ok(flowsFile.includes(CONFIG_TYPE));
        assert.ok(!flowsFile.includes(apiKey), 'flows.json holds the API key');
        assert.ok(!nr.output().includes(apiKey), 'Node-RED logged the API key');
        assert.deepEqual(logProblems(nr), []);
      });
    });
  }
});
