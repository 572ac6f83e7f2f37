/**
 * What the client tells the runtime's log: each attempt at trace level, retries, throttling,
 * recoveries, poller sweeps and close at debug level, all through the config node (so
 * `logging.console.level` shows them), and never the API key, at any level.
 */
import assert from 'node:assert/strict';
import { startKeyEchoApi, type KeyEchoApi } from '../support/key-echo-api';
import type { Sandbox } from '../../src/sandbox/server';
import { API_KEY, PROJECT, SUBMIT_NODE, frames, helper, inject, loadFlow, useSandboxRuntime } from '../support/harness';
import { waitFor } from '../support/wait';

/** @node-red/util log levels (the helper's log spy records every level). */
const DEBUG = 50;
const TRACE = 60;
const CREATE = `job.create POST /v0/projects/${PROJECT}/jobs`;

/** The config node's log lines at one level, as text. */
function lines(level: number): string[] {
  return helper
    .log()
    .args.map((a: any[]) => a[0])
    .filter((e: any) => e.id === 'cfg' && e.level === level)
    .map((e: any) => String(e.msg));
}

function assertLogged(level: number, pattern: RegExp): string {
  const found = lines(level).find((l) => pattern.test(l));
  assert.ok(found, `no ${level === TRACE ? 'trace' : 'debug'} line matches ${pattern}:\n${lines(level).join('\n')}`);
  return found;
}

/** Every log call at every level, of every node, as one text. */
function wholeLog(): string {
  return JSON.stringify(helper.log().args);
}

describe('logging: attempts, retries, throttling, recoveries, sweeps and close', function () {
  this.timeout(30_000);
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  it('a 503 then a success: both attempts at trace level, the retry with its delay and reason at debug', async () => {
    const rec = await loadFlow(sandbox, [SUBMIT_NODE], { config: { maxRetries: 2 } });
    sandbox.injectFault({ route: 'job.create', mode: 'status', status: 503, count: 1 });
    inject({ payload: frames(2, 'https://cdn.example.com/log-503') });
    await rec.settled(1);
    assert.equal(rec.outputs.length, 1);
    assertLogged(TRACE, new RegExp(`^${CREATE}: attempt 1 ended with 503 \\S+ in \\d+ ms$`));
    assertLogged(TRACE, new RegExp(`^${CREATE}: attempt 2 answered ok \\(2xx\\) in \\d+ ms$`));
    assertLogged(DEBUG, new RegExp(`^${CREATE}: retry 1 of 2 in \\d+ ms after 503 \\S+$`));
    assert.ok(!wholeLog().includes(API_KEY), 'the key is in the log');
  });

  it('a 429 with Retry-After: the throttle (pause, new concurrency) and the retry after Retry-After at debug', async () => {
    const rec = await loadFlow(sandbox, [SUBMIT_NODE], { config: { maxRetries: 2, maxConcurrent: 8 } });
    sandbox.injectFault({ route: 'job.create', mode: 'status', status: 429, retryAfter: '1', count: 1 });
    inject({ payload: frames(2, 'https://cdn.example.com/log-429') });
    await rec.settled(1);
    assert.equal(rec.outputs.length, 1);
    assertLogged(TRACE, new RegExp(`^${CREATE}: attempt 1 ended with 429 \\S+ in \\d+ ms$`));
    assertLogged(
      DEBUG,
      /^limiter: throttled after a 429 \(Retry-After 1000 ms\): new requests pause 1000 ms, concurrency 4, rate unlimited$/,
    );
    assertLogged(DEBUG, new RegExp(`^${CREATE}: retry 1 of 2 in 1000 ms after 429 \\S+, Retry-After 1000 ms$`));
    assertLogged(TRACE, new RegExp(`^${CREATE}: attempt 2 answered ok`));
  });

  it('a lost answer: the failed attempt, the listing read and the recovered job id at debug', async () => {
    const rec = await loadFlow(sandbox, [SUBMIT_NODE], { config: { maxRetries: 3 } });
    sandbox.injectFault({ route: 'job.create', mode: 'reset-after', count: 1 });
    inject({ payload: frames(3, 'https://cdn.example.com/log-lost') });
    await rec.settled(1);
    assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
    const { job_id: jobId, reference_id: referenceId } = rec.outputs[0];
    assert.equal(rec.outputs[0].payload.recovered, true);
    assertLogged(TRACE, new RegExp(`^${CREATE}: attempt 1 ended with NETWORK in \\d+ ms$`));
    assertLogged(TRACE, new RegExp(`^${CREATE}: attempt 2 ended with 400 FS_0001 in \\d+ ms$`));
    assertLogged(TRACE, /^batch\.jobs GET \/v0\/projects\/proj-cv-1\/batch\/\S+: attempt 1 answered ok/);
    assertLogged(
      DEBUG,
      /^reference ids: listing of the project's default batch for 1 lookup\(s\) read: 1 page\(s\), 1 job\(s\) in \d+ ms$/,
    );
    assertLogged(
      DEBUG,
      new RegExp(
        `^job\\.create: reference id ${referenceId} may have been stored by an attempt whose answer was lost \\(FS_0001\\): found as job ${jobId}$`,
      ),
    );
    assert.ok(!wholeLog().includes(API_KEY), 'the key is in the log');
  });

  it('a waiting job: the poller sweep summary at debug; closing the config node: close lines at debug', async () => {
    const rec = await loadFlow(sandbox, [
      { ...SUBMIT_NODE, wires: [['r1']] },
      { id: 'r1', type: 'playment-job-result', mode: 'wait', pollInterval: '1', wires: [['out']] },
    ]);
    inject({ payload: frames(2, 'https://cdn.example.com/log-sweep') });
    await waitFor('a sweep', () => lines(DEBUG).some((l) => l.startsWith('result poller: sweep')), 10_000, 10);
    assertLogged(
      DEBUG,
      /^result poller: sweep read 1 batch listing\(s\), skipped 0 unchanged, checked 0 job\(s\) without a batch; 1 wait\(s\) left; \d+ ms$/,
    );
    await helper.getNode('cfg').close(false);
    await rec.settled(1);
    assert.equal(rec.caught[0]?.error.code, 'ABORTED');
    assertLogged(DEBUG, /^closing: \d+ call\(s\) open; queued ones end with ABORTED, those in flight get \d+ ms to finish$/);
    assertLogged(DEBUG, /^closed$/);
  });

  describe('an API answer that echoes the key', () => {
    let api: KeyEchoApi;
    let baseUrl: string;
    before(async () => {
      // Answers every request with a server-side failure quoting the key it was sent.
      api = await startKeyEchoApi('FS_0000', (key) => `internal error for key ${key}`);
      baseUrl = api.url;
    });
    after(() => api.close());

    it('every attempt and retry is logged, and the key shows in no log line at any level', async () => {
      const rec = await loadFlow(sandbox, [SUBMIT_NODE], { baseUrl, config: { maxRetries: 1 } });
      inject({ payload: frames(2, 'https://cdn.example.com/log-echo') });
      await rec.settled(1);
      assert.equal(rec.caught.length, 1);
      assert.match(rec.caught[0].error.message, /internal error for key \*\*\*/, 'the answer did quote the key');
      assertLogged(TRACE, new RegExp(`^${CREATE}: attempt 1 ended with 400 FS_0000 in \\d+ ms$`));
      assertLogged(DEBUG, new RegExp(`^${CREATE}: retry 1 of 1 in \\d+ ms after 400 FS_0000$`));
      assertLogged(TRACE, new RegExp(`^${CREATE}: attempt 2 ended with 400 FS_0000`));
      assertLogged(DEBUG, new RegExp(`^${CREATE}: not retried after 400 FS_0000 \\(attempt 2\\): all 1 retries used$`));
      await helper.getNode('cfg').close(false);
      assertLogged(DEBUG, /^closed$/);
      assert.ok(!wholeLog().includes(API_KEY), 'the key is in the log');
    });
  });
});
