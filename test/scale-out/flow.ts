/**
 * The "Scale out over MQTT" example as each instance of the test deploys it (the broker's port,
 * the sandbox, this instance's client id and share of the rate), and the sequences the producer
 * publishes, with the reference ids the example's submit node derives from them.
 */
import { CONFIG_TYPE, readExample, toDeployable, type FlowNode } from '../../src/demo/flows';
import { planJobs } from '../../src/jobs/plan';
import { PLAN_OPTIONS, sequenceFrames } from '../bench/workload';
import type { Sequence } from './ledger';

export const EXAMPLE = 'Scale out over MQTT';
export const SUBMIT_TYPE = 'playment-submit-video-job';

export interface InstanceSettings {
  sandboxUrl: string;
  apiKey: string;
  projectId: string;
  brokerPort: number;
  /** The MQTT client id: unique per instance. */
  clientId: string;
  /** Requests per second for this instance's config node. */
  rateLimit: number;
}

function only(nodes: FlowNode[], type: string): FlowNode {
  const found = nodes.filter((n) => n.type === type);
  if (found.length !== 1) throw new Error(`example "${EXAMPLE}" should hold one ${type} node, has ${found.length}`);
  return found[0];
}

export function instanceFlow(s: InstanceSettings): FlowNode[] {
  const flow = toDeployable(readExample(EXAMPLE), {
    baseUrl: s.sandboxUrl,
    apiKey: s.apiKey,
    projectId: s.projectId,
    tabId: 'scale-out-tab',
    tabLabel: EXAMPLE,
  });
  only(flow, CONFIG_TYPE).rateLimit = s.rateLimit;
  const broker = only(flow, 'mqtt-broker');
  broker.port = String(s.brokerPort);
  broker.clientid = s.clientId;
  return flow;
}

/** The submit node's own settings from the example (its reference ids depend on them). */
export function exampleSubmitNode(): FlowNode {
  return only(readExample(EXAMPLE), SUBMIT_TYPE);
}

/** `count` distinct sequences of `frames` frames, on frames/seq-<n>. */
export function makeSequences(count: number, frames: number): Sequence[] {
  const submit = exampleSubmitNode();
  const settings = { tag: submit.tag, work_flow_id: submit.workFlowId || undefined, batch_id: submit.batchId || undefined };
  return Array.from({ length: count }, (_, i) => {
    const list = sequenceFrames(i, frames, 'scale-out-mqtt');
    return {
      topic: `frames/seq-${String(i).padStart(5, '0')}`,
      frames: list,
      referenceId: planJobs(list, settings, {}, PLAN_OPTIONS)[0].body.reference_id,
    };
  });
}
