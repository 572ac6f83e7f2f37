/**
 * A node's message contract, declared once per node as a table: for each input field, the node
 * property (and TypedInput type property) that sets it, the message paths that fill it when the
 * node leaves it blank, its default and its zod schema. One resolver reads every table with
 * Node-RED's precedence: the node's value wins, the message fills blanks, then the default.
 *
 * The node's own properties are parsed once when it starts: a bad stored value (a hand-edited
 * flows.json) makes the node "not configured", naming the property, instead of failing each
 * message in its own way.
 */
import { z } from 'zod';
import { PlaymentError, invalidInput } from '../../api/errors';
import { firstFilled, isBlank } from '../../jobs/fill-blanks';
import { isPlainObject, preview } from '../../jobs/frames';
import type { Msg, Node, RED, ValueType } from './red';

/** The TypedInput types the dialogs offer (resources/editor.js); the first is the default. */
export const STRING_TYPES = ['str', 'msg', 'flow', 'global', 'env'] as const satisfies readonly ValueType[];
export const NUMBER_TYPES = ['num', 'msg', 'flow', 'global', 'env'] as const satisfies readonly ValueType[];

/** Types whose stored value is the value itself: checked once at start, not per message. */
const LITERAL_TYPES: ReadonlySet<string> = new Set(['str', 'num']);

/**
 * Where on the message a blank field is filled from: a dot path ('job_id', 'payload.job_id')
 * that only walks plain objects (a Function node's too), or a reader for anything else.
 */
export type MsgSource = string | ((msg: Msg) => unknown);

export interface InputField {
  /** The node property that sets the field: when not blank, it wins over the message. */
  property?: string;
  /** The node property holding `property`'s TypedInput type; without one the value is literal. */
  typeProperty?: string;
  /** The types `typeProperty` may hold; the first is used when it is blank. */
  types?: readonly ValueType[];
  /** Where the message fills a blank node value, first filled wins. */
  msg?: readonly MsgSource[];
  /** The value when neither the node nor the message gives one. */
  default?: unknown;
  /**
   * Checks and converts the value; its first issue's text is the INVALID_INPUT error. A literal
   * node value is checked with it once, at start. Without one the value passes as it is (for a
   * caller that checks it later, as the job planner does per sequence).
   */
  schema?: z.ZodType;
}

export type InputFields = Record<string, InputField>;

export interface NodeContract<F extends InputFields = InputFields, P extends z.ZodType = z.ZodType> {
  /** What each message may set. */
  fields: F;
  /** The node's own settings (checkboxes, selects, numbers), parsed from its properties at start. */
  properties: P;
}

/** Declares a contract, keeping its literal types for InputValues and NodeProperties. */
export function defineContract<F extends InputFields, P extends z.ZodType>(contract: NodeContract<F, P>): NodeContract<F, P> {
  return contract;
}

/** The values a message resolves to, typed by each field's schema. */
export type InputValues<F extends InputFields> = {
  [K in keyof F]: F[K] extends { schema: infer S extends z.ZodType } ? z.output<S> : unknown;
};

/** A node's settings as its contract's `properties` schema gives them. */
export type NodeProperties<C extends NodeContract> = z.output<C['properties']>;

/** The values of some fields by where they came from, before precedence. */
export interface InputSources<K extends PropertyKey> {
  node: Partial<Record<K, unknown>>;
  msg: Partial<Record<K, unknown>>;
}

export type ParsedProperties<P> = { ok: true; properties: P } | { ok: false; problem: PlaymentError };

type Def = Record<string, unknown>;

/**
 * The node's properties checked once: every TypedInput type among the field's `types`, every
 * literal field value by the field's schema, the rest by the contract's `properties` schema.
 * A problem is NOT_CONFIGURED naming the property.
 */
export function parseNodeProperties<C extends NodeContract>(type: string, def: Def, contract: C): ParsedProperties<NodeProperties<C>> {
  const notUsable = (property: string, problem: string): ParsedProperties<never> => ({
    ok: false,
    problem: new PlaymentError({ code: 'NOT_CONFIGURED', message: `the ${type} node is not usable: ${property}: ${problem}` }),
  });
  for (const field of Object.values(contract.fields)) {
    if (!field.property) continue;
    const valueType = typeOf(def, field);
    if (field.types && !field.types.includes(valueType as ValueType)) {
      return notUsable(field.typeProperty!, `must be one of ${field.types.map((t) => `"${t}"`).join(', ')}; got ${preview(valueType)}`);
    }
    const literal = literalValue(def[field.property], valueType);
    if (literal !== undefined && field.schema) {
      const res = field.schema.safeParse(literal);
      if (!res.success) return notUsable(field.property, res.error.issues[0].message);
    }
  }
  const res = contract.properties.safeParse(def);
  if (!res.success) {
    const issue = res.error.issues[0];
    return notUsable(issue.path.join('.') || 'properties', issue.message);
  }
  return { ok: true, properties: res.data as NodeProperties<C> };
}

/** The field's TypedInput type: the stored one, or the first allowed when blank. */
function typeOf(def: Def, field: InputField): string {
  const stored = field.typeProperty ? def[field.typeProperty] : undefined;
  if (!isBlank(stored)) return typeof stored === 'string' ? stored : String(stored);
  return field.types?.[0] ?? 'str';
}

/** A literal stored value, trimmed; undefined when the type is not literal or the value is blank. */
function literalValue(stored: unknown, valueType: string): unknown {
  if (!LITERAL_TYPES.has(valueType)) return undefined;
  const value = typeof stored === 'string' ? stored.trim() : stored;
  return isBlank(value) ? undefined : value;
}

/** A node property chosen in a select: one of `values`; blank means the first. */
export function choice<const T extends readonly [string, ...string[]]>(values: T) {
  // optional(): a missing property is blank, not an error.
  return z
    .unknown()
    .optional()
    .transform((v, ctx): T[number] => {
      if (isBlank(v)) return values[0];
      if (typeof v === 'string' && values.includes(v)) return v;
      ctx.addIssue({ code: 'custom', message: `must be one of ${values.map((x) => `"${x}"`).join(', ')}; got ${preview(v)}` });
      return z.NEVER;
    });
}

/** A node property set by a checkbox: true or false; missing means `byDefault`. */
export function flag(byDefault: boolean) {
  return z
    .unknown()
    .optional()
    .transform((v, ctx): boolean => {
      if (v === undefined || v === null) return byDefault;
      if (typeof v === 'boolean') return v;
      ctx.addIssue({ code: 'custom', message: `must be true or false; got ${preview(v)}` });
      return z.NEVER;
    });
}

/** Reads a node's fields for one message: the one place Node-RED's precedence is applied to them. */
export class InputResolver<F extends InputFields> {
  constructor(
    private readonly red: RED,
    private readonly node: Node,
    private readonly def: Def,
    private readonly fields: F,
  ) {}

  /**
   * Each field's value from the node and from the message, blanks left out, for a caller with a
   * place of its own between them (a bulk payload's sequences).
   */
  async sources<K extends keyof F & string>(msg: Msg, keys: readonly K[]): Promise<InputSources<K>> {
    const fromNode = await Promise.all(keys.map((k) => this.nodeValue(msg, this.fields[k])));
    const out: InputSources<K> = { node: {}, msg: {} };
    keys.forEach((k, i) => {
      const fromMsg = firstFilled(...(this.fields[k].msg ?? []).map((source) => read(msg, source)));
      if (!isBlank(fromNode[i])) out.node[k] = fromNode[i];
      if (!isBlank(fromMsg)) out.msg[k] = fromMsg;
    });
    return out;
  }

  /** The fields' values: the node's, else the message's, else the default; checked by each schema. */
  async values<K extends keyof F & string>(msg: Msg, ...keys: K[]): Promise<Pick<InputValues<F>, K>> {
    const sources = await this.sources(msg, keys);
    const out: Partial<Record<K, unknown>> = {};
    for (const k of keys) {
      const field = this.fields[k];
      const value = firstFilled(sources.node[k], sources.msg[k], field.default);
      if (!field.schema) {
        out[k] = value;
        continue;
      }
      const res = field.schema.safeParse(value);
      if (!res.success) throw invalidInput(res.error.issues[0].message);
      out[k] = res.data;
    }
    return out as Pick<InputValues<F>, K>;
  }

  /** The node's own value: a literal (trimmed), or read where its TypedInput points (msg, flow, global, env). */
  private nodeValue(msg: Msg, field: InputField): Promise<unknown> {
    if (!field.property) return Promise.resolve(undefined);
    const stored = this.def[field.property];
    const valueType = typeOf(this.def, field);
    if (LITERAL_TYPES.has(valueType)) return Promise.resolve(literalValue(stored, valueType));
    if (isBlank(typeof stored === 'string' ? stored.trim() : stored)) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.red.util.evaluateNodeProperty(String(stored), valueType as ValueType, this.node, msg, (err, result) => {
        if (err) reject(err);
        else resolve(result);
      });
    });
  }
}

/** A message source's value; a path walks only plain objects below the message. */
function read(msg: Msg, source: MsgSource): unknown {
  if (typeof source === 'function') return source(msg);
  const [first, ...rest] = source.split('.');
  let value: unknown = msg[first];
  for (const key of rest) {
    if (!isPlainObject(value)) return undefined;
    value = value[key];
  }
  return value;
}
