/**
 * The example flows in examples/ and the flows built from them: the `npm start` demo (an example
 * plus result polling) and deployable copies for tests. Example files are node arrays without a
 * tab and without credentials; deploying one needs a tab, a base URL and an API key.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** A node as it appears in a flow file or in the Admin API's /flows. */
export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  x?: number;
  y?: number;
  wires?: string[][];
  credentials?: Record<string, string>;
  [key: string]: unknown;
}

/** The package's examples/ folder (the same relative place from src/demo and dist/demo). */
export const EXAMPLES_DIR = path.resolve(__dirname, '..', '..', 'examples');

/** The example the demo and the packaging test run against the sandbox. */
export const DEMO_EXAMPLE = 'Create a batch and submit video jobs';

export const CONFIG_TYPE = 'playment-config';
export const NODE_TYPES = [CONFIG_TYPE, 'playment-create-batch', 'playment-submit-video-job', 'playment-job-result'] as const;
/** The node types that sit in a flow (every type but the config node). */
export const ACTION_TYPES = NODE_TYPES.filter((t) => t !== CONFIG_TYPE);

/** Example titles (file names without .json), sorted. */
export function exampleTitles(dir = EXAMPLES_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function readExample(title: string, dir = EXAMPLES_DIR): FlowNode[] {
  const nodes: unknown = JSON.parse(readFileSync(path.join(dir, `${title}.json`), 'utf8'));
  if (!Array.isArray(nodes)) throw new Error(`example "${title}" is not a JSON array of nodes`);
  return nodes as FlowNode[];
}

/** Flow nodes have a position; config nodes do not. */
export function isFlowNode(node: FlowNode): boolean {
  return typeof node.x === 'number' && typeof node.y === 'number';
}

export interface DeployOptions {
  /** Base URL for every playment-config node, e.g. the sandbox's URL. */
  baseUrl: string;
  /** The API key credential: a literal key or '${PLAYMENT_API_KEY}'. */
  apiKey: string;
  /** Overrides the config nodes' project id. */
  projectId?: string;
  tabId?: string;
  tabLabel?: string;
  /** Sets `once` on every inject node: the flow runs right after deploy. */
  runOnce?: boolean;
}

/**
 * A deployable copy of example nodes: one tab holding every flow node, config nodes pointed at
 * `baseUrl` and carrying the key as a credential (Node-RED stores it in flows_cred.json).
 */
export function toDeployable(nodes: readonly FlowNode[], opts: DeployOptions): FlowNode[] {
  const tabId = opts.tabId ?? 'playment-demo-tab';
  const tab: FlowNode = { id: tabId, type: 'tab', label: opts.tabLabel ?? 'Playment', disabled: false, info: '' };
  const copy = (JSON.parse(JSON.stringify(nodes)) as FlowNode[]).map((node) => {
    if (node.type === CONFIG_TYPE) {
      const config: FlowNode = { ...node, baseUrl: opts.baseUrl, credentials: { apiKey: opts.apiKey } };
      if (opts.projectId !== undefined) config.projectId = opts.projectId;
      delete config.z;
      return config;
    }
    if (!isFlowNode(node)) return node;
    const flowNode: FlowNode = { ...node, z: tabId };
    if (opts.runOnce && node.type === 'inject') {
      flowNode.once = true;
      flowNode.onceDelay = 0.5;
    }
    return flowNode;
  });
  return [tab, ...copy];
}

export interface DemoOptions extends DeployOptions {
  /** Seconds between result polls (default 3). */
  pollInterval?: number;
}

/** Stable ids of the nodes the demo adds to the example. */
export const DEMO_IDS = {
  comment: 'demo-comment',
  jobsToConsole: 'demo-jobs-console',
  result: 'demo-job-result',
  resultsToSidebar: 'demo-results',
  resultsToConsole: 'demo-results-console',
} as const;

/**
 * The `npm start` demo: the "Create a batch…" example, plus one-line job ids and results in the
 * terminal (debug nodes with console output) and a job-result node that waits for each job and
 * downloads its annotations.
 */
export function demoFlow(opts: DemoOptions): FlowNode[] {
  const flow = toDeployable(readExample(DEMO_EXAMPLE), { tabLabel: 'Playment demo', ...opts });
  const tabId = flow[0].id;
  const submit = flow.find((n) => n.type === 'playment-submit-video-job');
  const config = flow.find((n) => n.type === CONFIG_TYPE);
  if (!submit || !config || !submit.wires) throw new Error(`example "${DEMO_EXAMPLE}" has no submit or config node`);
  const x = Number(submit.x);
  const y = Number(submit.y);
  submit.wires = [[...(submit.wires[0] ?? []), DEMO_IDS.jobsToConsole, DEMO_IDS.result]];

  const consoleDebug = (id: string, name: string, expression: string, nx: number, ny: number): FlowNode => ({
    id,
    type: 'debug',
    z: tabId,
    name,
    active: true,
    tosidebar: false,
    console: true,
    tostatus: false,
    complete: expression,
    targetType: 'jsonata',
    statusVal: '',
    statusType: 'auto',
    x: nx,
    y: ny,
    wires: [],
  });

  flow.push(
    {
      id: DEMO_IDS.comment,
      type: 'comment',
      z: tabId,
      name: 'Demo: job ids and results also go to the terminal',
      info:
        'Deployed by `npm start` against the local sandbox. The flow above is the example ' +
        `"${DEMO_EXAMPLE}" (Import › Examples); this part waits for each job (the sandbox completes ` +
        'jobs after about 10 s), downloads its annotations and prints one line per job and per result ' +
        'in the terminal that runs `npm start`. The API key comes from the environment: the config ' +
        "node's key is `${PLAYMENT_API_KEY}`.",
      x: x - 40,
      y: y + 60,
      wires: [],
    },
    consoleDebug(
      DEMO_IDS.jobsToConsole,
      'job ids (terminal)',
      '"job " & payload.job_id & "  reference " & payload.reference_id & "  batch " & payload.batch_id',
      x + 230,
      y + 40,
    ),
    {
      id: DEMO_IDS.result,
      type: 'playment-job-result',
      z: tabId,
      name: 'wait for result',
      config: config.id,
      jobId: '',
      jobIdType: 'str',
      mode: 'wait',
      pollInterval: opts.pollInterval ?? 3,
      maxWait: 1,
      download: true,
      maxResultSize: 16,
      x: x + 20,
      y: y + 110,
      wires: [[DEMO_IDS.resultsToSidebar, DEMO_IDS.resultsToConsole]],
    },
    {
      id: DEMO_IDS.resultsToSidebar,
      type: 'debug',
      z: tabId,
      name: 'results',
      active: true,
      tosidebar: true,
      console: false,
      tostatus: false,
      complete: 'payload',
      targetType: 'msg',
      statusVal: '',
      statusType: 'auto',
      x: x + 210,
      y: y + 110,
      wires: [],
    },
    consoleDebug(
      DEMO_IDS.resultsToConsole,
      'results (terminal)',
      '"result for job " & payload.job_id & ": " & payload.status & ", " & $string($count(payload.annotations)) & ' +
        '" annotation tracks over " & $string($count($distinct(payload.annotations.frames.$keys()))) & " frames"',
      x + 240,
      y + 150,
    ),
  );
  return flow;
}
