/**
 * Per-call abort signals that follow long-lived ones (a node's or the client's lifetime).
 * `AbortSignal.any` on a long-lived signal leaves an entry behind on every call in Node 20, a
 * leak of a few hundred bytes per request; here each source keeps one listener and a set of
 * followers that a call leaves when it ends.
 */
const followers = new WeakMap<AbortSignal, Set<AbortController>>();

export interface LinkedSignal {
  signal: AbortSignal;
  /** Stops following the sources; call when the call ends. */
  unlink(): void;
}

export function linkSignals(sources: ReadonlyArray<AbortSignal | undefined>): LinkedSignal {
  const controller = new AbortController();
  const sets: Array<Set<AbortController>> = [];
  for (const source of sources) {
    if (!source) continue;
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    let set = followers.get(source);
    if (!set) {
      const created = new Set<AbortController>();
      followers.set(source, created);
      source.addEventListener(
        'abort',
        () => {
          for (const follower of created) follower.abort(source.reason);
          created.clear();
        },
        { once: true },
      );
      set = created;
    }
    set.add(controller);
    sets.push(set);
  }
  return { signal: controller.signal, unlink: () => sets.forEach((s) => s.delete(controller)) };
}
