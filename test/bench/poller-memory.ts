/**
 * The account's result poller with many waits in one process:
 *   memory – N job waits (known batch, one abort signal per node as in a flow) held at once,
 *            heap measured after a full GC before and after, against a client that never answers;
 *   sweeps – the same N waits against a client answering at once from prepared pages (every
 *            job still 'created', the batch's counts changing each sweep so every sweep reads
 *            the whole listing): CPU per sweep. The client's HTTP and JSON work is not included.
 * The poller's part only: a waiting message in a flow also holds the message itself (and, with a
 * context store, its JSON copy in the node's context).
 * Run alone: node --expose-gc --import tsx test/bench/poller-memory.ts [waits]
 * The budget phase of the bench runs it in a child process (budget.ts).
 */
import { PlaymentError } from '../../src/api/errors';
import { ResultPoller, type PollerClient } from '../../src/api/result-poller';
import type { BatchJobsPage } from '../../src/api/schemas';

export interface PollerCost {
  waits: number;
  bytesPerWait: number;
  heapMb: number;
  sweeps: number;
  listingPagesPerSweep: number;
  cpuMsPerSweep: number;
}

const BATCH = 'b-1';
const PAGE = 100;
const jobIdOf = (i: number) => `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`;
const WAIT = { batchId: BATCH, maxWaitMs: 86_400_000 };

function liveHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export async function measurePollerCost(waits: number, sweeps: number): Promise<PollerCost> {
  const memory = heldWaits(waits);
  const cpu = await sweepCpu(waits, sweeps);
  return { waits, ...memory, sweeps, ...cpu };
}

function heldWaits(waits: number): { bytesPerWait: number; heapMb: number } {
  // A client whose calls never answer: the waits stay waiting.
  const never = () => new Promise<never>(() => undefined);
  const poller = new ResultPoller({ getJob: never, batchJobs: never, projectDetails: never });
  const nodeSignal = new AbortController().signal;
  const before = liveHeap();
  for (let i = 0; i < waits; i++) {
    poller.watchJob(jobIdOf(i), { ...WAIT, intervalMs: 30_000, signal: nodeSignal }).catch(() => undefined);
  }
  const after = liveHeap();
  if (poller.size !== waits) throw new Error(`the poller holds ${poller.size} waits, not ${waits}`);
  poller.close(new PlaymentError({ code: 'ABORTED', message: 'bench over' }));
  return { bytesPerWait: Math.round((after - before) / waits), heapMb: Math.round(((after - before) / 1048576) * 10) / 10 };
}

async function sweepCpu(waits: number, sweeps: number): Promise<{ listingPagesPerSweep: number; cpuMsPerSweep: number }> {
  const pageCount = Math.ceil(waits / PAGE);
  const pages: BatchJobsPage[] = Array.from({ length: pageCount }, (_, p) => ({
    id: BATCH,
    jobs: Array.from({ length: Math.min(PAGE, waits - p * PAGE) }, (_, k) => ({ id: jobIdOf(p * PAGE + k), status: 'created' })),
    next_page_token: p + 1 < pageCount ? String(p + 1) : '',
  }));
  let details = 0;
  let pagesRead = 0;
  let marks: Array<{ cpu: NodeJS.CpuUsage; pages: number }> = [];
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const client: PollerClient = {
    getJob: () => Promise.reject(new Error('no job is completed in this run')),
    batchJobs: (_batch, token) => {
      pagesRead++;
      return Promise.resolve(pages[token ? Number(token) : 0]);
    },
    // One request per sweep: a mark there separates the sweeps. Counts change every sweep.
    projectDetails: () => {
      details++;
      marks.push({ cpu: process.cpuUsage(), pages: pagesRead });
      if (details === sweeps + 2) finished();
      return Promise.resolve({ batches: [{ id: BATCH, total_jobs: waits, completed_jobs: details % 2 }] });
    },
  };
  const poller = new ResultPoller(client);
  const nodeSignal = new AbortController().signal;
  // Sweeps back to back (1 ms apart): the CPU between two marks is one sweep's.
  for (let i = 0; i < waits; i++) poller.watchJob(jobIdOf(i), { ...WAIT, intervalMs: 1, signal: nodeSignal }).catch(() => undefined);
  // The poller's timers are unref'd (a flow keeps Node-RED alive): hold the process open here.
  const keepAlive = setInterval(() => undefined, 1000);
  await done;
  clearInterval(keepAlive);
  poller.close(new PlaymentError({ code: 'ABORTED', message: 'bench over' }));
  // The first sweep is left out: it also files the waits that joined.
  const first = marks[1];
  const last = marks[sweeps + 1];
  marks = [];
  const spent = (last.cpu.user + last.cpu.system - first.cpu.user - first.cpu.system) / 1000;
  return { listingPagesPerSweep: (last.pages - first.pages) / sweeps, cpuMsPerSweep: Math.round((spent / sweeps) * 100) / 100 };
}

if (require.main === module) {
  const waits = Number(process.argv[2] ?? 100_000);
  measurePollerCost(waits, 5).then(
    (r) => {
      console.log(`${r.waits} waits: ${r.bytesPerWait} bytes per wait (heap ${r.heapMb} MB)`);
      console.log(`sweep of ${r.listingPagesPerSweep} listing pages: ${r.cpuMsPerSweep} ms CPU`);
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
