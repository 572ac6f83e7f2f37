/**
 * playment-job-result: fetches a job's record, or waits until it is completed, and optionally
 * downloads its annotations through the attachment API.
 */
import { PlaymentError, invalidInput } from '../api/errors';
import type { JobRecord } from '../api/schemas';
import { extractAnnotations } from '../jobs/annotations';
import { preview } from '../jobs/frames';
import { setupActionNode, type ActionContext, type ActionNodeDef } from './common/action-node';
import { clientOf } from './common/config-node';
import { WaitScheduler } from './common/wait-scheduler';
import { payloadField } from './common/resolve';
import { PendingWaits, contextOutlivesNode } from './common/pending-waits';
import { pathSegment } from '../api/profiles';
import { NUMERIC_SETTINGS, parseJobResultSettings, type JobResultSettings } from './common/limits';
import { randomUUID } from 'node:crypto';
import type { Msg, Node, RED } from './common/red';

const TYPE = 'playment-job-result';
const RESULT_SIZE = NUMERIC_SETTINGS[TYPE].maxResultSize;
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
  /** Largest result file to download, in MB (MiB): 1–256, blank for the default. */
  maxResultSize?: string | number;
}

/** Shared by every job-result node: one timer for all waits. */
const scheduler = new WaitScheduler();

function isDone(record: JobRecord): boolean {
  return record.status === 'completed' && Boolean(record.result);
}

export = function register(RED: RED): void {
  function PlaymentJobResult(this: Node, def: JobResultDef) {
    RED.nodes.createNode(this, def);
    const wait = def.mode === 'wait';
    // The node's own settings are checked once: out of range, every message ends NOT_CONFIGURED.
    let settings: JobResultSettings | undefined;
    let settingsError: unknown;
    try {
      settings = parseJobResultSettings(def);
    } catch (err) {
      settingsError = err;
    }
    const pendingWaits = new PendingWaits(this, contextOutlivesNode(RED.settings as { contextStorage?: unknown }));
    const node = this;

    setupActionNode(RED, this, def, TYPE, async (msg, ctx) => {
      if (!settings) throw settingsError;
      const { intervalMs, maxWaitMs, maxResultBytes } = settings;
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
        const file = await ctx.client.downloadAttachment(record.result, ctx.call, {
          maxBytes: maxResultBytes,
          hint: `raise "Max result size" in the job-result node (${RESULT_SIZE.min}–${RESULT_SIZE.max} MB)`,
        });
        const annotations = extractAnnotations(file);
        if (!annotations) {
          throw new PlaymentError({ code: 'BAD_RESPONSE', message: `the result file of job ${record.job_id} has no annotation_data.annotations` });
        }
        payload.annotations = annotations;
      }
      msg.job_id = record.job_id;
      msg.payload = payload;
      return { messages: [msg], statusText: ctx.status.text('status', { status: record.status }) };
    }, {
      // A setting out of range shows as a red ring at deploy, like a missing account.
      configCheck: (config) => {
        if (!settings) throw settingsError;
        return clientOf(config);
      },
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
  const id = v.trim();
  pathSegment(id, 'job id');
  return id;
}

/**
 * Keeps the waiting message in the node's context until the wait ends. A wait cut short by a
 * redeploy or restart stays there, to be resumed, when the context outlives the node (a context
 * store is configured); otherwise it is lost. One whose node was deleted is forgotten.
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
      throw new PlaymentError({
        code: 'ABORTED',
        message: pending.kept
          ? `${err.message}; the wait is kept in the node's context and resumes when the node starts again ` +
            '(after a restart only with a persistent context store): do not send the message again'
          : `${err.message}; the wait is lost (no context store is configured in settings.js): send the message again to wait again`,
      });
    }
    await pending.forget(id);
    throw err;
  }
}

/**
 * Polls until the job is completed. Between polls the message shows as waiting on the status,
 * not in flight. Gives up when the next poll would come after the maximum wait.
 */
async function waitUntilDone(ctx: ActionContext, jobId: string, intervalMs: number, maxWaitMs: number): Promise<JobRecord> {
  const startedAt = Date.now();
  const deadline = startedAt + maxWaitMs;
  let interval = intervalMs;
  let waiting = false;
  try {
    for (;;) {
      const record = await ctx.client.getJob(jobId, ctx.call);
      if (isDone(record)) return record;
      if (Date.now() + interval > deadline) {
        throw new PlaymentError({
          code: 'TIMEOUT',
          message:
            `job ${jobId} was not completed within the maximum wait of ${duration(maxWaitMs)}: ` +
            `still ${record.status} after ${duration(Date.now() - startedAt)}, and the next poll would come after the limit`,
        });
      }
      if (!waiting) ctx.status.beginWait();
      waiting = true;
      await scheduler.wait(interval, ctx.call.cancel);
      interval = Math.min(interval * BACKOFF_FACTOR, intervalMs * MAX_INTERVAL_MULTIPLE);
    }
  } finally {
    if (waiting) ctx.status.endWait();
  }
}

/** A duration as people read it, without rounding a configured limit away (2.5 s, not 3 s). */
function duration(ms: number): string {
  const exact = (n: number) => String(Number(n.toFixed(3)));
  if (ms < 60_000) return `${exact(ms / 1000)} s`;
  if (ms < 3_600_000) return `${exact(ms / 60_000)} min`;
  return `${exact(ms / 3_600_000)} h`;
}
