/**
 * The one input wrapper every action node uses. It guarantees that each message ends exactly
 * once (sent, or `done(err)` so Catch nodes see it), parses the node's properties once and reads
 * each message's values through the node's input contract, keeps the status board, maps errors,
 * keeps the API key out of every error, and ends all pending messages when the node closes.
 */
import { PlaymentError, isPlaymentError, redact } from '../../api/errors';
import { timerDelay } from '../../api/timer-delay';
import type { CallOptions, PlaymentClient } from '../../api/client';
import { StatusBoard } from './status';
import { clientOf, lookupConfig, selectedConfig, type PlaymentConfigNode } from './config-node';
import {
  InputResolver,
  parseNodeProperties,
  type InputFields,
  type InputSources,
  type InputValues,
  type NodeContract,
  type NodeProperties,
} from './input-contract';
import { migrate, type NodeType } from './migrations';
import type { DoneFn, Msg, Node, NodeDef, RED, SendFn } from './red';

export interface ActionNodeDef extends NodeDef {
  config: string;
}

export interface ActionContext<C extends NodeContract = NodeContract> {
  red: RED;
  node: Node;
  /** The selected config node (NOT_CONFIGURED before the handler runs when there is none). */
  config: PlaymentConfigNode;
  /** The message sends nothing (ActionOptions.sendsNothing): no usable client is required. */
  sendsNothing: boolean;
  /** The account's client: checked before the handler runs unless the message sends nothing. */
  readonly client: PlaymentClient;
  /** Pass to every client call: ties it to this node's life and to the status board. */
  call: CallOptions;
  status: StatusBoard;
  /** Set when the node closes: `removed` tells a deletion from a redeploy or restart. */
  lifecycle: Readonly<Lifecycle>;
  /** The node's own settings, parsed from its properties when it started. */
  props: NodeProperties<C>;
  /** The message's values of these fields of the node's contract: node, else message, else default; checked. */
  input<K extends keyof C['fields'] & string>(...keys: K[]): Promise<Pick<InputValues<C['fields']>, K>>;
  /** These fields' values from the node and from the message, before precedence. */
  inputSources<K extends keyof C['fields'] & string>(keys: readonly K[]): Promise<InputSources<K>>;
  /** Takes the API key out of a text put on a message (error texts are redacted by the wrapper). */
  redact(text: string): string;
  /** An error as the wrapper reports it (code, no key, `msg.statusCode`), for a message the handler ends itself. */
  reportable(err: unknown, msg: Msg): Error;
}

export interface Lifecycle {
  closing: boolean;
  removed: boolean;
}

export interface ActionResult {
  /** Messages to send on the single output, in order. */
  messages: Msg[];
  /** Green status text after success. */
  statusText: string;
  /** Set when some of the work failed after other parts were sent (bulk, split). */
  error?: PlaymentError;
}

export type ActionHandler<C extends NodeContract = NodeContract> = (msg: Msg, ctx: ActionContext<C>) => Promise<ActionResult>;

export interface ActionNodeOptions<C extends NodeContract> {
  red: RED;
  node: Node;
  /** The node's properties (after migrate). */
  def: ActionNodeDef;
  type: string;
  /** What messages and the node's properties may set: parsed at start, read per message. */
  contract: C;
  handler: ActionHandler<C>;
  /**
   * True for a message that will send nothing (a dry run): the wrapper then does not require a
   * usable client (no API key needed); the handler reads `ctx.client` only if it needs it.
   */
  sendsNothing?: (msg: Msg, props: NodeProperties<C>) => boolean;
  /**
   * What the node needs from its config node, checked when the node starts so a missing or
   * refused one shows at deploy: throws NOT_CONFIGURED. Default: a usable client.
   */
  configCheck?: (config: PlaymentConfigNode, props: NodeProperties<C>) => unknown;
}

/** What one node of an action type does: built per node, after its properties are upgraded. */
export type ActionBehaviour<C extends NodeContract> = Pick<ActionNodeOptions<C>, 'handler' | 'sendsNothing' | 'configCheck'> & {
  /**
   * Runs once the node is set up, when its own properties are valid (also when its config node is
   * missing or unusable: its messages then end with NOT_CONFIGURED).
   */
  started?: (props: NodeProperties<C>) => void;
};

export interface ActionNodeType<C extends NodeContract> {
  type: NodeType;
  contract: C;
  /** Called for each node of the type with its upgraded properties. */
  behaviour: (node: Node, def: ActionNodeDef) => ActionBehaviour<C>;
}

/** Registers an action node type: each node is created, its saved properties upgraded, then set up. */
export function registerActionNode<C extends NodeContract>(red: RED, nodeType: ActionNodeType<C>): void {
  const { type, contract } = nodeType;
  function ActionNode(this: Node, saved: ActionNodeDef) {
    red.nodes.createNode(this, saved);
    // After createNode, which reads properties the runtime keeps on the original (not enumerable).
    const def = migrate(type, saved);
    const { started, ...behaviour } = nodeType.behaviour(this, def);
    const props = setupActionNode({ red, node: this, def, type, contract, ...behaviour });
    if (props) started?.(props);
  }
  red.nodes.registerType(type, ActionNode as never);
}

/** Default time in-flight requests get to finish when a node closes (Node-RED allows 15 s). */
export const DEFAULT_CLOSE_GRACE_MS = 5000;

/**
 * Sets the node up; returns its parsed settings, or undefined when a property is bad: the node
 * then shows "not configured" and ends every message with the NOT_CONFIGURED naming it.
 */
export function setupActionNode<C extends NodeContract>(options: ActionNodeOptions<C>): NodeProperties<C> | undefined {
  const { red, node, def, type, handler } = options;
  const stored = def as unknown as Record<string, unknown>;
  const parsed = parseNodeProperties(type, stored, options.contract);
  const resolver = new InputResolver<InputFields>(red, node, stored, options.contract.fields);
  const status = new StatusBoard(red, node, type);
  // `cancel` ends waiting work at once on close; `abort` ends exchanges after the grace period.
  const cancel = new AbortController();
  const abort = new AbortController();
  const pending = new Set<Promise<void>>();
  const lifecycle: Lifecycle = { closing: false, removed: false };
  const apiKey = () => lookupConfig(red, def.config)?.credentials?.apiKey;
  // The node's own problem first: it is the one to fix, whatever the config node says.
  const check = (config: PlaymentConfigNode): unknown => {
    if (!parsed.ok) throw parsed.problem;
    return options.configCheck ? options.configCheck(config, parsed.properties) : clientOf(config);
  };
  showConfigProblem(red, node, def, type, check);

  node.on('input', (inMsg: object, send: SendFn, done: DoneFn) => {
    const msg = inMsg as Msg;
    let started = false;
    let statusFinished = false;
    let ended = false;
    const finishStatus = (outcome: Parameters<StatusBoard['finish']>[1]) => {
      if (statusFinished) return;
      statusFinished = true;
      status.finish(started, outcome);
    };
    const end = (err?: unknown) => {
      const reported = err ? toReportable(err, msg, apiKey()) : undefined;
      ended = true;
      if (reported) done(reported);
      else done();
    };
    const finish = (err: unknown, result?: ActionResult) => {
      finishStatus(err ? { ok: false, code: codeOf(err) } : { ok: true, text: result!.statusText });
      if (result && result.messages.length > 0) send([result.messages]);
      end(err);
    };
    status.enqueue();
    const run = (async () => {
      if (cancel.signal.aborted) throw closedError();
      if (!parsed.ok) throw parsed.problem;
      const config = selectedConfig(red, def.config);
      const sendsNothing = options.sendsNothing?.(msg, parsed.properties) === true;
      const client = sendsNothing ? undefined : clientOf(config);
      const ctx: ActionContext<C> = {
        red,
        node,
        config,
        sendsNothing,
        get client() {
          return client ?? clientOf(config);
        },
        status,
        lifecycle,
        call: {
          cancel: cancel.signal,
          abort: abort.signal,
          onStart: () => {
            if (!started) {
              started = true;
              status.start();
            }
          },
        },
        props: parsed.properties,
        input: (...keys) => resolver.values(msg, ...keys) as Promise<Pick<InputValues<C['fields']>, (typeof keys)[number]>>,
        inputSources: (keys) => resolver.sources(msg, keys),
        redact: (text) => redact(text, apiKey()),
        reportable: (err, out) => toReportable(err, out, apiKey()),
      };
      return handler(msg, ctx);
    })();
    const settled = run
      .then(
        (result) => finish(result.error, result),
        (err) => finish(err),
      )
      .catch((err) => {
        node.error(`internal error while ending a message: ${String(err)}`);
        // Still ends once, so Catch nodes see it (a handler that broke the result contract).
        if (ended) return;
        finishStatus({ ok: false, code: 'INTERNAL' });
        end(err);
      })
      .catch(() => node.error('internal error while ending a message'));
    pending.add(settled);
    settled.finally(() => pending.delete(settled));
  });

  node.on('close', (removed: boolean, closeDone: () => void) => {
    lifecycle.closing = true;
    lifecycle.removed = removed === true;
    cancel.abort(closedError());
    const graceMs = lookupConfig(red, def.config)?.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
    const drained = Promise.allSettled([...pending]);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, timerDelay(graceMs))));
    Promise.race([drained, grace])
      .then(() => {
        clearTimeout(timer);
        abort.abort(closedError());
        // Aborted exchanges end quickly; never hold the close past a short cap.
        return Promise.race([Promise.allSettled([...pending]), new Promise((r) => setTimeout(r, 1000).unref())]);
      })
      .finally(() => {
        status.clear();
        closeDone();
      });
  });
  return parsed.ok ? parsed.properties : undefined;
}

/**
 * A red ring from the start when a property of the node is not valid, or the config node is
 * missing or cannot serve this node; messages still end with NOT_CONFIGURED, which says why. Config nodes start before the nodes using them.
 */
function showConfigProblem(red: RED, node: Node, def: ActionNodeDef, type: string, check: (config: PlaymentConfigNode) => unknown): void {
  try {
    check(selectedConfig(red, def.config));
  } catch {
    node.status({ fill: 'red', shape: 'ring', text: red._(`${type}.status.notConfigured`) });
  }
}

function closedError(): PlaymentError {
  return new PlaymentError({ code: 'ABORTED', message: 'the node was closed (redeploy or shutdown)' });
}

function codeOf(err: unknown): string {
  return isPlaymentError(err) ? err.code : 'ERROR';
}

/**
 * The error handed to `done`: our code, a message without the key, no `cause` (it can hold
 * request internals), and `msg.statusCode` when the API answered.
 */
function toReportable(err: unknown, msg: Msg, apiKey: string | undefined): Error {
  const source = isPlaymentError(err)
    ? err
    : new PlaymentError({ code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) });
  if (source.statusCode !== undefined) msg.statusCode = source.statusCode;
  const clean = new PlaymentError({
    code: source.code,
    message: redact(source.message, apiKey),
    statusCode: source.statusCode,
    apiCode: source.apiCode,
    mayExist: source.mayExist,
    referenceId: source.referenceId,
  });
  clean.stack = `${clean.name}: ${clean.message}`;
  return clean;
}
