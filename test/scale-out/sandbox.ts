/**
 * The sandbox in its own process, with its rate limit on, driven over IPC: the scale-out test
 * needs more than the CLI's control endpoints give (every stored job with its reference id, the
 * answers by status, the requests in the busiest second). Parent side: startSandboxChild();
 * child side: the bottom of this file, when forked as the entry script.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { running, stopChild } from '../../src/demo/node-red';
import { startSandbox, type Sandbox } from '../../src/sandbox/server';
import type { RecordedRequest } from '../../src/sandbox/types';
import { API_KEY, PROJECT } from '../bench/workload';

export { API_KEY, PROJECT };

export interface SandboxReport {
  requestCount: number;
  routeCounts: Record<string, number>;
  /** Answers by HTTP status ('429': refused by the rate limit). */
  statusCounts: Record<string, number>;
  /** Job-create attempts refused with FS_0001 (reference id already used): refused, not billed. */
  duplicateAttempts: number;
  /** Most requests received within one rolling second (refused ones included): what the instances offered. */
  peakPerSecond: number;
  /** False when the request log (10,000 entries) no longer holds every request. */
  logComplete: boolean;
  /** Every stored job: [reference id, job id], in creation order. */
  jobs: Array<[string, string]>;
}

export interface Progress {
  jobs: number;
  requests: number;
  /** Job-create requests a hold applied to so far. */
  heldTaken: number;
  /** Of those, the ones whose answer is still held. */
  heldOpen: number;
}

type Command = { cmd: 'hold'; count: number; delayMs: number } | { cmd: 'progress' } | { cmd: 'report' };

export interface SandboxChild {
  url: string;
  /** The next `count` job creates are stored at once and answered `delayMs` later. */
  hold(count: number, delayMs: number): Promise<void>;
  progress(): Promise<Progress>;
  report(): Promise<SandboxReport>;
  stop(): Promise<void>;
}

export function startSandboxChild(opts: { rateLimitPerSecond: number }): Promise<SandboxChild> {
  const child: ChildProcess = fork(__filename, [JSON.stringify(opts)], {
    cwd: path.resolve(__dirname, '..', '..'),
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const alive = () => running(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 0;
  child.on('message', (m: { id: number; value?: unknown; error?: string }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error !== undefined) w?.reject(new Error(`sandbox child: ${m.error}`));
    else w?.resolve(m.value);
  });
  void exited.then(() => {
    for (const w of waiting.values()) w.reject(new Error('the sandbox child exited'));
    waiting.clear();
  });
  const call = <T>(command: Command | { cmd: 'url' }): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (!alive()) return reject(new Error('the sandbox child is not running'));
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, ...command });
    });
  const stop = () => stopChild(child);
  return call<string>({ cmd: 'url' }).then(
    (url) => ({
      url,
      hold: (count, delayMs) => call<void>({ cmd: 'hold', count, delayMs }),
      progress: () => call<Progress>({ cmd: 'progress' }),
      report: () => call<SandboxReport>({ cmd: 'report' }),
      stop,
    }),
    async (err: Error) => {
      await stop();
      throw err;
    },
  );
}

/** Most entries of `times` (sorted, ms) within any window of `windowMs`. */
export function peakInWindow(times: readonly number[], windowMs = 1000): number {
  let peak = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end] - times[start] >= windowMs) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

function report(sandbox: Sandbox): SandboxReport {
  const requests: readonly RecordedRequest[] = sandbox.state.requests;
  const statusCounts: Record<string, number> = {};
  for (const r of requests) statusCounts[r.status] = (statusCounts[r.status] ?? 0) + 1;
  return {
    requestCount: sandbox.state.requestCount,
    routeCounts: sandbox.state.routeCounts,
    statusCounts,
    duplicateAttempts: sandbox.state.duplicateReferenceIdAttempts,
    peakPerSecond: peakInWindow(requests.map((r) => r.receivedAtMs)),
    logComplete: requests.length === sandbox.state.requestCount,
    jobs: sandbox.state.jobs().map((j) => [j.referenceId, j.jobId]),
  };
}

async function childMain(opts: { rateLimitPerSecond: number }): Promise<void> {
  const sandbox = await startSandbox({
    apiKeys: [API_KEY],
    projectIds: [PROJECT],
    rateLimitPerSecond: opts.rateLimitPerSecond,
    // Jobs never complete during the run: only submissions are measured.
    completionDelayMs: 3_600_000,
  });
  const handle = (m: { cmd: string } & Record<string, number>): unknown => {
    switch (m.cmd) {
      case 'url':
        return sandbox.url;
      case 'hold':
        sandbox.injectFault({ route: 'job.create', mode: 'delay-answer', delayMs: m.delayMs, count: m.count });
        return undefined;
      case 'progress': {
        const held = sandbox.state.requests.filter((r) => r.fault === 'delay-answer');
        const progress: Progress = {
          jobs: sandbox.state.jobs().length,
          requests: sandbox.state.requestCount,
          heldTaken: held.length,
          heldOpen: held.filter((r) => r.status === 0).length,
        };
        return progress;
      }
      case 'report':
        return report(sandbox);
      default:
        throw new Error(`unknown command ${m.cmd}`);
    }
  };
  process.on('message', (m: { id: number; cmd: string } & Record<string, number>) => {
    try {
      process.send!({ id: m.id, value: handle(m) });
    } catch (err) {
      process.send!({ id: m.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
  // The parent's end (or its SIGTERM) ends the sandbox.
  const close = () => void sandbox.close().finally(() => process.exit(0));
  process.once('disconnect', close);
  process.once('SIGTERM', close);
}

if (require.main === module && process.send) void childMain(JSON.parse(process.argv[2] ?? '{}') as { rateLimitPerSecond: number });
