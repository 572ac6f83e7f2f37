/**
 * Where the client's log lines go: the config node passes its own `debug`/`trace`, so the
 * runtime's `logging.console.level` decides what is shown. No Node-RED import here.
 */
import { redact } from './errors';
import type { LimiterChange } from './limiter';

export interface ClientLogger {
  /** Retries, throttling, recoveries, listing reads, poller sweeps, close. */
  debug(text: string): void;
  /** One line per attempt. */
  trace(text: string): void;
}

const SILENT: ClientLogger = { debug: () => undefined, trace: () => undefined };

/**
 * The logger every line of one client goes through: the key is never put in a text, and this
 * removes it anyway as a last guard (a text built from an answer could echo it).
 */
export function guardedLogger(logger: ClientLogger | undefined, secret: string): ClientLogger {
  if (!logger) return SILENT;
  return {
    debug: (text) => logger.debug(redact(text, secret)),
    trace: (text) => logger.trace(redact(text, secret)),
  };
}

/** A request path as logged: without its query (page tokens, signed URLs). */
export function loggedPath(path: string): string {
  const query = path.indexOf('?');
  return query < 0 ? path : `${path.slice(0, query)}?…`;
}

export function describeLimiterChange(change: LimiterChange): string {
  const budget = `concurrency ${change.concurrency}, rate ${change.ratePerSecond > 0 ? `${Number(change.ratePerSecond.toFixed(2))}/s` : 'unlimited'}`;
  if (change.kind === 'recovered') return `limiter: stepped back up after successes: ${budget}`;
  const asked = change.retryAfterMs === undefined ? 'no Retry-After' : `Retry-After ${change.retryAfterMs} ms`;
  return `limiter: throttled after a 429 (${asked}): new requests pause ${change.pauseMs} ms, ${budget}`;
}
