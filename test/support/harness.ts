/**
 * Runs our nodes in a real Node-RED runtime (node-red-node-test-helper) against the sandbox on
 * 127.0.0.1, and records every way a message can end: an output, a Catch, a log line, a status.
 */
import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import testHelper from 'node-red-node-test-helper';
import type { SinonSpy } from 'sinon';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server';
import configNode from '../../src/nodes/playment-config';
import createBatchNode from '../../src/nodes/playment-create-batch';
import submitNode from '../../src/nodes/playment-submit-video-job';
import jobResultNode from '../../src/nodes/playment-job-result';
// Core nodes used in test flows besides the ones the helper preloads (catch, complete): the
// nodes users build their messages with.
import functionNode from '@node-red/nodes/core/function/10-function.js';
import changeNode from '@node-red/nodes/core/function/15-change.js';
import injectNode from '@node-red/nodes/core/common/20-inject.js';
import fileNodes from '@node-red/nodes/core/storage/10-file.js';
import jsonNode from '@node-red/nodes/core/parsers/70-JSON.js';
import splitJoinNodes from '@node-red/nodes/core/sequence/17-split.js';
// Core config nodes a playment-config node can select.
import tlsNode from '@node-red/nodes/core/network/05-tls.js';
import httpProxyNode from '@node-red/nodes/core/network/06-httpproxy.js';
import { waitFor } from './wait';

/** The methods of every node that the helper replaces with sinon spies while a flow is loaded. */
type SpiedMethod = 'log' | 'status' | 'warn' | 'error' | 'debug' | 'trace' | 'send';

/**
 * A running node as tests see it: the spied methods (their calls' arguments are whatever the node
 * passed), and the fields of our own nodes (client, configError, ...), read without a static type.
 */
export type TestNode = Omit<Node, SpiedMethod> & { [M in SpiedMethod]: Node[M] & SinonSpy<any, any> } & { [field: string]: any };

/** Runtime settings: Node-RED's, and our own (playmentConfigCloseGrace, ...). */
export type RuntimeSettings = Record<string, unknown>;

/**
 * The helper as its package types it, but as it behaves: settings hold more than LocalSettings
 * and `settings()` reads them, server start and stop also answer with a promise and report
 * errors to the callback, and nodes are TestNodes.
 */
type Helper = Omit<typeof testHelper, 'init' | 'getNode' | 'settings' | 'startServer' | 'stopServer'> & {
  init(runtimePath: string, userSettings?: RuntimeSettings): void;
  getNode(id: string): TestNode;
  /** With settings: replaces the runtime settings (merged with Node-RED's defaults); returns them. */
  settings(userSettings?: RuntimeSettings): RuntimeSettings;
  startServer(done?: (err?: any) => void): Promise<void>;
  stopServer(done?: (err?: any) => void): Promise<void>;
};

// The package types nodes without the spies the helper puts on them.
export const helper = testHelper as unknown as Helper;
// A configured context store, as users with persistent context have: our nodes then keep their
// waits for a restart. (The helper never loads the stores, so its runtime still drops a stopping
// node's context: restartable-node-red.ts restarts a real Node-RED process.)
helper.init(require.resolve('node-red'), { contextStorage: { default: { module: 'memory' } } });

const ALL_NODES = [
  configNode,
  createBatchNode,
  submitNode,
  jobResultNode,
  functionNode,
  changeNode,
  injectNode,
  fileNodes,
  jsonNode,
  splitJoinNodes,
  tlsNode,
  httpProxyNode,
];

export const API_KEY = 'sk-test-3f9a27c1e8b54d06';
export const PROJECT = 'proj-cv-1';

export interface Recorder {
  outputs: any[];
  caught: any[];
  /** Complete events of the action nodes (`done()` without an error). */
  completed: any[];
  /** Resolves once outputs + caught reach `count`. */
  settled(count: number, timeoutMs?: number): Promise<void>;
}

export interface FlowOptions {
  apiVersion?: 'v0' | 'v1';
  apiKey?: string;
  projectId?: string;
  baseUrl?: string;
  config?: Record<string, unknown>;
  /** Nodes whose `done()` the Complete node records: by default every action node of the flow. */
  completeScope?: string[];
  /** More nodes the Catch node sends to (a flow cannot hold a second Catch node in the helper). */
  catchAlsoTo?: string[];
  /** Core config nodes the config node selects (tls-config, http proxy), with their credentials by id. */
  coreConfigNodes?: any[];
  coreCredentials?: Record<string, Record<string, string>>;
}

function isActionNode(n: any): boolean {
  return typeof n.type === 'string' && n.type.startsWith('playment-') && n.type !== 'playment-config';
}

/**
 * A tab with the config node, the nodes under test, a Catch node, a Complete node scoped to the
 * action nodes, and three recorders. The node with id `n1` receives the injected messages; nodes
 * list their own wires; a node wired to 'out' sends to the output recorder.
 */
export async function loadFlow(sandbox: Sandbox, nodes: any[], opts: FlowOptions = {}): Promise<Recorder> {
  const flow = [
    { id: 'tab', type: 'tab', label: 'test' },
    {
      id: 'cfg',
      type: 'playment-config',
      z: 'tab',
      baseUrl: opts.baseUrl ?? sandbox.url,
      apiVersion: opts.apiVersion ?? 'v0',
      projectId: opts.projectId ?? PROJECT,
      rateLimit: 0,
      maxConcurrent: 8,
      maxRetries: 2,
      ...opts.config,
    },
    // x and y mark flow nodes: without them the runtime takes a node for a config node.
    ...nodes.map((n) => ({ z: 'tab', config: 'cfg', x: 0, y: 0, ...n })),
    { id: 'catch', type: 'catch', z: 'tab', x: 0, y: 0, scope: null, uncaught: false, wires: [['caught', ...(opts.catchAlsoTo ?? [])]] },
    {
      id: 'complete',
      type: 'complete',
      z: 'tab',
      x: 0,
      y: 0,
      scope: opts.completeScope ?? nodes.filter(isActionNode).map((n) => n.id),
      uncaught: false,
      wires: [['completed']],
    },
    { id: 'out', type: 'helper', z: 'tab', x: 0, y: 0 },
    { id: 'caught', type: 'helper', z: 'tab', x: 0, y: 0 },
    { id: 'completed', type: 'helper', z: 'tab', x: 0, y: 0 },
    ...(opts.coreConfigNodes ?? []).map((n) => ({ z: 'tab', ...n })),
  ];
  await helper.load(ALL_NODES, flow, { ...opts.coreCredentials, cfg: { apiKey: opts.apiKey ?? API_KEY } });
  const rec: Recorder = {
    outputs: [],
    caught: [],
    completed: [],
    settled: async (count, timeoutMs = 15_000) => {
      await waitFor(`${count} messages to end`, () => rec.outputs.length + rec.caught.length >= count, timeoutMs, 5).catch(() => {
        throw new Error(`only ${rec.outputs.length} outputs and ${rec.caught.length} errors of ${count} messages`);
      });
    },
  };
  helper.getNode('out').on('input', (m: any) => rec.outputs.push(m));
  helper.getNode('caught').on('input', (m: any) => rec.caught.push(m));
  helper.getNode('completed').on('input', (m: any) => rec.completed.push(m));
  return rec;
}

/**
 * Waits until as many messages have ended as `ids` holds, gives late ones `graceMs` more, then
 * checks that each message of `ids` ended exactly once: one output or one Catch, and for the
 * runtime one `done`: a Complete event (done()) or a Catch (done(err)), never both, never none.
 */
export async function assertEachEndedOnce(rec: Recorder, ids: ReadonlySet<string>, timeoutMs: number, graceMs: number): Promise<void> {
  await rec.settled(ids.size, timeoutMs);
  await waitFor('every message to call done', () => rec.completed.length + rec.caught.length >= ids.size, timeoutMs, 5).catch(() => {
    throw new Error(`only ${rec.completed.length} complete events and ${rec.caught.length} errors of ${ids.size} messages`);
  });
  await new Promise((r) => setTimeout(r, graceMs));
  const ended = [...rec.outputs, ...rec.caught].map((m) => m._msgid);
  assert.equal(ended.length, ids.size, 'no message ended twice');
  assert.deepEqual(new Set(ended), ids, 'every message ended');
  assertDoneOnce(rec, ids);
}

/** Each message of `ids` gave exactly one of {Complete event, Catch}: `done` was called once. */
export function assertDoneOnce(rec: Recorder, ids: ReadonlySet<string>): void {
  const done = [...rec.completed, ...rec.caught].map((m) => m._msgid);
  assert.equal(
    done.length,
    ids.size,
    `done once per message: ${rec.completed.length} complete events, ${rec.caught.length} errors, ${ids.size} messages`,
  );
  assert.deepEqual(new Set(done), ids, 'every message called done');
}

/**
 * How each message of node `id` ended, seen on the node itself: the recorders stop with the flow,
 * so a test that stops the flow with a message in flight watches the node's own completion.
 */
export function watchEndings(id = 'n1'): Array<{ id: string; code?: string }> {
  const node = helper.getNode(id);
  const ended: Array<{ id: string; code?: string }> = [];
  const complete = node._complete.bind(node);
  node._complete = (msg: { _msgid: string }, err?: { code?: string }) => {
    ended.push({ id: msg._msgid, code: err?.code });
    complete(msg, err);
  };
  return ended;
}

export function inject(msg: Record<string, unknown>, id = 'n1'): void {
  helper.getNode(id).receive(msg);
}

/** Everything a user or a log could see: outputs, caught messages, log lines, statuses. */
export function everythingVisible(rec: Recorder, nodeIds: string[]): string {
  const statuses = nodeIds.flatMap((id) => helper.getNode(id)?.status?.args ?? []);
  const logs = helper.log().args;
  return JSON.stringify({ outputs: rec.outputs, caught: rec.caught, completed: rec.completed, statuses, logs }, (_k, v) =>
    v instanceof Error ? { ...v, message: v.message, stack: v.stack } : v,
  );
}

/** A sandbox with the test key and project (jobs complete after a minute unless told otherwise). */
export async function withSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({ apiKeys: [API_KEY], projectIds: [PROJECT], completionDelayMs: 60_000, ...opts });
}

/**
 * Mocha hooks for a suite: one sandbox and the runtime for the whole suite; each test unloads its
 * flow and starts from an empty sandbox. `use` receives the sandbox once it runs.
 */
export function useSandboxRuntime(opts: SandboxOptions, use: (sandbox: Sandbox) => void): void {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await withSandbox(opts);
    use(sandbox);
    await startRuntime();
  });
  after(async () => {
    await stopRuntime();
    await sandbox.close();
  });
  afterEach(async () => {
    await helper.unload();
    sandbox.state.reset();
  });
}

/** The submit node as most tests use it: tag set, wired to the output recorder. */
export const SUBMIT_NODE = { id: 'n1', type: 'playment-submit-video-job', tag: 'track_bounding_boxes', tagType: 'str', wires: [['out']] };

function startRuntime(): Promise<void> {
  return new Promise((resolve) => helper.startServer(resolve));
}

async function stopRuntime(): Promise<void> {
  await helper.unload();
  await new Promise((resolve) => helper.stopServer(resolve));
}

export function frames(n: number, prefix = 'https://cdn.example.com/seq'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}/frame_${String(i).padStart(4, '0')}.jpg`);
}
