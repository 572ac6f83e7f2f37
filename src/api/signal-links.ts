/**
 * Per-call abort signals that follow long-lived ones (a node's or the client's lifetime).
 * `AbortSignal.any` over a long-lived signal leaks on Node 20: Node.js issue #55351
 * ("AbortSignal.any() leaks when any of the provided signal is long-lived"). On Node 20.20 the
 * long-lived signal still keeps one entry per call, about 55 bytes after GC, for as long as it
 * lives. Here each source keeps one listener and a set of followers that a call leaves when it
 * ends. Remove this module (for AbortSignal.any) once the package needs a Node.js without the leak.
 */

/** What follows a source: an AbortController, or anything else that can be told to stop. */
export interface Follower {
  abort(reason?: unknown): void;
}

const followers = new WeakMap<AbortSignal, Set<Follower>>();

export interface LinkedSignal {
  signal: AbortSignal;
  /** Stops following the sources; call when the call ends. */
  unlink(): void;
}

export function linkSignals(sources: ReadonlyArray<AbortSignal | undefined>): LinkedSignal {
  const controller = new AbortController();
  return { signal: controller.signal, unlink: follow(sources, controller) };
}

const nothingToUnlink = (): void => undefined;

/**
 * Calls `follower.abort(reason)` when any source aborts (at once when one already has). Adds no
 * listener to the sources beyond the first one per source: returns the function that stops
 * following them, to call when the follower's work ends.
 */
export function follow(sources: ReadonlyArray<AbortSignal | undefined>, follower: Follower): () => void {
  let sets: Array<Set<Follower>> | undefined;
  for (const source of sources) {
    if (!source) continue;
    if (source.aborted) {
      follower.abort(source.reason);
      break;
    }
    let set = followers.get(source);
    if (!set) {
      const created = new Set<Follower>();
      followers.set(source, created);
      source.addEventListener(
        'abort',
        () => {
          for (const f of created) f.abort(source.reason);
          created.clear();
        },
        { once: true },
      );
      set = created;
    }
    set.add(follower);
    (sets ??= []).push(set);
  }
  if (!sets) return nothingToUnlink;
  const joined = sets;
  return () => {
    for (const s of joined) s.delete(follower);
  };
}
