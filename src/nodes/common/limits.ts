/**
 * The numeric settings of the config node and the job-result node: default, range and unit, in
 * one table. The runtime checks flows against it (config-settings.ts, parsePollSettings) and the
 * build writes it to resources/limits.js (src/build/editor-resources.ts), which the dialogs load,
 * so the editor accepts exactly the values the runtime accepts.
 */
import { z } from 'zod';
import { PlaymentError } from '../../api/errors';

export interface NumericSetting {
  /** Used when the property is missing from the flow. */
  default: number;
  min: number;
  max: number;
  integer: boolean;
  /** What the number counts, for messages. */
  unit: string;
  /** Milliseconds per unit, for settings that are durations. */
  msPerUnit?: number;
  /** Bytes per unit, for settings that are sizes. */
  bytesPerUnit?: number;
  /** A value below `min` that is accepted too: it switches the limit off. */
  off?: number;
}

export const NUMERIC_SETTINGS = {
  'playment-config': {
    requestTimeout: { default: 30, min: 0.1, max: 3600, integer: false, unit: 'seconds', msPerUnit: 1000 },
    connectTimeout: { default: 10, min: 0.1, max: 600, integer: false, unit: 'seconds', msPerUnit: 1000 },
    maxRetries: { default: 4, min: 0, max: 10, integer: true, unit: 'extra attempts' },
    // Slower than 0.01/s (one request every 100 s) is no use; 0 switches the limit off.
    rateLimit: { default: 5, min: 0.01, max: 1000, integer: false, unit: 'requests per second', off: 0 },
    maxConcurrent: { default: 4, min: 1, max: 256, integer: true, unit: 'requests at a time' },
    maxQueue: { default: 10_000, min: 1, max: 1_000_000, integer: true, unit: 'waiting requests' },
  },
  'playment-job-result': {
    pollInterval: { default: 30, min: 1, max: 86_400, integer: false, unit: 'seconds', msPerUnit: 1000 },
    // Any positive wait works (shorter than the interval: one poll, then TIMEOUT); 576 hours =
    // 24 days, within one timer's reach.
    maxWait: { default: 24, min: 0.0001, max: 576, integer: false, unit: 'hours', msPerUnit: 3_600_000 },
    // Result files are parsed in memory: the cap bounds what one download can hold.
    maxResultSize: { default: 16, min: 1, max: 256, integer: false, unit: 'MB of 1,048,576 bytes', bytesPerUnit: 1_048_576 },
  },
} as const satisfies Record<string, Record<string, NumericSetting>>;

export type ConfigNumericSetting = keyof (typeof NUMERIC_SETTINGS)['playment-config'];

/** "1,000,000": numbers as the help texts write them. */
export function formatNumber(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 6 });
}

/** What a setting accepts, e.g. "a whole number from 1 to 256 (requests at a time)". */
export function describeRange(s: NumericSetting): string {
  const range = `${s.integer ? 'a whole number' : 'a number'} from ${formatNumber(s.min)} to ${formatNumber(s.max)} (${s.unit})`;
  return s.off === undefined ? range : `${formatNumber(s.off)} (no limit) or ${range}`;
}

/**
 * The setting's value as a number, or undefined when it is not acceptable. Missing (undefined or
 * null) means the default; a number or a string holding one is accepted when in range. The
 * editor's copy of this rule is `numericSettings` in resources/editor.js.
 */
export function settingValue(s: NumericSetting, v: unknown): number | undefined {
  if (v === undefined || v === null) return s.default;
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && v.trim() !== '') n = Number(v.trim());
  else return undefined;
  if (!Number.isFinite(n)) return undefined;
  if (s.off !== undefined && n === s.off) return n;
  if (n < s.min || n > s.max || (s.integer && !Number.isInteger(n))) return undefined;
  return n;
}

function shown(v: unknown): string {
  const text = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** Why `v` is not acceptable for the setting, naming the range; undefined when it is. */
export function settingProblem(s: NumericSetting, v: unknown): string | undefined {
  return settingValue(s, v) === undefined ? `must be ${describeRange(s)}; got ${shown(v)}` : undefined;
}

/** A zod schema for one setting of the table; its issue says the range. */
export function settingSchema(s: NumericSetting) {
  return z
    .unknown()
    .optional()
    .transform((v, ctx): number => {
      const n = settingValue(s, v);
      if (n === undefined) {
        ctx.addIssue({ code: 'custom', message: settingProblem(s, v)! });
        return z.NEVER;
      }
      return n;
    });
}

export interface JobResultSettings {
  intervalMs: number;
  maxWaitMs: number;
  /** The largest result file a download reads. */
  maxResultBytes: number;
}

/**
 * The job-result node's numeric settings in milliseconds and bytes. Throws NOT_CONFIGURED,
 * naming the setting and its range, when one is out of range.
 */
export function parseJobResultSettings(def: { pollInterval?: unknown; maxWait?: unknown; maxResultSize?: unknown }): JobResultSettings {
  const table = NUMERIC_SETTINGS['playment-job-result'];
  const value = (name: keyof typeof table): number => {
    const n = settingValue(table[name], def[name]);
    if (n === undefined) {
      throw new PlaymentError({
        code: 'NOT_CONFIGURED',
        message: `the job-result node is not usable: ${name}: ${settingProblem(table[name], def[name])}`,
      });
    }
    return n;
  };
  return {
    intervalMs: Math.round(value('pollInterval') * table.pollInterval.msPerUnit),
    maxWaitMs: Math.round(value('maxWait') * table.maxWait.msPerUnit),
    maxResultBytes: Math.floor(value('maxResultSize') * table.maxResultSize.bytesPerUnit),
  };
}
