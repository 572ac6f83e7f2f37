/**
 * Saved-flow versions. Each node saves a `version` property (its editor default); a node saved
 * before versions existed has none: version 0. Before a node reads its properties, `migrate`
 * upgrades them one step at a time (version N to N + 1) to the version this runtime reads.
 * Steps are pure, and a step must leave properties already in the newer form unchanged: the
 * editor keeps a node's missing `version` missing when the node is imported and edited.
 */

export type Properties = Record<string, unknown>;
export type Step = (props: Properties) => Properties;

export const NODE_TYPES = ['playment-config', 'playment-create-batch', 'playment-submit-video-job', 'playment-job-result'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/**
 * Version 0 to 1: today's runtime reads version 0 properties as they are. The values 0.1.0 read
 * differently (a blank number as its default, a job-result poll interval below 1 s) are refused
 * with NOT_CONFIGURED naming the setting and its range, as the editor marks them: upgrading them
 * silently would make an unversioned flow saved today behave otherwise than before.
 */
const stampOnly: Step = (props) => props;

/** Each type's steps: step i upgrades version i to version i + 1. */
const STEPS: Record<NodeType, readonly Step[]> = {
  'playment-config': [stampOnly],
  'playment-create-batch': [stampOnly],
  'playment-submit-video-job': [stampOnly],
  'playment-job-result': [stampOnly],
};

/** The version this runtime reads (and the editor saves) for a node type. */
export function currentVersion(type: NodeType): number {
  return STEPS[type].length;
}

/** The saved version of a node's properties: a whole number from 0, 0 when missing. */
export function savedVersion(props: { version?: unknown }): number {
  const v = Number(props.version ?? 0);
  // Stryker disable next-line EqualityOperator: for 0 both branches give 0
  return Number.isInteger(v) && v > 0 ? v : 0;
}

/**
 * Properties upgraded through `steps` from their saved version, `version` set to the last; the
 * input is left untouched. Properties saved by a newer version are returned as they are.
 */
export function upgrade<T extends object>(steps: readonly Step[], props: T): T & { version: number } {
  const from = savedVersion(props as Properties);
  if (from >= steps.length) return { ...props, version: from };
  let out = { ...props } as Properties;
  for (const step of steps.slice(from)) out = step(out);
  return { ...(out as T), version: steps.length };
}

/** A node's properties upgraded to the current version of its type. */
export function migrate<T extends object>(type: NodeType, props: T): T & { version: number } {
  return upgrade(STEPS[type], props);
}
