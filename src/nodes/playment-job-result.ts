/**
 * playment-job-result: fetches a job's record, waits until it is completed, or watches a whole
 * batch, and optionally downloads annotations through the attachment API. Waits and batch
 * watches are served by the account's result poller (src/api/result-poller.ts).
 */
import { PlaymentError, invalidInput } from '../api/errors';
import type { JobRecord } from '../api/schemas';
import { resultPollerOf, type BatchProgress } from '../api/result-poller';
import { extractAnnotations } from '../jobs/annotations';
import { preview } from '../jobs/frames';
import { setupActionNode, type ActionContext, type ActionNodeDef } from './common/action-node';
import { clientOf } from './common/config-node';
import { payloadField } from './common/resolve';
import { PendingWaits, SentJobs, contextOutlivesNode } from './common/pending-waits';
import { pathSegment } from '../api/profiles';
import { NUMERIC_SETTINGS, parseJobResultSettings, type JobResultSettings } from './common/limits';
import { randomUUID } from 'node:crypto';
import { migrate } from './common/migrations';
import type { Msg, Node, RED } from './common/red';

const TYPE = 'playment-job-result';
const RESULT_SIZE = NUMERIC_SETTINGS[TYPE].maxResultSize;

interface JobResultDef extends ActionNodeDef {
  jobId?: string;
  jobIdType?: string;
  /** 'once', 'wait' or 'batch' (watch a whole batch). */
  mode?: string;
  /** Seconds. */
  pollInterval?: string | number;
  /** Hours. */
  maxWait?: string | number;
  download?: boolean;
  /** Largest result file to download, in MB (MiB): 1–256, blank for the default. */
  maxResultSize?: string | number;
}

export = function register(RED: RED): void {
  function PlaymentJobResult(this: Node, def: JobResultDef) {
    RED.nodes.createNode(this, def);
    // After createNode, which reads properties the runtime keeps on the original (not enumerable).
    def = migrate(TYPE, def);
    const mode = def.mode === 'wait' || def.mode === 'batch' ? def.mode : 'once';
    // The node's own settings are checked once: out of range, every message ends NOT_CONFIGURED.
    let settings: JobResultSettings | undefined;
    let settingsError: unknown;
    try {
      settings = parseJobResultSettings(def);
    } catch (err) {
      settingsError = err;
    }
    const storeConfigured = contextOutlivesNode(RED.settings as { contextStorage?: unknown });
    const pendingWaits = new PendingWaits(this, storeConfigured);
    const sentJobs = new SentJobs(this, storeConfigured);
    const node = this;

    /** The output payload of a job: its record, and its annotations when the node downloads them. */
    async function jobPayload(ctx: ActionContext, record: JobRecord, maxResultBytes: number): Promise<Record<string, unknown>> {
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
        // After a wait the message holds its place already: a full request queue does not refuse it.
        const call = mode === 'once' ? ctx.call : { ...ctx.call, admitted: true };
        const file = await ctx.client.downloadAttachment(record.result, call, {
          maxBytes: maxResultBytes,
          hint: `raise "Max result size" in the job-result node (${RESULT_SIZE.min}–${RESULT_SIZE.max} MB)`,
        });
        const annotations = extractAnnotations(file);
        if (!annotations) {
          throw new PlaymentError({ code: 'BAD_RESPONSE', message: `the result file of job ${record.job_id} has no annotation_data.annotations` });
        }
        payload.annotations = annotations;
      }
      return payload;
    }

    /**
     * Watches a batch: each completed job not sent before goes out at once as its own message
     * (topic 'job'), each change of the counts as a progress message (topic 'progress'); the
     * input message ends with the last progress message, when every job is completed.
     */
    async function watchBatch(ctx: ActionContext, msg: Msg, batchId: string, s: JobResultSettings): Promise<BatchProgress> {
      const sent = await sentJobs.load(batchId);
      const shown = { waiting: 0, done: 0 };
      const derived = (topic: string, payload: unknown): Msg => {
        const out = RED.util.cloneMessage(msg) as Msg;
        out.topic = topic;
        out.payload = payload;
        return out;
      };
      ctx.call.onStart?.();
      ctx.status.beginWait(0);
      try {
        return await resultPollerOf(ctx.client).watchBatch(batchId, {
          intervalMs: s.intervalMs,
          maxWaitMs: s.maxWaitMs,
          signal: ctx.call.cancel,
          sent,
          onJob: async (record) => {
            const out = derived('job', undefined);
            out.job_id = record.job_id;
            try {
              out.payload = await jobPayload(ctx, record, s.maxResultBytes);
              node.send(out);
            } catch (err) {
              // This job's message ends with its error (Catch sees it); the batch watch goes on.
              if (ctx.lifecycle.closing) throw err;
              out.payload = { job_id: record.job_id, batch_id: batchId, status: record.status, result: record.result ?? '' };
              node.error(ctx.reportable(err, out), out);
            }
            await sentJobs.add(batchId, record.job_id);
          },
          onProgress: (progress) => {
            const waiting = progress.total - progress.completed;
            ctx.status.countJobs(waiting - shown.waiting, progress.completed - shown.done);
            shown.waiting = waiting;
            shown.done = progress.completed;
            node.send(derived('progress', { ...progress }));
          },
        });
      } finally {
        ctx.status.endWait(shown.waiting);
      }
    }

    setupActionNode(RED, this, def, TYPE, async (msg, ctx) => {
      if (!settings) throw settingsError;
      if (mode === 'batch') {
        const batchId = checkBatchId(msg.batch_id ?? payloadField(msg, 'batch_id'), true)!;
        const progress = await keptWhileWaiting(ctx, pendingWaits, msg, () => watchBatch(ctx, msg, batchId, settings!));
        msg.topic = 'progress';
        msg.payload = { ...progress };
        return { messages: [msg], statusText: ctx.status.text('batchDone', { completed: progress.completed, total: progress.total }) };
      }
      const { jobId } = await ctx.resolve({ jobId: { value: def.jobId, type: def.jobIdType } });
      const id = checkJobId(jobId ?? msg.job_id ?? payloadField(msg, 'job_id'));
      let record: JobRecord;
      if (mode === 'wait') {
        const batchId = checkBatchId(msg.batch_id ?? payloadField(msg, 'batch_id'), false);
        record = await keptWhileWaiting(ctx, pendingWaits, msg, () => waitForJob(ctx, id, batchId, settings!));
      } else {
        record = await ctx.client.getJob(id, ctx.call);
      }
      msg.job_id = record.job_id;
      msg.payload = await jobPayload(ctx, record, settings.maxResultBytes);
      return { messages: [msg], statusText: ctx.status.text('status', { status: record.status }) };
    }, {
      // A setting out of range shows as a red ring at deploy, like a missing account.
      configCheck: (config) => {
        if (!settings) throw settingsError;
        return clientOf(config);
      },
    });

    // Waits kept when the node last stopped start again as new messages.
    if (mode !== 'once') {
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
  return pathId(v, 'job id');
}

/** An id string that goes into a path: at most 256 characters, trimmed, not `.` or `..`. */
function pathId(v: string, what: string): string {
  if (v.length > 256) throw invalidInput(`${what} is ${v.length} characters long, more than 256`);
  const id = v.trim();
  pathSegment(id, what);
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
 * Waits in the account's result poller until the job is completed. Meanwhile the message shows
 * as waiting, not in flight; the poller ends it with TIMEOUT after the maximum wait.
 */
async function waitForJob(ctx: ActionContext, jobId: string, batchId: string | undefined, s: JobResultSettings): Promise<JobRecord> {
  ctx.call.onStart?.();
  ctx.status.beginWait();
  let completed = false;
  try {
    const record = await resultPollerOf(ctx.client).watchJob(jobId, {
      batchId,
      intervalMs: s.intervalMs,
      maxWaitMs: s.maxWaitMs,
      signal: ctx.call.cancel,
    });
    completed = true;
    ctx.status.countJobs(-1, 1);
    return record;
  } finally {
    ctx.status.endWait(completed ? 0 : 1);
  }
}

/**
 * The batch id of a message: required to watch a batch; otherwise optional (it saves the GET
 * that learns a waiting job's batch). Empty counts as missing.
 */
function checkBatchId(v: unknown, required: boolean): string | undefined {
  if ((v === undefined || v === null || v === '') && !required) return undefined;
  if (typeof v !== 'string' || v.trim() === '') {
    throw invalidInput(
      required
        ? `batch id is required to watch a batch: send msg.batch_id (or msg.payload.batch_id); got ${preview(v)}`
        : `msg.batch_id (or msg.payload.batch_id) must be a batch id string when set; got ${preview(v)}`,
    );
  }
  return pathId(v, 'batch id');
}

