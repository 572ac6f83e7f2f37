/**
 * A real Node-RED runtime in this process (node-red-node-test-helper), with our nodes and the
 * core nodes a hand-written flow would use. Unlike the test harness, sinks only count and time
 * messages (they keep nothing), and the helper's sinon spies are removed after each load: they
 * record every status/send/log call, which is test instrumentation, not runtime cost, and would
 * grow without bound over 100,000 messages.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import { TAG } from './workload';

// The helper ships no types.
export const helper: any = require('node-red-node-test-helper');
helper.init(require.resolve('node-red'));

const configNode = require('../../src/nodes/playment-config');
const submitNode = require('../../src/nodes/playment-submit-video-job');
const jobResultNode = require('../../src/nodes/playment-job-result');
const functionNode = require('@node-red/nodes/core/function/10-function.js');
const httpRequestNode = require('@node-red/nodes/core/network/21-httprequest.js');
const NODE_MODULES = [configNode, submitNode, jobResultNode, functionNode, httpRequestNode];

export type Sink = (msg: any) => void;

let started = false;

export async function startRuntime(): Promise<void> {
  if (started) return;
  await new Promise<void>((resolve, reject) => helper.startServer((err?: Error) => (err ? reject(err) : resolve())));
  started = true;
}

export async function stopRuntime(): Promise<void> {
  if (!started) return;
  await helper.unload();
  await new Promise((resolve) => helper.stopServer(resolve));
  started = false;
}

/**
 * Loads a tab: the given nodes (x, y, z filled in), a Catch node wired to the 'caught' sink and
 * one sink helper node per id in `sinks`. Returns a function that injects into a node by id.
 */
export async function loadFlow(
  nodes: any[],
  sinks: Record<string, Sink>,
  credentials: Record<string, unknown> = {},
): Promise<{ inject(id: string, msg: any): void; node(id: string): any }> {
  const flow = [
    { id: 'tab', type: 'tab', label: 'bench' },
    ...nodes.map((n) => (n.type === 'playment-config' ? { z: 'tab', ...n } : { z: 'tab', x: 0, y: 0, ...n })),
    { id: 'catch', type: 'catch', z: 'tab', x: 0, y: 0, scope: null, uncaught: false, wires: [['caught']] },
    ...['caught', ...Object.keys(sinks).filter((id) => id !== 'caught')].map((id) => ({ id, type: 'helper', z: 'tab', x: 0, y: 0 })),
  ];
  await helper.load(NODE_MODULES, flow, credentials);
  stripInstrumentation(flow.map((n) => n.id));
  for (const [id, sink] of Object.entries(sinks)) helper.getNode(id).on('input', sink);
  return {
    inject: (id, msg) => helper.getNode(id).receive(msg),
    node: (id) => helper.getNode(id),
  };
}

/** Stops the flow: every node closes (ours end their queued messages with ABORTED). */
export async function unloadFlow(): Promise<void> {
  await helper.unload();
}

function stripInstrumentation(ids: string[]): void {
  helper._sandbox.restore();
  helper._logSpy?.restore();
  // A wired node copies Node.prototype.send onto itself when created, i.e. the helper's spy.
  const proto = helper._NodePrototype;
  for (const id of ids) {
    const node = helper.getNode(id);
    if (node && Object.prototype.hasOwnProperty.call(node, 'send') && node._wireCount > 0) node.send = proto.send;
  }
}

/** The submit node under test, 'ours', using the config node 'cfg' and wired to the 'out' sink. */
export const SUBMIT_NODE = { id: 'ours', type: 'playment-submit-video-job', config: 'cfg', tag: TAG, tagType: 'str', wires: [['out']] };

/** The config node as stored in flows.json. */
export function configNodeDef(baseUrl: string, projectId: string, opts: Record<string, unknown>): any {
  return { id: 'cfg', type: 'playment-config', baseUrl, apiVersion: 'v0', projectId, maxRetries: 2, ...opts };
}
