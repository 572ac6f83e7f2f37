/**
 * Waits that outlive a node: each waiting message is kept in the node's context (one key per
 * wait) until it ends. When the node stops for a redeploy or restart the entries stay, and the
 * node resumes them when it starts again — but only when settings.js configures a context store
 * (`contextStorage`): with only Node-RED's implicit memory store, a stopping node's context is
 * dropped and its waits are lost. Across a restart they survive only in a persistent store
 * (Node-RED's localfilesystem store, for example).
 */
import { randomUUID } from 'node:crypto';
import type { Msg, Node } from './red';

const PREFIX = 'playment-wait:';

export interface PendingWait {
  /** A JSON-safe copy of the waiting message. */
  msg: Record<string, unknown>;
  savedAt: number;
  /** The node instance that saved it: an instance resumes only the waits of earlier ones. */
  owner: string;
}

/** The node context's callback forms, on its default store (the one settings.js configures). */
type Context = {
  get(key: string, cb: (err: Error | null, value: unknown) => void): void;
  set(key: string, value: unknown, cb: (err: Error | null) => void): void;
  keys(cb: (err: Error | null, keys: string[]) => void): void;
};

/**
 * Whether Node-RED keeps a node's context when the node stops: it does when `contextStorage`
 * configures any store, and drops it when only its implicit memory store exists.
 */
export function contextOutlivesNode(settings: { contextStorage?: unknown } | undefined): boolean {
  const stores = settings?.contextStorage;
  return typeof stores === 'object' && stores !== null && Object.keys(stores).length > 0;
}

export class PendingWaits {
  private readonly instance = randomUUID();

  /** `kept`: the context outlives the node (see contextOutlivesNode); otherwise nothing is stored. */
  constructor(
    private readonly node: Node,
    readonly kept: boolean,
  ) {}

  private get context(): Context {
    return this.node.context() as unknown as Context;
  }

  save(id: string, msg: Msg): Promise<void> {
    if (!this.kept) return Promise.resolve();
    return this.set(PREFIX + id, { msg: jsonSafeCopy(msg), savedAt: Date.now(), owner: this.instance } satisfies PendingWait);
  }

  forget(id: string): Promise<void> {
    if (!this.kept) return Promise.resolve();
    return this.set(PREFIX + id, undefined);
  }

  /** Reads and removes the waits earlier instances kept (the resumed messages save themselves again). */
  async takeAll(): Promise<PendingWait[]> {
    if (!this.kept) return [];
    const keys = await new Promise<string[]>((resolve) =>
      // Stryker disable next-line ArrayDeclaration: a key in place of [] lacks the prefix and is skipped below
      this.context.keys((err, k) => resolve(err ? [] : (k ?? []))),
    );
    const waits: PendingWait[] = [];
    for (const key of keys.filter((k) => k.startsWith(PREFIX))) {
      const value = await new Promise<unknown>((resolve) => this.context.get(key, (err, v) => resolve(err ? undefined : v)));
      if (!value || typeof value !== 'object' || !('msg' in value)) continue;
      const wait = value as PendingWait;
      if (wait.owner === this.instance) continue;
      await this.set(key, undefined);
      waits.push(wait);
    }
    return waits;
  }

  private set(key: string, value: unknown): Promise<void> {
    return new Promise((resolve) => this.context.set(key, value, () => resolve()));
  }
}

/** Message fields that cannot be stored (HTTP request/response objects, functions, cycles). */
function jsonSafeCopy(msg: Msg): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(msg)) {
    if (key === '_msgid' || key === 'req' || key === 'res') continue;
    try {
      const text = JSON.stringify(value);
      // Stryker disable next-line ConditionalExpression: JSON.parse(undefined) throws, which leaves the field out too
      if (text !== undefined) copy[key] = JSON.parse(text);
    } catch {
      // not storable: left out of the resumed message
    }
  }
  return copy;
}

const SENT_PREFIX = 'playment-sent:';

/**
 * Which jobs of a watched batch a node has sent already, so each is sent once: kept in memory
 * for the node's life and, under the same rule as the waits (a configured context store), in
 * the node's context, one key per batch, so it holds across redeploys and restarts.
 */
export class SentJobs {
  private readonly batches = new Map<string, { ids: Set<string>; list: string[] }>();

  constructor(
    private readonly node: Node,
    readonly kept: boolean,
  ) {}

  private get context(): Context {
    return this.node.context() as unknown as Context;
  }

  /** The set of sent job ids of a batch (shared by every watch of it in this node). */
  async load(batchId: string): Promise<Set<string>> {
    let entry = this.batches.get(batchId);
    if (!entry) {
      const stored = this.kept
        ? await new Promise<unknown>((resolve) => this.context.get(SENT_PREFIX + batchId, (err, v) => resolve(err ? undefined : v)))
        : undefined;
      const list = Array.isArray(stored) ? stored.filter((v): v is string => typeof v === 'string') : [];
      // Another watch of the batch may have loaded it meanwhile.
      entry = this.batches.get(batchId) ?? { ids: new Set(list), list };
      this.batches.set(batchId, entry);
    }
    return entry.ids;
  }

  /** Records a sent job (after it was sent). */
  async add(batchId: string, jobId: string): Promise<void> {
    const entry = this.batches.get(batchId);
    if (!entry || entry.ids.has(jobId)) return;
    entry.ids.add(jobId);
    entry.list.push(jobId);
    if (!this.kept) return;
    await new Promise<void>((resolve) => this.context.set(SENT_PREFIX + batchId, entry.list, () => resolve()));
  }
}
