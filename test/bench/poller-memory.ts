/**
 * Memory of one wait in the account's result poller: 100,000 job waits (known batch, one abort
 * signal per node as in a flow) held at once, heap measured after a full GC before and after.
 * Run: node --expose-gc --import tsx test/bench/poller-memory.ts
 * The poller's part only: a waiting message in a flow also holds the message itself (and, with a
 * context store, its JSON copy in the node's context).
 */
import { ResultPoller, type PollerClient } from '../../src/api/result-poller';

const WAITS = 100_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

/** A client whose calls never answer: the waits stay waiting. */
const never = () => new Promise<never>(() => undefined);
const silent: PollerClient = { getJob: never, batchJobs: never, projectDetails: never };

function heap(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const poller = new ResultPoller(silent);
const nodeSignal = new AbortController().signal;
const before = heap();
const waits: Promise<unknown>[] = [];
for (let i = 0; i < WAITS; i++) {
  const jobId = `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`;
  waits.push(poller.watchJob(jobId, { batchId: 'b-1', intervalMs: 30_000, maxWaitMs: 86_400_000, signal: nodeSignal }).catch(() => undefined));
}
const after = heap();
console.log(`${WAITS} waits: ${Math.round((after - before) / WAITS)} bytes per wait (heap ${((after - before) / 1048576).toFixed(1)} MB)`);
console.log(`poller holds ${poller.size} waits`);
process.exit(0);
