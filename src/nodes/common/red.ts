/** The parts of Node-RED's runtime API this package uses, typed once. */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';

export type RED = NodeAPI;
export type { Node, NodeDef, NodeMessage, NodeMessageInFlow };

/** A message as our nodes read and extend it: any property may be present. */
export type Msg = NodeMessageInFlow & Record<string, unknown>;

export type SendFn = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type DoneFn = (err?: Error) => void;

/** Where a value in a node's dialog comes from (Node-RED's TypedInput types). */
export type ValueType = 'str' | 'num' | 'msg' | 'flow' | 'global' | 'env' | 'bool' | 'json' | 'jsonata';
