/**
 * Saved-flow versions. Each node saves a `version` property (its editor default); a node saved
 * before versions existed has none: version 0. Before a node reads its properties, `migrate`
 * upgrades them one step at a time (version N to N + 1) to the version this runtime reads.
 * Steps are pure, and a step must leave properties already in the newer form unchanged: the
 * editor keeps a node's missing `version` missing when the node is imported and edited.
 */
import { NUMERIC_SETTINGS } from './limits';

export type Properties = Record<string, unknown>;
type Step = (props: Properties) => Properties;

export const NODE_TYPES = ['playment-config', 'playment-create-batch', 'playment-submit-video-job', 'playment-job-result'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

const JOB_RESULT_LIMITS = NUMERIC_SETTINGS['playment-job-result'];

function isBlank(v: unknown): boolean {
  return typeof v === 'string' && v.trim() === '';
}

function without(props: Properties, names: string[]): Properties {
  const out = { ...props };
  for (const name of names) delete out[name];
  return out;
}

/** Version 0 to 1 of the config node: 0.1.0 read a blank number as its default; today only a missing one is. */
function configV1(props: Properties): Properties {
  const blanks = Object.keys(NUMERIC_SETTINGS['playment-config']).filter((name) => isBlank(props[name]));
  return without(props, blanks);
}

/**
 * Version 0 to 1 of the job-result node. 0.1.0 read a poll interval or maximum wait that was
 * blank, not a number or not above 0 as its default, and polled faster than once a second when
 * told to; today such values make the node not usable, and the interval is at least 1 s.
 */
function jobResultV1(props: Properties): Properties {
  const readAsDefault = (['pollInterval', 'maxWait'] as const).filter((name) => {
    const v = props[name];
    if (v === undefined || v === null) return false;
    const n = typeof v === 'number' ? v : isBlank(v) ? NaN : Number(v);
    return !Number.isFinite(n) || n <= 0;
  });
  const out = without(props, readAsDefault);
  const interval = out.pollInterval === undefined || out.pollInterval === null ? NaN : Number(out.pollInterval);
  if (interval < JOB_RESULT_LIMITS.pollInterval.min) out.pollInterval = JOB_RESULT_LIMITS.pollInterval.min;
  return out;
}

/** The action nodes that read their version 0 properties as they are. */
const unchanged: Step = (props) => props;

/** Each type's steps: step i upgrades version i to version i + 1. */
const STEPS: Record<NodeType, readonly Step[]> = {
  'playment-config': [configV1],
  'playment-create-batch': [unchanged],
  'playment-submit-video-job': [unchanged],
  'playment-job-result': [jobResultV1],
};

/** The version this runtime reads (and the editor saves) for a node type. */
export function currentVersion(type: NodeType): number {
  return STEPS[type].length;
}

/** The saved version of a node's properties: a whole number from 0, 0 when missing. */
export function savedVersion(props: { version?: unknown }): number {
  const v = Number(props.version ?? 0);
  return Number.isInteger(v) && v > 0 ? v : 0;
}

/**
 * A node's properties upgraded to the current version of its type, `version` set to it; the
 * input is left untouched. Properties saved by a newer version are returned as they are.
 */
export function migrate<T extends object>(type: NodeType, props: T): T & { version: number } {
  const steps = STEPS[type];
  const from = savedVersion(props as Properties);
  if (from >= steps.length) return { ...props, version: from };
  let out = { ...props } as Properties;
  for (const step of steps.slice(from)) out = step(out);
  return { ...(out as T), version: steps.length };
}
