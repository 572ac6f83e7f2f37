/**
 * Scale-out over a real MQTT broker: three Node-RED processes with the packed tarball run the
 * "Scale out over MQTT" example against one Mosquitto and one rate-limited sandbox (its own
 * process). A producer publishes the sequences; one instance is killed with SIGKILL while its
 * job requests are in flight; a reconciler republishes whatever has no ledger record. In the
 * end every sequence has exactly one job and one ledger record naming it.
 *
 * The crash is made to land mid-request: at that moment the sandbox holds the answers of the
 * next job creates (stored at once, answered later) until every instance has its full
 * concurrency waiting, so the killed one always leaves jobs it stored but never recorded.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NUMERIC_SETTINGS } from '../../src/nodes/common/limits';
import { logProblems, startNodeRed, type NodeRedProcess } from '../support/node-red-process';
import { installIntoUserDir, packOnce } from '../support/npm';
import { waitFor } from '../support/wait';
import { startBroker, type Broker } from './broker';
import { EXAMPLE, instanceFlow, makeSequences } from './flow';
import { LedgerWatch, connect, publishSequences, readRetainedLedger, type Sequence } from './ledger';
import { API_KEY, PROJECT, startSandboxChild, type SandboxChild, type SandboxReport } from './sandbox';

const SEQUENCES = 3000;
const FRAMES = 10;
const INSTANCES = 3;
/** The account's budget, enforced by the sandbox (429 beyond it in any rolling second). */
const ACCOUNT_RATE = 60;
/** Each instance's share, set in its config node. */
const SHARE = ACCOUNT_RATE / INSTANCES;
const VICTIM = 1;
const MAX_CONCURRENT = NUMERIC_SETTINGS['playment-config'].maxConcurrent.default;
const SHARED_TOPIC = '$share/playment/frames/#';
/** How long the sandbox holds the job-create answers around the crash. */
const HOLD_MS = 6000;
/** A round of reconciliation starts when nothing moved (no request, no record) this long. */
const QUIET_MS = 5000;
const MAX_ROUNDS = 5;
/**
 * 429s allowed: each instance spaces its own requests, but their sum can bunch up by a few
 * milliseconds on the way (three processes, one network stack), and the sandbox's window is
 * exact. One per 200 requests at most; each is retried after its Retry-After, so nothing is lost.
 */
const MAX_THROTTLED_SHARE = 1 / 200;

interface Round {
  missing: number;
  /** Of the missing, sequences whose job the sandbox holds already (stored, never recorded). */
  storedUnrecorded: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`scale-out: ${INSTANCES} Node-RED processes on Mosquitto, one killed, nothing lost or billed twice`, function () {
  let tmp: string;
  let broker: Broker | undefined;
  let sandbox: SandboxChild | undefined;
  const instances: NodeRedProcess[] = [];
  let ledger: LedgerWatch | undefined;
  const problems: string[] = [];

  before(async function () {
    tmp = mkdtempSync(path.join(tmpdir(), 'playment-scale-out-'));
    const { tarball } = await packOnce();
    // One install, copied: the same user directory for every instance, as a fleet would have.
    const template = await installIntoUserDir(path.join(tmp, 'userdir-template'), tarball);
    broker = await startBroker(tmp);
    sandbox = await startSandboxChild({ rateLimitPerSecond: ACCOUNT_RATE });
    for (let i = 0; i < INSTANCES; i++) {
      const userDir = path.join(tmp, `userdir-${i}`);
      cpSync(template, userDir, { recursive: true });
      instances.push(await startNodeRed({ userDir, credentialSecret: randomBytes(16).toString('hex') }));
    }
    for (const [i, nr] of instances.entries()) {
      const clientId = `playment-instance-${i}`;
      await nr.deploy(
        instanceFlow({ sandboxUrl: sandbox.url, apiKey: API_KEY, projectId: PROJECT, brokerPort: broker.port, clientId, rateLimit: SHARE }),
      );
      await broker.subscribed(clientId, SHARED_TOPIC);
    }
    ledger = await LedgerWatch.start(broker.url, 'reconciler');
  });

  after(async function () {
    await ledger?.stop().catch(() => undefined);
    await Promise.all(instances.map((nr) => nr.stop()));
    await sandbox?.stop();
    await broker?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it(`publishes ${SEQUENCES} sequences, kills one instance mid-request, reconciles: one job and one ledger record each`, async function () {
    const sb = sandbox!;
    const watch = ledger!;
    const sequences = makeSequences(SEQUENCES, FRAMES);
    const byReference = new Map(sequences.map((s) => [s.referenceId, s]));
    assert.equal(byReference.size, SEQUENCES, 'the test sequences must have distinct reference ids');

    const producer = await connect(broker!.url, 'producer');
    try {
      await publishSequences(producer, sequences);

      // Crash: once a third is stored, hold the next job answers until every instance waits on
      // its full concurrency, then kill one; the others get their answers HOLD_MS later.
      await waitFor('a third of the jobs stored', async () => (await sb.progress()).jobs >= SEQUENCES / 3, 120_000, 250);
      await sb.hold(INSTANCES * MAX_CONCURRENT, HOLD_MS);
      await waitFor(
        'every instance to wait on held answers',
        async () => (await sb.progress()).heldTaken >= INSTANCES * MAX_CONCURRENT,
        30_000,
        20,
      );
      instances[VICTIM].child.kill('SIGKILL');
      const atKill = await sb.progress();
      await waitFor('the held answers', async () => (await sb.progress()).heldOpen === 0, HOLD_MS + 30_000, 250);

      // Reconciliation: when the ledger is complete or nothing moves, republish what has no record.
      const rounds: Round[] = [];
      for (;;) {
        await settle(sb, watch, byReference.size);
        const missing = sequences.filter((s) => !watch.records.has(s.referenceId));
        if (missing.length === 0) break;
        const stored = new Set((await sb.report()).jobs.map(([ref]) => ref));
        rounds.push({ missing: missing.length, storedUnrecorded: missing.filter((s) => stored.has(s.referenceId)).length });
        assert.ok(
          rounds.length <= MAX_ROUNDS,
          `${missing.length} sequences still have no ledger record after ${MAX_ROUNDS} rounds of reconciliation ` +
            `(${rounds.at(-1)!.storedUnrecorded} of them hold a job at the sandbox), e.g. ${named(missing.slice(0, 3)).join(', ')}`,
        );
        await publishSequences(producer, missing);
      }

      const report = await sb.report();
      const retained = await readRetainedLedger(broker!.url, SEQUENCES);
      printFigures(report, rounds, atKill.jobs, watch);

      // Exactly one job per sequence, none for anything else: nothing lost, nothing billed twice.
      const jobsByReference = new Map<string, string[]>();
      for (const [ref, jobId] of report.jobs) jobsByReference.set(ref, [...(jobsByReference.get(ref) ?? []), jobId]);
      const unexpected = [...jobsByReference.keys()].filter((ref) => !byReference.has(ref));
      assert.deepEqual(unexpected, [], 'jobs for reference ids no sequence has');
      const notOnce = sequences.filter((s) => jobsByReference.get(s.referenceId)?.length !== 1);
      assert.deepEqual(named(notOnce), [], 'sequences without exactly one job at the sandbox');
      assert.equal(report.jobs.length, SEQUENCES);

      // One retained record per sequence, naming its job.
      assert.equal(retained.size, SEQUENCES);
      const wrong = sequences.filter((s) => retained.get(s.referenceId)?.job_id !== jobsByReference.get(s.referenceId)![0]);
      assert.deepEqual(named(wrong), [], 'ledger records whose job id is not the stored job');
      assert.deepEqual(watch.problems, [], 'ledger messages that are not records');

      // The scenario happened: the crash left jobs stored but unrecorded, found again as existing.
      assert.ok(
        rounds.length >= 1 && rounds[0].storedUnrecorded >= 1,
        `the crash left no stored, unrecorded job: ${JSON.stringify(rounds)}`,
      );
      assert.ok(watch.existing >= rounds[0].storedUnrecorded, 'the stored, unrecorded jobs were not passed on as existing');

      // Within the account's budget: 429s are counted (every one is retried).
      assert.ok(report.logComplete, 'the sandbox request log overflowed: the counts below would be partial');
      const throttled = report.statusCounts['429'] ?? 0;
      assert.ok(
        throttled <= report.requestCount * MAX_THROTTLED_SHARE,
        `${throttled} of ${report.requestCount} requests refused with 429 (at most ${MAX_THROTTLED_SHARE * 100} % allowed)`,
      );

      // The instances that kept running logged no warning or error, and never the key.
      for (const [i, nr] of instances.entries()) {
        if (i === VICTIM) continue;
        problems.push(...logProblems(nr).map((line) => `instance ${i}: ${line}`));
        assert.ok(!nr.output().includes(API_KEY), `instance ${i} logged the API key`);
        assert.ok(
          !readFileSync(path.join(nr.userDir, 'flows.json'), 'utf8').includes(API_KEY),
          `instance ${i}: flows.json holds the API key`,
        );
      }
      assert.deepEqual(problems, []);
    } finally {
      await producer.endAsync();
    }
  });
});

/**
 * Waits until every sequence has a record, or nothing has moved for QUIET_MS: no API request
 * reached the sandbox and no record came. Bounded; moving on early only costs a republish, which
 * the existing-job behaviour makes harmless.
 */
async function settle(sb: SandboxChild, watch: LedgerWatch, expected: number): Promise<void> {
  let requests = -1;
  let movedAt = Date.now();
  const deadline = Date.now() + 240_000;
  while (watch.records.size < expected && Date.now() < deadline) {
    const now = (await sb.progress()).requests;
    if (now !== requests) {
      requests = now;
      movedAt = Date.now();
    }
    if (Date.now() - Math.max(movedAt, watch.lastMessageAt) >= QUIET_MS) return;
    await sleep(250);
  }
}

function named(sequences: readonly Sequence[]): string[] {
  return sequences.map((s) => `${s.topic} (${s.referenceId})`);
}

/** The figures the README's "Scaling out" section quotes. */
function printFigures(report: SandboxReport, rounds: Round[], jobsAtKill: number, watch: LedgerWatch): void {
  const figures = {
    example: EXAMPLE,
    sequences: SEQUENCES,
    instances: INSTANCES,
    accountRate: ACCOUNT_RATE,
    sharePerInstance: SHARE,
    killedAfterJobs: jobsAtKill,
    reconciliationRounds: rounds,
    ledgerMessages: watch.messages,
    existingRecords: watch.existing,
    apiRequests: report.requestCount,
    routeCounts: Object.fromEntries(Object.entries(report.routeCounts).filter(([, n]) => n > 0)),
    statusCounts: report.statusCounts,
    duplicateAttempts: report.duplicateAttempts,
    peakRequestsInOneSecond: report.peakPerSecond,
    jobsStored: report.jobs.length,
  };
  console.log(`      scale-out figures: ${JSON.stringify(figures)}`);
}
