/**
 * Rate-limit accuracy: a config node set to 5 requests/s, its queue kept full, measured at the
 * sandbox from the arrival time of every request (an in-process sandbox, whose request log
 * has timestamps; at 5 requests/s it adds no measurable load).
 */
import { startSandbox } from '../../src/sandbox/server';
import { SUBMIT_NODE, configNodeDef, loadFlow, unloadFlow } from './runtime';
import { round, sleep } from './stats';
import { API_KEY, FRAMES_PER_JOB, PROJECT, sequenceFrames } from './workload';

export interface RateLimitOptions {
  ratePerSecond: number;
  durationS: number;
}

export interface RateLimitResult {
  configured: number;
  durationS: number;
  /** Requests that arrived within durationS of the first one. */
  requests: number;
  /** (requests − 1) / (last arrival − first arrival). */
  measuredPerSecond: number;
  errorPercent: number;
  /** Most requests seen in any 1-second window: bursts beyond the rate would show here. */
  maxInAnySecond: number;
  /** Mean and largest gap between consecutive requests, ms. */
  meanGapMs: number;
  maxGapMs: number;
  target: { maxErrorPercent: number; met: boolean };
}

export async function runRateLimit(opts: RateLimitOptions): Promise<RateLimitResult> {
  const sandbox = await startSandbox({
    host: '127.0.0.1',
    port: 0,
    apiKeys: [API_KEY],
    projectIds: [PROJECT],
    completionDelayMs: 3_600_000,
  });
  try {
    const flow = await loadFlow(
      [configNodeDef(sandbox.url, PROJECT, { rateLimit: opts.ratePerSecond }), SUBMIT_NODE],
      {},
      { cfg: { apiKey: API_KEY } },
    );
    // Enough queued work to outlast the window (well under the default queue of 1,000).
    const messages = Math.ceil(opts.ratePerSecond * opts.durationS * 1.2) + 10;
    for (let i = 0; i < messages; i++) flow.inject('ours', { payload: sequenceFrames(i, FRAMES_PER_JOB, 'rate') });

    const firstDeadline = Date.now() + 10_000;
    while (sandbox.state.routeCounts['job.create'] === 0 && Date.now() < firstDeadline) await sleep(5);
    await sleep(opts.durationS * 1000 + 250);
    await unloadFlow();

    const arrivals = sandbox.state.requests.filter((r) => r.route === 'job.create').map((r) => r.receivedAtMs);
    const first = arrivals[0];
    const window = arrivals.filter((t) => t - first <= opts.durationS * 1000);
    const span = (window[window.length - 1] - first) / 1000;
    const measured = (window.length - 1) / span;
    const gaps = window.slice(1).map((t, i) => t - window[i]);
    let maxInAnySecond = 0;
    for (let i = 0, j = 0; i < window.length; i++) {
      while (window[i] - window[j] >= 1000) j++;
      maxInAnySecond = Math.max(maxInAnySecond, i - j + 1);
    }
    const errorPercent = (Math.abs(measured - opts.ratePerSecond) / opts.ratePerSecond) * 100;
    return {
      configured: opts.ratePerSecond,
      durationS: opts.durationS,
      requests: window.length,
      measuredPerSecond: round(measured),
      errorPercent: round(errorPercent, 2),
      maxInAnySecond,
      meanGapMs: round(gaps.reduce((s, g) => s + g, 0) / gaps.length, 1),
      maxGapMs: round(Math.max(...gaps), 1),
      target: { maxErrorPercent: 5, met: errorPercent <= 5 },
    };
  } finally {
    await sandbox.close();
  }
}
