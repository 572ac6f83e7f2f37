/**
 * Node-RED's precedence for a setting that several places can give, written once: the first
 * value that is not blank wins (the node's, then a bulk sequence's, then the message's, then the
 * default). Used by the nodes' input contracts and by the job planner.
 */

/** Missing, null or the empty string: a place that leaves the setting to the next one. */
export function isBlank(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

/** The first value that is not blank, in order of precedence; undefined when all are. */
export function firstFilled(...values: unknown[]): unknown {
  return values.find((v) => !isBlank(v));
}
