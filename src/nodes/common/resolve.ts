/**
 * One rule for every node field: a value set in the node wins; a blank field is filled from the
 * message (Node-RED's convention); a TypedInput pointing at msg/flow/global/env is read from there.
 */
import { isPlainObject } from '../../jobs/frames';
import type { Msg, Node, RED, ValueType } from './red';

export interface FieldSpec {
  /** The node's stored value and its TypedInput type. */
  value: unknown;
  type?: string;
}

const LITERAL_TYPES = new Set(['str', 'num', 'bool', '', undefined]);

function isBlank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

/** A field's value: undefined when the node leaves it blank, for the caller to fill from the message. */
function resolveField(red: RED, node: Node, msg: Msg, spec: FieldSpec): Promise<unknown> {
  if (isBlank(spec.value)) return Promise.resolve(undefined);
  if (LITERAL_TYPES.has(spec.type)) return Promise.resolve(typeof spec.value === 'string' ? spec.value.trim() : spec.value);
  return new Promise((resolve, reject) => {
    red.util.evaluateNodeProperty(String(spec.value), spec.type as ValueType, node, msg, (err, result) => {
      if (err) reject(err);
      else resolve(result);
    });
  });
}

/** Resolves several fields at once; the result has the same keys. */
export async function resolveFields<K extends string>(
  red: RED,
  node: Node,
  msg: Msg,
  specs: Record<K, FieldSpec>,
): Promise<Record<K, unknown>> {
  const keys = Object.keys(specs) as K[];
  const values = await Promise.all(keys.map((k) => resolveField(red, node, msg, specs[k])));
  return Object.fromEntries(keys.map((k, i) => [k, values[i]])) as Record<K, unknown>;
}

/**
 * `msg.payload[key]` when the payload is a plain object (from any context, a Function node's
 * too): where blank node fields are filled from.
 */
export function payloadField(msg: Msg, key: string): unknown {
  const p = msg.payload;
  return isPlainObject(p) ? p[key] : undefined;
}
