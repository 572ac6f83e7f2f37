/**
 * playment-job-result: fetches a job's record, waits until it is completed, or watches a whole
 * batch, and optionally downloads annotations through the attachment API, as the file's trackers,
 * rows or YOLO labels (src/jobs/result-formats.ts). Waits and batch
 * watches are served by the account's result poller (src/api/result-poller.ts).
 */
import { z } from 'zod';
import { PlaymentError, isPlaymentError } from '../api/errors';
import type { JobRecord } from '../api/schemas';
import { resultPollerOf, type BatchProgress } from '../api/result-poller';
import { RESULT_FORMATS, labelListSchema, readResult, resultPayload } from '../jobs/result-formats';
import { preview } from '../jobs/frames';
import { registerActionNode, type ActionBehaviour, type ActionContext } from './common/action-node';
import { STRING_TYPES, choice, defineContract, flag } from './common/input-contract';
import { isBlank } from '../jobs/fill-blanks';
import { PendingWaits, SentJobs, contextOutlivesNode } from './common/pending-waits';
import { pathSegment } from '../api/profiles';
import { NUMERIC_SETTINGS, parseJobResultSettings, settingSchema, type JobResultSettings } from './common/limits';
import { randomUUID } from 'node:crypto';
import type { Msg, Node, RED } from './common/red';

const TYPE = 'playment-job-result';
const LIMITS = NUMERIC_SETTINGS[TYPE];
const RESULT_SIZE = LIMITS.maxResultSize;

/**
 * An id that goes into a request path: a string of at most 256 characters, trimmed, not `.` or
 * `..`. Blank is undefined unless the id is required; `problem` says what a bad value needs.
 */
function pathIdSchema<R extends boolean>(what: string, required: R, problem: (v: unknown) => string) {
  const schema = z.unknown().transform((v, ctx): string | undefined => {
    const fail = (message: string) => {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    };
    if (isBlank(v) && !required) return undefined;
    if (typeof v !== 'string' || v.trim() === '') return fail(problem(v));
    if (v.length > 256) return fail(`${what} is ${v.length} characters long, more than 256`);
    const id = v.trim();
    try {
      pathSegment(id, what);
    } catch (err) {
      return fail(isPlaymentError(err) ? err.message : String(err));
    }
    return id;
  });
  return schema as unknown as z.ZodType<R extends true ? string : string | undefined>;
}

const BATCH_ID_PATHS = ['batch_id', 'payload.batch_id'];

const CONTRACT = defineContract({
  fields: {
    jobId: {
      property: 'jobId',
      typeProperty: 'jobIdType',
      types: STRING_TYPES,
      msg: ['job_id', 'payload.job_id'],
      schema: pathIdSchema(
        'job id',
        true,
        (v) => `job id is required: set it in the node, or send msg.job_id (or msg.payload.job_id); got ${preview(v)}`,
      ),
    },
    /** While waiting for a job: optional, it saves the GET that learns the job's batch. */
    batchId: {
      msg: BATCH_ID_PATHS,
      schema: pathIdSchema(
        'batch id',
        false,
        (v) => `msg.batch_id (or msg.payload.batch_id) must be a batch id string when set; got ${preview(v)}`,
      ),
    },
    /** The batch to watch: required. */
    watchedBatchId: {
      msg: BATCH_ID_PATHS,
      schema: pathIdSchema(
        'batch id',
        true,
        (v) => `batch id is required to watch a batch: send msg.batch_id (or msg.payload.batch_id); got ${preview(v)}`,
      ),
    },
    /** The YOLO format's classes, in class-number order. */
    labels: {
      property: 'labels',
      msg: ['labels'],
      schema: labelListSchema,
    },
  },
  properties: z
    .object({
      /** Fetch once, wait until the job is completed, or watch a whole batch. */
      mode: choice(['once', 'wait', 'batch']),
      /** Download the annotations of a completed job. */
      download: flag(false),
      /** What a download puts in the payload (src/jobs/result-formats.ts). */
      format: choice(RESULT_FORMATS),
      /** Seconds. */
      pollInterval: settingSchema(LIMITS.pollInterval),
      /** Hours. */
      maxWait: settingSchema(LIMITS.maxWait),
      /** Largest result file to download, in MB (MiB). */
      maxResultSize: settingSchema(LIMITS.maxResultSize),
    })
    // In milliseconds and bytes; the values are in range here.
    .transform(({ mode, download, format, ...numbers }) => ({ mode, download, format, ...parseJobResultSettings(numbers) })),
});

/** A message's context in this node: its settings are `ctx.props`. */
type Ctx = ActionContext<typeof CONTRACT>;

export = function register(RED: RED): void {
  registerActionNode(RED, { type: TYPE, contract: CONTRACT, behaviour: (node) => jobResultBehaviour(RED, node) });
};

/** One job-result node: its kept waits and sent jobs, and what it does with a message. */
function jobResultBehaviour(RED: RED, node: Node): ActionBehaviour<typeof CONTRACT> {
  const storeConfigured = contextOutlivesNode(RED.settings as { contextStorage?: unknown });
  const pendingWaits = new PendingWaits(node, storeConfigured);
  const sentJobs = new SentJobs(node, storeConfigured);

  /**
   * The output payload of a job: its record, and when the node downloads them its annotations
   * in the node's format (`labels`: the YOLO format's label list).
   */
  async function jobPayload(ctx: Ctx, record: JobRecord, labels: readonly string[] | undefined): Promise<Record<string, unknown>> {
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
    if (ctx.props.download && record.result) {
      // After a wait the message holds its place already: a full request queue does not refuse it.
      const call = ctx.props.mode === 'once' ? ctx.call : { ...ctx.call, admitted: true };
      const file = await ctx.client.downloadAttachment(record.result, call, {
        maxBytes: ctx.props.maxResultBytes,
        hint: `raise "Max result size" in the job-result node (${RESULT_SIZE.min}–${RESULT_SIZE.max} MB)`,
      });
      const content = readResult(file);
      if (!content) {
        throw new PlaymentError({
          code: 'BAD_RESPONSE',
          message: `the result file of job ${record.job_id} has no annotation_data.annotations`,
        });
      }
      const job = { job_id: record.job_id, reference_id: record.reference_id ?? '' };
      Object.assign(payload, resultPayload(content, ctx.props.format, job, labels));
    }
    return payload;
  }

  /**
   * Watches a batch: each completed job not sent before goes out at once as its own message
   * (topic 'job'), each change of the counts as a progress message (topic 'progress'); the
   * input message ends with the last progress message, when every job is completed.
   */
  async function watchBatch(ctx: Ctx, msg: Msg, batchId: string, labels: readonly string[] | undefined): Promise<BatchProgress> {
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
        intervalMs: ctx.props.intervalMs,
        maxWaitMs: ctx.props.maxWaitMs,
        signal: ctx.call.cancel,
        sent,
        onJob: async (record) => {
          const out = derived('job', undefined);
          out.job_id = record.job_id;
          try {
            out.payload = await jobPayload(ctx, record, labels);
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

  return {
    handler: async (msg, ctx) => {
      const { mode } = ctx.props;
      // Read before any request: a message without a usable label list waits for nothing.
      const labels = await labelsFor(ctx);
      if (mode === 'batch') {
        const { watchedBatchId } = await ctx.input('watchedBatchId');
        const progress = await keptWhileWaiting(ctx, pendingWaits, msg, () => watchBatch(ctx, msg, watchedBatchId, labels));
        msg.topic = 'progress';
        msg.payload = { ...progress };
        return { messages: [msg], statusText: ctx.status.text('batchDone', { completed: progress.completed, total: progress.total }) };
      }
      const { jobId } = await ctx.input('jobId');
      let record: JobRecord;
      if (mode === 'wait') {
        const { batchId } = await ctx.input('batchId');
        record = await keptWhileWaiting(ctx, pendingWaits, msg, () => waitForJob(ctx, jobId, batchId, ctx.props));
      } else {
        record = await ctx.client.getJob(jobId, ctx.call);
      }
      msg.job_id = record.job_id;
      msg.payload = await jobPayload(ctx, record, labels);
      return { messages: [msg], statusText: ctx.status.text('status', { status: record.status }) };
    },
    // Waits kept when the node last stopped start again as new messages.
    started: (props) => {
      if (props.mode === 'once') return;
      setImmediate(() => {
        pendingWaits
          .takeAll()
          .then((waits) => waits.forEach((w) => node.receive(w.msg)))
          .catch((err) => node.warn(`could not resume pending waits: ${String(err)}`));
      });
    },
  };
}

/** The label list when the node writes YOLO labels; undefined otherwise. */
async function labelsFor(ctx: Ctx): Promise<string[] | undefined> {
  if (!ctx.props.download || ctx.props.format !== 'yolo') return undefined;
  return (await ctx.input('labels')).labels;
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
