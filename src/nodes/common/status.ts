/**
 * Node status from one place: how many messages are queued, in flight and waiting (for jobs to
 * complete), how many waited-for jobs completed meanwhile, then the last outcome. Status texts
 * come from the node's message catalogue; counts are written with thousands separators.
 */
import { formatNumber } from './limits';
import type { Node, RED } from './red';

/** Stands for a value in a translated template: no catalogue text contains control characters. */
const marker = (name: string): string => `\u0001${name}\u0001`;

export class StatusBoard {
  private queued = 0;
  private inFlight = 0;
  private waiting = 0;
  /** Jobs the waiting messages wait for, and jobs that completed since the board was last idle. */
  private jobsWaiting = 0;
  private jobsDone = 0;
  private progress: string | undefined;

  constructor(
    private readonly red: RED,
    private readonly node: Node,
    private readonly type: string,
  ) {}

  /** Each status text translated once, its values left as markers (see `t`). */
  private readonly templates = new Map<string, string>();

  /**
   * A status text with its values. Status changes with every message, and a translation through
   * the runtime's i18next costs more than the rest of a job's own work: each text is translated
   * once, with a marker in place of each value, and the values are put in here.
   */
  private t(key: string, vars: Record<string, string | number> = {}): string {
    const names = Object.keys(vars);
    const cacheKey = `${key}\u0000${names.join('\u0000')}`;
    let template = this.templates.get(cacheKey);
    if (template === undefined) {
      template = this.red._(`${this.type}.status.${key}`, Object.fromEntries(names.map((n) => [n, marker(n)])));
      this.templates.set(cacheKey, template);
    }
    return names.reduce((text, n) => text.split(marker(n)).join(String(vars[n])), template);
  }

  /** A message arrived and waits for a slot. */
  enqueue(): void {
    this.queued++;
    this.show();
  }

  /** A queued message was dispatched. */
  start(): void {
    if (this.queued > 0) this.queued--;
    this.inFlight++;
    this.show();
  }

  /**
   * A started message now waits (for `jobs` jobs to complete): it shows as waiting, not in
   * flight, until `endWait`, which the message must call before it ends.
   */
  beginWait(jobs = 1): void {
    if (this.inFlight > 0) this.inFlight--;
    this.waiting++;
    this.jobsWaiting += jobs;
    this.show();
  }

  /** Of the jobs waited for, `waiting` more (or fewer) wait and `done` more completed. */
  countJobs(waiting: number, done: number): void {
    this.jobsWaiting = Math.max(0, this.jobsWaiting + waiting);
    this.jobsDone += done;
    this.show();
  }

  /** The message stops waiting; `jobsLeft` of the jobs it counted as waiting are dropped. */
  endWait(jobsLeft = 1): void {
    if (this.waiting === 0) return;
    this.waiting--;
    this.jobsWaiting = Math.max(0, this.jobsWaiting - jobsLeft);
    this.inFlight++;
    this.show();
  }

  setProgress(done: number, total: number): void {
    this.progress = this.t('progress', { done, total });
    this.show();
  }

  /** A message ended; `started` says whether it had left the queue. */
  finish(started: boolean, outcome: { ok: true; text: string } | { ok: false; code: string }): void {
    if (started) this.inFlight = Math.max(0, this.inFlight - 1);
    else this.queued = Math.max(0, this.queued - 1);
    this.progress = undefined;
    if (this.queued + this.inFlight + this.waiting > 0) return this.show();
    this.jobsDone = 0;
    if (outcome.ok) this.node.status({ fill: 'green', shape: 'dot', text: outcome.text });
    else this.node.status({ fill: 'red', shape: 'ring', text: this.t('failed', { code: outcome.code }) });
  }

  text(key: string, vars?: Record<string, string | number>): string {
    return this.t(key, vars);
  }

  clear(): void {
    this.queued = 0;
    this.inFlight = 0;
    this.waiting = 0;
    this.jobsWaiting = 0;
    this.jobsDone = 0;
    this.node.status({});
  }

  private show(): void {
    this.node.status({ fill: 'blue', shape: 'dot', text: this.progress ?? this.counts() });
  }

  private counts(): string {
    const waiting =
      this.waiting === 0
        ? undefined
        : this.jobsDone > 0
          ? this.t('waitingDone', { waiting: formatNumber(this.jobsWaiting), done: formatNumber(this.jobsDone) })
          : this.t('waiting', { count: formatNumber(this.jobsWaiting) });
    const active =
      this.queued > 0
        ? this.t('queued', { queued: this.queued, inFlight: this.inFlight })
        : this.inFlight > 0 || !waiting
          ? this.t('inFlight', { count: this.inFlight })
          : undefined;
    return [waiting, active].filter(Boolean).join(', ');
  }
}
