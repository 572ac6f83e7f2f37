/**
 * playment-job-result: fetches a job's record, or waits until it is completed, and optionally
 * downloads its annotations through the attachment API.
 */
import { PlaymentError, invalidInput } from '../api/errors';
import type { JobRecord } from '../api/schemas';
import { extractAnnotations } from '../jobs/annotations';
import { preview } from '../jobs/frames';
import { setupActionNode, type ActionContext, type ActionNodeDef } from './common/action-node';
import { WaitScheduler } from './common/wait-scheduler';
import { payloadField } from './common/resolve';
import { PendingWaits } from './common/pending-waits';
import { randomUUID } from 'node:crypto';
import type { Msg, Node, RED } from './common/red';

const TYPE = 'playment-job-result';
/** Polling slows down by this factor up to this multiple of the configured interval. */
const BACKOFF_FACTOR = 1.5;
const MAX_INTERVAL_MULTIPLE = 4;

interface JobResultDef extends ActionNodeDef {
  jobId?: string;
  jobIdType?: string;
  mode?: string;
  /** Seconds. */
  pollInterval?: string | number;
  /** Hours. */
  maxWait?: string | number;
  download?: boolean;
}

/** Shared by every job-result node: one timer for all waits. */
const scheduler = new WaitScheduler();

function positive(v: unknown, fallback: number): number {
  const n = Number(v);
  return v === '' || v === undefined || !Number.isFinite(n) || n <= 0 ? fallback : n;
}

function isDone(record: JobRecord): boolean {
  return record.status === 'completed' && Boolean(record.result);
}

export = function register(RED: RED): void {
  function PlaymentJobResult(this: Node, def: JobResultDef) {
    RED.nodes.createNode(this, def);
    const wait = def.mode === 'wait';
    const intervalMs = positive(def.pollInterval, 30) * 1000;
    const maxWaitMs = positive(def.maxWait, 24) * 3600 * 1000;
    const pendingWaits = new PendingWaits(this);
    const node = this;

    setupActionNode(RED, this, def, TYPE, async (msg, ctx) => {
      const { jobId } = await ctx.resolve({ jobId: { value: def.jobId, type: def.jobIdType } });
      const id = checkJobId(jobId ?? msg.job_id ?? payloadField(msg, 'job_id'));
      const record = wait
        ? await keptWhileWaiting(ctx, pendingWaits, msg, () => waitUntilDone(ctx, id, intervalMs, maxWaitMs))
        : await ctx.client.getJob(id, ctx.call);
      const payload: Record<string, unknown> = {
        job_id: record.job_id,
        reference_id: record.reference_id ?? undefined,
        batch_id: record.batch_id ?? undefined,
        status: record.status,
        tag: record.tag ?? undefined,
        priority_weight: record.priority_weight ?? undefined,
        result: record.result ?? '',
      };
      if (record.work_flow_id) payload.work_flow_id = record.work_flow_id;
      if (def.download === true && record.result) {
        const file = await ctx.client.downloadAttachment(record.result, ctx.call);
        const annotations = extractAnnotations(file);
        if (!annotations) {
          throw new PlaymentError({ code: 'BAD_RESPONSE', message: `the result file of job ${record.job_id} has no annotation_data.annotations` });
        }
        payload.annotations = annotations;
      }
      msg.job_id = record.job_id;
      msg.payload = payload;
      return { messages: [msg], statusText: ctx.status.text('status', { status: record.status }) };
    });

    // Waits kept when the node last stopped start again as new messages.
    if (wait) {
      setImmediate(() => {
        pendingWaits
          .takeAll()
          .then((waits) => waits.forEach((w) => node.receive(w.msg)))
          .catch((err) => node.warn(`could not resume pending waits: ${String(err)}`));
      });
    }
  }
  RED.nodes.registerType(TYPE, PlaymentJobResult as never);
};

function checkJobId(v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') {
    throw invalidInput(`job id is required: set it in the node, or send msg.job_id (or msg.payload.job_id); got ${preview(v)}`);
  }
  if (v.length > 256) throw invalidInput(`job id is ${v.length} characters long, more than 256`);
  return v.trim();
}

/**
 * Keeps the waiting message in the node's context until the wait ends. A wait cut short by a
 * redeploy or restart stays there, to be resumed; one whose node was deleted is forgotten.
 */
async function keptWhileWaiting<T>(ctx: ActionContext, pending: PendingWaits, msg: Msg, wait: () => Promise<T>): Promise<T> {
  const id = randomUUID();
  await pending.save(id, msg);
  try {
    const result = await wait();
    await pending.forget(id);
    return result;
  } catch (err) {
    if (ctx.lifecycle.closing && !ctx.lifecycle.removed && err instanceof PlaymentError && err.code === 'ABORTED') {
      throw new PlaymentError({ code: 'ABORTED', message: `${err.message}; the wait is kept and resumes when the node starts again (with a configured context store)` });
    }
    await pending.forget(id);
    throw err;
  }
}

async function waitUntilDone(ctx: ActionContext, jobId: string, intervalMs: number, maxWaitMs: number): Promise<JobRecord> {
  const deadline = Date.now() + maxWaitMs;
  let interval = intervalMs;
  for (;;) {
    const record = await ctx.client.getJob(jobId, ctx.call);
    if (isDone(record)) return record;
    if (Date.now() + interval > deadline) {
      throw new PlaymentError({
        code: 'TIMEOUT',
        message: `job ${jobId} was not completed within ${Math.round(maxWaitMs / 1000)} s (last status: ${record.status})`,
      });
    }
    await scheduler.wait(interval, ctx.call.cancel);
    interval = Math.min(interval * BACKOFF_FACTOR, intervalMs * MAX_INTERVAL_MULTIPLE);
  }
}
