/**
 * playment-submit-video-job: one video (image-sequence) job per sequence in msg.payload (or per
 * folder of a flat list); passes msg.job_id and msg.reference_id on. Bulk payloads, folders and
 * split sequences give one output each.
 */
import { z } from 'zod';
import { PlaymentError } from '../api/errors';
import type { CreateJobResult, IfJobExists } from '../api/client';
import { jobCreateRequest } from '../api/profiles';
import { MAX_FRAMES_PER_JOB } from '../jobs/frames';
import { jobSettingsSchema } from '../jobs/job-body';
import { SETTING_KEYS, planFolders, planJobs, type PlannedJob, type SettingKey } from '../jobs/plan';
import { EXTRA_KEYS, type ExtraKey } from '../jobs/pre-labels';
import { registerActionNode, type ActionContext, type ActionResult } from './common/action-node';
import { clientOf, dryRunTarget } from './common/config-node';
import { NUMBER_TYPES, STRING_TYPES, choice, defineContract, flag, type InputField } from './common/input-contract';
import { settingSchema } from './common/limits';
import type { Msg, RED } from './common/red';

const TYPE = 'playment-submit-video-job';

/** A job setting: a TypedInput of the node, else the message property of the same name. */
function jobSetting(key: SettingKey, property: string, types: InputField['types'] = STRING_TYPES): InputField {
  // The schema checks a literal node value at start; per message the planner checks each
  // sequence's values, since a bulk sequence's own value sits between the node's and the message's.
  return { property, typeProperty: `${property}Type`, types, msg: [key], schema: jobSettingsSchema.shape[key] };
}

/** A whole number of frames; blank means 0 (no split). */
const frameCount = z.preprocess(
  (v) => (v === '' ? undefined : v),
  settingSchema({ default: 0, min: 0, max: MAX_FRAMES_PER_JOB, integer: true, unit: 'frames' }),
);

const SETTING_FIELDS = {
  reference_id: jobSetting('reference_id', 'referenceId'),
  tag: jobSetting('tag', 'tag'),
  work_flow_id: jobSetting('work_flow_id', 'workFlowId'),
  batch_id: jobSetting('batch_id', 'batchId'),
  priority_weight: jobSetting('priority_weight', 'priorityWeight', NUMBER_TYPES),
} satisfies Record<SettingKey, InputField>;

/** Extra job data only the message gives (for a single sequence); the planner checks it against the frames. */
const EXTRA_FIELDS = {
  maker_response: { msg: ['maker_response'] },
  reference_data: { msg: ['reference_data'] },
  metadata: { msg: ['metadata'] },
} satisfies Record<ExtraKey, InputField>;

const CONTRACT = defineContract({
  fields: { ...SETTING_FIELDS, ...EXTRA_FIELDS },
  properties: z.object({
    /** Build the requests and send them on instead of submitting. */
    dryRun: flag(false),
    /** Split sequences into parts of at most this many frames; 0 = never. */
    maxFramesPerJob: frameCount,
    /** Frames each part repeats from the one before (checked against maxFramesPerJob per message). */
    overlap: frameCount,
    frameOrder: choice(['given', 'natural']),
    /** If the job exists: 'send' passes the existing job on, 'error' reports FS_0001. */
    existing: choice(['send', 'error']),
    /** A flat frame list becomes one job per parent folder, the folder's URL its reference id. */
    groupByFolder: flag(false),
  }),
});

export = function register(RED: RED): void {
  const handler = async (msg: Msg, ctx: ActionContext<typeof CONTRACT>) => {
    // msg.failed describes this node's last failure: one left from an earlier pass (a Catch →
    // retry flow) would be read as this message's.
    delete msg.failed;
    // A dry run sends nothing: it needs the project and the API profile, not a key or a client.
    const dryRun = ctx.sendsNothing ? dryRunTarget(ctx.config) : undefined;
    const settings = await ctx.inputSources(SETTING_KEYS);
    const extras = await ctx.input(...EXTRA_KEYS);
    // Under a burst, refuse what the account's queue would refuse before planning it (frames,
    // reference-id hashes): same error as the limiter's. Checked right before planning, because
    // messages that arrive together pass their field resolution before any of them is queued.
    if (!dryRun && ctx.client.limiter.full) throw ctx.client.limiter.queueFullError();
    const projectId = dryRun ? dryRun.projectId : ctx.client.projectId;
    const { frameOrder, maxFramesPerJob, overlap, existing, groupByFolder } = ctx.props;
    const options = { projectId, frameOrder, maxFramesPerJob, overlap };
    const plan = groupByFolder
      ? planFolders(msg.payload, settings.node, settings.msg, options, extras)
      : { jobs: planJobs(msg.payload, settings.node, settings.msg, options, extras) };
    const jobs = plan.jobs;
    const outputs = outputsFor(RED, msg, jobs);

    let result: ActionResult;
    if (dryRun) {
      jobs.forEach((job, i) => {
        outputs[i].reference_id = job.body.reference_id;
        outputs[i].payload = { dry_run: true, request: jobCreateRequest(dryRun.profile, projectId, job.body) };
      });
      result = { messages: outputs, statusText: ctx.status.text('dryRun') };
    } else {
      result = await submitAll(ctx, jobs, outputs, msg, existing);
    }
    // What grouping left out is counted on every output: no file is dropped unseen.
    if ('skipped' in plan) for (const out of result.messages) out.skipped = plan.skipped.length;
    return result;
  };
  registerActionNode(RED, {
    type: TYPE,
    contract: CONTRACT,
    behaviour: () => ({
      handler,
      sendsNothing: (msg, props) => props.dryRun || msg.dry_run === true,
      // A dry-run node needs only the project and the profile; any other needs a usable client.
      configCheck: (config, props) => (props.dryRun ? dryRunTarget(config) : clientOf(config)),
    }),
  });
};

/**
 * The message for each job. One job: the input itself. Several: each its own copy (without the
 * input's payload, which each output replaces), marked with its place in `msg.parts`; the input's
 * own `msg.parts` is kept inside, as a core split does, so an outer join still completes.
 */
function outputsFor(RED: RED, msg: Msg, jobs: PlannedJob[]): Msg[] {
  if (jobs.length === 1) return [msg];
  const { payload: _payload, ...rest } = msg;
  return jobs.map((job, index) => {
    const out = RED.util.cloneMessage(rest) as Msg;
    const parts: Record<string, unknown> = { id: msg._msgid, index, count: jobs.length, type: 'array', len: 1 };
    if (msg.parts !== undefined) parts.parts = out.parts;
    if (job.split) parts.reference_id = job.split.base;
    (out as Record<string, unknown>).parts = parts;
    return out;
  });
}

/**
 * Gives the outputs actually sent contiguous indexes and their own count, so a core join in
 * automatic mode completes with them when some jobs failed.
 */
function renumber(sent: Msg[]): void {
  sent.forEach((out, index) => {
    const parts = out.parts as Record<string, unknown> | undefined;
    if (!parts) return;
    parts.index = index;
    parts.count = sent.length;
  });
}

async function submitAll(ctx: ActionContext, jobs: PlannedJob[], outputs: Msg[], msg: Msg, ifExists: IfJobExists) {
  let finished = 0;
  const many = jobs.length > 1;
  if (many) ctx.status.setProgress(0, jobs.length);
  const results = await Promise.allSettled(
    jobs.map(async (job) => {
      try {
        return await ctx.client.createJob(job.body, ctx.call, { ifExists });
      } finally {
        finished++;
        if (many) ctx.status.setProgress(finished, jobs.length);
      }
    }),
  );
  const sent: Msg[] = [];
  const failures: Failure[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') sent.push(fillOutput(outputs[i], jobs[i], r.value));
    else failures.push({ index: i, job: jobs[i], err: asPlaymentError(r.reason) });
  });
  renumber(sent);
  const last = sent[sent.length - 1];
  const statusText = last ? ctx.status.text('job', { id: String(last.job_id).slice(0, 8) }) : '';
  if (failures.length === 0) return { messages: sent, statusText };
  // A failure keeps the reference id on the message: resending it is safe (Playment refuses a duplicate).
  if (!many) msg.reference_id = jobs[0].body.reference_id;
  // The input message, untouched otherwise, lists what failed: a Catch flow can resend exactly that.
  else msg.failed = failures.map((f) => failedEntry(f, ctx.redact));
  return { messages: sent, statusText, error: summarise(failures, jobs.length) };
}

interface Failure {
  /** The job's place in the message's plan (its output's index had all jobs succeeded). */
  index: number;
  job: PlannedJob;
  err: PlaymentError;
}

function asPlaymentError(err: unknown): PlaymentError {
  return err instanceof PlaymentError ? err : new PlaymentError({ code: 'INTERNAL', message: String(err) });
}

/** One entry of msg.failed; the text goes through `redact`, as every error text does. */
function failedEntry(f: Failure, redact: (text: string) => string): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    index: f.index,
    sequence: f.job.sequence,
    reference_id: f.job.body.reference_id,
    ...(f.job.folder !== undefined && { folder: f.job.folder }),
    code: f.err.code,
    message: redact(f.err.message),
  };
  if (f.err.statusCode !== undefined) entry.statusCode = f.err.statusCode;
  return entry;
}

function fillOutput(out: Msg, job: PlannedJob, res: CreateJobResult): Msg {
  const body = job.body;
  out.job_id = res.job_id;
  out.reference_id = body.reference_id;
  const payload: Record<string, unknown> = { job_id: res.job_id, reference_id: body.reference_id };
  const tag = res.tag ?? body.tag;
  const workFlowId = res.work_flow_id ?? body.work_flow_id;
  if (tag !== undefined) payload.tag = tag;
  if (workFlowId !== undefined) payload.work_flow_id = workFlowId;
  if (body.batch_id !== undefined) payload.batch_id = body.batch_id;
  if (res.recovered) payload.recovered = true;
  if (res.existing) payload.existing = true;
  out.payload = payload;
  return out;
}

/** One error for the failed jobs of a bulk or split message; says how many were sent on. */
function summarise(failures: Failure[], total: number): PlaymentError {
  const err = failures[0].err;
  if (total === 1) return err;
  const sentOn = total - failures.length;
  const failed =
    sentOn === 0
      ? `all ${total} jobs failed (none was sent on)`
      : `${failures.length} of ${total} jobs failed (the other ${sentOn} ${sentOn === 1 ? 'was' : 'were'} sent on)`;
  const lines = failures.slice(0, 5).map(({ job, err: e }) => `${job.body.reference_id}: ${e.message}`);
  return new PlaymentError({
    code: err.code,
    statusCode: err.statusCode,
    mayExist: failures.some((f) => f.err.mayExist),
    message: `${failed}: ${lines.join('; ')}${failures.length > 5 ? '; …' : ''}`,
  });
}
