/** The parts of Node-RED's runtime API this package uses, typed once. */
import type { Node, NodeAPI, NodeAPISettingsWithData, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';

/**
 * The runtime settings this package declares (registerType's `settings`): set in settings.js,
 * absent otherwise. Their names start with the node type in camelCase, as Node-RED requires.
 */
export interface PlaymentSettings {
  /** Milliseconds requests in flight get to finish when a config node closes. */
  playmentConfigCloseGrace?: unknown;
}

export type RED = NodeAPI<NodeAPISettingsWithData & PlaymentSettings>;
export type { Node, NodeDef, NodeMessage, NodeMessageInFlow };

/** A message as our nodes read and extend it: any property may be present. */
export type Msg = NodeMessageInFlow & Record<string, unknown>;

export type SendFn = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type DoneFn = (err?: Error) => void;

/** Where a value in a node's dialog comes from (Node-RED's TypedInput types). */
export type ValueType = 'str' | 'num' | 'msg' | 'flow' | 'global' | 'env' | 'bool' | 'json' | 'jsonata';
