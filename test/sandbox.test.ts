// Tests for the Playment sandbox: real HTTP on 127.0.0.1 with ephemeral ports.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { Agent, request } from 'undici';
import { parseCliArgs } from '../src/sandbox/cli-args';
import { DEFAULT_API_KEY, DEFAULT_PROJECT_ID, startSandbox, type Sandbox, type SandboxOptions } from '../src/sandbox/server';

// The sandbox under test is started without API keys, so it accepts its default one.
const KEY = DEFAULT_API_KEY;
const PID = DEFAULT_PROJECT_ID;
const OTHER_PID = 'acme project/2'; // needs URL-encoding in paths
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RESULT_PREFIX = 'https://playment-data-uploads.s3.ap-south-1.amazonaws.com/sandbox/';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
type Json = any;

interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Json;
}

interface CallOptions {
  body?: unknown;
  rawBody?: string;
  /** null = send no x-api-key header. */
  key?: string | null;
  headers?: Record<string, string>;
}

const dispatcher = new Agent({ keepAliveTimeout: 10_000 });

async function call(base: string, method: string, urlPath: string, opts: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? KEY : opts.key;
  if (key !== null) headers['x-api-key'] = key;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const res = await request(`${base}${urlPath}`, {
    method: method as 'GET',
    headers,
    body,
    dispatcher,
  });
  const text = await res.body.text();
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

function frames(count: number, prefix = 'frame'): { frame_id: string; src: string }[] {
  return Array.from({ length: count }, (_, i) => ({
    frame_id: `${prefix}${String(i).padStart(4, '0')}`,
    src: `https://cdn.example.com/clips/${prefix}/${i}.jpg`,
  }));
}

function jobBody(referenceId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { reference_id: referenceId, work_flow_id: 'wf-1', data: { video_data: { frames: frames(3) } }, ...extra };
}

const enc = encodeURIComponent;
const jobsPath = (profile: 'v0' | 'v1', pid = PID): string => `/${profile}/projects/${enc(pid)}/jobs`;

function assertError(res: CallResult, status: number, code: string, messageIncludes?: string[]): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${res.text}`);
  assert.equal(res.json.success, false);
  assert.equal(res.json.error.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string');
  for (const fragment of messageIncludes ?? []) {
    assert.ok(res.json.error.message.includes(fragment), `message "${res.json.error.message}" lacks "${fragment}"`);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}

async function expectSocketError(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: Error & { code?: string }) => {
    assert.ok(error instanceof Error);
    return true;
  });
}

describe('playment sandbox', function () {
  let sb: Sandbox;
  const extra: Sandbox[] = [];

  async function startExtra(opts: SandboxOptions): Promise<Sandbox> {
    const started = await startSandbox(opts);
    extra.push(started);
    return started;
  }

  before(async () => {
    sb = await startSandbox({ completionDelayMs: 50, projectIds: [PID, OTHER_PID] });
  });
  beforeEach(() => {
    sb.state.reset();
  });
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((s) => s.close()));
  });
  after(async () => {
    await sb.close();
    await dispatcher.close();
  });

  async function createJob(ref: string, profile: 'v0' | 'v1' = 'v1', extraFields: Record<string, unknown> = {}): Promise<Json> {
    const res = await call(sb.url, 'POST', jobsPath(profile), { body: jobBody(ref, extraFields) });
    assert.equal(res.status, 200, res.text);
    return res.json.data;
  }

  async function createBatch(name: string, pid = PID): Promise<string> {
    const res = await call(sb.url, 'POST', `/v1/projects/${enc(pid)}/batch`, { body: { name } });
    assert.equal(res.status, 200, res.text);
    return res.json.data.batch_id;
  }

  describe('startup', () => {
    it('listens on 127.0.0.1 with a separate storage listener', () => {
      assert.match(sb.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(sb.storageUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(sb.url, `http://127.0.0.1:${sb.port}`);
      assert.notEqual(sb.url, sb.storageUrl);
    });

    it('creates a default batch per project', () => {
      for (const pid of [PID, OTHER_PID]) {
        const batches = sb.state.batches(pid);
        assert.equal(batches.length, 1);
        assert.equal(batches[0].name, 'Default');
        assert.equal(batches[0].isDefault, true);
        assert.match(batches[0].batchId, UUID);
      }
      assert.deepEqual(sb.state.batches('nope'), []);
    });

    it('defaults to the key and project the examples and the CLI help name', () => {
      assert.equal(DEFAULT_API_KEY, 'sandbox-key');
      assert.equal(DEFAULT_PROJECT_ID, 'demo-project');
    });

    it('rejects invalid options', async () => {
      await assert.rejects(startSandbox({ port: 70000 }), RangeError);
      await assert.rejects(startSandbox({ apiKeys: [] }), RangeError);
      await assert.rejects(startSandbox({ completionDelayMs: -1 }), RangeError);
    });
  });

  describe('create job', () => {
    it('v0 answers {job_id, reference_id, tag}', async () => {
      const res = await call(sb.url, 'POST', jobsPath('v0'), {
        body: { reference_id: 'r-v0', tag: 'track_bounding_boxes', data: { video_data: { frames: frames(2) } } },
      });
      assert.equal(res.status, 200);
      assert.equal(res.json.success, true);
      assert.deepEqual(Object.keys(res.json.data), ['job_id', 'reference_id', 'tag']);
      assert.match(res.json.data.job_id, UUID);
      assert.equal(res.json.data.reference_id, 'r-v0');
      assert.equal(res.json.data.tag, 'track_bounding_boxes');
    });

    it('v1 answers {job_id, reference_id, work_flow_id}', async () => {
      const data = await createJob('r-v1', 'v1');
      assert.deepEqual(Object.keys(data), ['job_id', 'reference_id', 'work_flow_id']);
      assert.equal(data.work_flow_id, 'wf-1');
    });

    it('includes both tag and work_flow_id when both were sent, in both profiles', async () => {
      for (const profile of ['v0', 'v1'] as const) {
        const data = await createJob(`both-${profile}`, profile, { tag: 'tag-1' });
        assert.equal(data.tag, 'tag-1');
        assert.equal(data.work_flow_id, 'wf-1');
      }
    });

    it('v0 with only work_flow_id still reports a tag (the workflow id stands in)', async () => {
      const data = await createJob('wf-only', 'v0');
      assert.equal(data.tag, 'wf-1');
      assert.equal(data.work_flow_id, 'wf-1');
    });

    it('stores the job with defaults (default batch, priority 5) and the frames', async () => {
      const data = await createJob('stored-1');
      const [job] = sb.state.jobsByReferenceId(PID, 'stored-1');
      assert.equal(job.jobId, data.job_id);
      assert.equal(job.batchId, sb.state.batches(PID)[0].batchId);
      assert.equal(job.priorityWeight, 5);
      assert.equal(job.workFlowId, 'wf-1');
      assert.equal(job.tag, undefined);
      assert.deepEqual(job.frames, frames(3));
      assert.equal(sb.state.jobs().length, 1);
      // The request log names the job each create stored, and the code of a refused one.
      assertError(await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('stored-1') }), 400, 'FS_0001');
      const creates = sb.state.requests.map((r) => [r.status, r.jobId, r.errorCode]);
      assert.deepEqual(creates, [[200, data.job_id, undefined], [400, undefined, 'FS_0001']]);
      assert.equal(sb.state.jobs().length, 1);
    });

    it('stores batch_id and priority_weight when given; null fields count as absent', async () => {
      const batchId = await createBatch('b-explicit');
      await createJob('explicit', 'v1', { batch_id: batchId, priority_weight: 10 });
      const [job] = sb.state.jobsByReferenceId(PID, 'explicit');
      assert.equal(job.batchId, batchId);
      assert.equal(job.priorityWeight, 10);
      await createJob('nulls', 'v0', { batch_id: null, priority_weight: null, id: null });
      assert.equal(sb.state.jobsByReferenceId(PID, 'nulls')[0].priorityWeight, 5);
    });

    it('accepts s3:// and gs:// frame sources', async () => {
      const res = await call(sb.url, 'POST', jobsPath('v1'), {
        body: jobBody('buckets', {
          data: {
            video_data: {
              frames: [
                { frame_id: 'a', src: 's3://bucket/key/a.jpg' },
                { frame_id: 'b', src: 'gs://bucket/b.jpg' },
                { frame_id: 'c', src: 'http://host:8080/c.png?sig=1' },
              ],
            },
          },
        }),
      });
      assert.equal(res.status, 200, res.text);
    });

    it('decodes URL-encoded project ids', async () => {
      const res = await call(sb.url, 'POST', jobsPath('v1', OTHER_PID), { body: jobBody('enc-1') });
      assert.equal(res.status, 200, res.text);
      assert.equal(sb.state.jobsByReferenceId(OTHER_PID, 'enc-1').length, 1);
      assert.equal(sb.state.jobsByReferenceId(PID, 'enc-1').length, 0);
    });

    it('accepts a 100,000-frame job under the default body limit', async function () {
      this.timeout(30_000);
      const res = await call(sb.url, 'POST', jobsPath('v1'), {
        body: jobBody('huge', { data: { video_data: { frames: frames(100_000) } } }),
      });
      assert.equal(res.status, 200, res.text.slice(0, 200));
      assert.equal(sb.state.jobsByReferenceId(PID, 'huge')[0].frames.length, 100_000);
    });
  });

  describe('create job validation', () => {
    const post = (body: unknown): Promise<CallResult> => call(sb.url, 'POST', jobsPath('v1'), { body });
    const withFrames = (list: unknown, extraFields: Record<string, unknown> = {}): Record<string, unknown> =>
      jobBody('val', { data: { video_data: { frames: list } }, ...extraFields });

    it('GE_0001 for a body that is not JSON or not an object', async () => {
      assertError(await call(sb.url, 'POST', jobsPath('v1'), { rawBody: '{"reference_id":' }), 400, 'GE_0001');
      assertError(await call(sb.url, 'POST', jobsPath('v0'), { rawBody: '' }), 400, 'GE_0001');
      assertError(await post([jobBody('x')]), 400, 'GE_0001');
      assertError(await post(null), 400, 'GE_0001');
    });

    it('FS_0002 when reference_id is missing, empty or not a string', async () => {
      for (const reference_id of [undefined, '', '  ', 42]) {
        assertError(await post({ ...jobBody('x'), reference_id }), 400, 'FS_0002', ['reference_id']);
      }
    });

    it('FS_0005 when neither tag nor work_flow_id is a non-empty string', async () => {
      const { work_flow_id: _omit, ...noRouting } = jobBody('x');
      assertError(await post(noRouting), 400, 'FS_0005', ['work_flow_id']);
      assertError(await post({ ...noRouting, tag: '' }), 400, 'FS_0005');
      assertError(await post({ ...noRouting, work_flow_id: 7 }), 400, 'FS_0005');
    });

    it('FS_0004 when data, video_data or frames are missing, or frames is empty', async () => {
      assertError(await post({ reference_id: 'x', tag: 't' }), 400, 'FS_0004', ['data']);
      assertError(await post({ reference_id: 'x', tag: 't', data: {} }), 400, 'FS_0004', ['video_data']);
      assertError(await post({ reference_id: 'x', tag: 't', data: { video_data: {} } }), 400, 'FS_0004', ['frames']);
      assertError(await post(withFrames([])), 400, 'FS_0004', ['empty']);
      // The same for the SDK's sensor_data form.
      assertError(await post({ reference_id: 'x', tag: 't', data: { sensor_data: { frames: [] } } }), 400, 'FS_0004', ['sensor_data.frames']);
    });

    it('FS_0003 for a missing, non-string or duplicated frame_id, naming index and id', async () => {
      const list = frames(4);
      assertError(await post(withFrames([list[0], { src: list[1].src }])), 400, 'FS_0003', ['frames[1]']);
      assertError(await post(withFrames([list[0], { frame_id: 12, src: list[1].src }])), 400, 'FS_0003', ['frames[1]', '12']);
      assertError(await post(withFrames([list[0], { frame_id: '', src: list[1].src }])), 400, 'FS_0003', ['frames[1]']);
      const duplicate = [list[0], list[1], { frame_id: list[0].frame_id, src: list[2].src }];
      assertError(await post(withFrames(duplicate)), 400, 'FS_0003', ['frames[2]', list[0].frame_id, 'duplicate']);
      assertError(await post(withFrames(['not-an-object'])), 400, 'FS_0003', ['frames[0]']);
    });

    it('FS_0007 for a src that is not an absolute http/https/s3/gs URL, naming the frame', async () => {
      for (const src of ['/relative/a.jpg', 'ftp://host/a.jpg', 'https://', 'not a url', 's3://bucket-only', 42]) {
        const list = [frames(1)[0], { frame_id: 'bad-frame', src }];
        assertError(await post(withFrames(list)), 400, 'FS_0007', ['frames[1]', 'bad-frame']);
      }
    });

    it('reports a frame_id problem before a src problem anywhere in the list', async () => {
      const list = [{ frame_id: 'a', src: 'ftp://x/y' }, { frame_id: 'a', src: 'https://x/y' }];
      assertError(await post(withFrames(list)), 400, 'FS_0003');
    });

    it('FS_00012 for priority_weight outside the integers 1..10', async () => {
      for (const priority_weight of [0, 11, 2.5, '5', -1]) {
        assertError(await post(jobBody('pw', { priority_weight })), 400, 'FS_00012', ['priority_weight']);
      }
      assert.equal((await post(jobBody('pw-1', { priority_weight: 1 }))).status, 200);
    });

    it('GE_0001 for a batch_id that is not a UUID or not in the project', async () => {
      assertError(await post(jobBody('b1', { batch_id: 'batch-1' })), 400, 'GE_0001', ['batch_id']);
      assertError(await post(jobBody('b2', { batch_id: '00000000-0000-4000-8000-000000000000' })), 400, 'GE_0001');
      const otherProjectBatch = await createBatch('elsewhere', OTHER_PID);
      assertError(await post(jobBody('b3', { batch_id: otherProjectBatch })), 400, 'GE_0001');
      assert.equal((await post(jobBody('b4', { batch_id: '' }))).status, 200, 'empty batch_id = default batch');
    });

    it('FS_0001 for a reference_id already used in the project, checked last', async () => {
      await createJob('dup-1');
      assertError(await post(jobBody('dup-1')), 400, 'FS_0001', ['dup-1']);
      // An invalid body with a taken reference id reports its own problem, not the conflict.
      assertError(await post(jobBody('dup-1', { priority_weight: 99 })), 400, 'FS_00012');
      // Reference ids are per project.
      const other = await call(sb.url, 'POST', jobsPath('v1', OTHER_PID), { body: jobBody('dup-1') });
      assert.equal(other.status, 200);
      assert.equal(sb.state.jobsByReferenceId(PID, 'dup-1').length, 1);
      assert.equal(sb.state.duplicateReferenceIdAttempts, 1);
    });

    it('413 when the body exceeds maxBodyBytes', async () => {
      const small = await startExtra({ maxBodyBytes: 1024 });
      const res = await call(small.url, 'POST', jobsPath('v1'), {
        body: jobBody('big', { data: { video_data: { frames: frames(100) } } }),
      });
      assertError(res, 413, 'payload_too_large');
      assert.equal(small.state.jobs().length, 0);
    });
  });

  describe('auth, projects and routing', () => {
    const routes = (): [string, string, unknown?][] => [
      ['POST', jobsPath('v0'), jobBody('a')],
      ['POST', jobsPath('v1'), jobBody('a')],
      ['POST', `/v1/project/${PID}/batch`, { name: 'n' }],
      ['POST', `/v1/projects/${PID}/batch`, { name: 'n' }],
      ['GET', `${jobsPath('v0')}/00000000-0000-4000-8000-000000000000`],
      ['GET', `${jobsPath('v1')}/00000000-0000-4000-8000-000000000000`],
      ['GET', `/v0/projects/${PID}/batch/00000000-0000-4000-8000-000000000000`],
      ['GET', `/v1/projects/${PID}/batch/00000000-0000-4000-8000-000000000000`],
      ['GET', `/v0/projects/${PID}/details`],
      ['GET', `/v1/projects/${PID}/details`],
      ['GET', `/v1/attachments?url=x`],
    ];

    it('401 auth-failure on every API route without a valid x-api-key', async () => {
      for (const [method, p, body] of routes()) {
        assertError(await call(sb.url, method, p, { body, key: null }), 401, 'auth-failure');
        assertError(await call(sb.url, method, p, { body, key: 'wrong' }), 401, 'auth-failure');
      }
      assert.equal(sb.state.jobs().length, 0);
    });

    it('accepts any of several configured keys', async () => {
      const multi = await startExtra({ apiKeys: ['k1', 'k2'] });
      assert.equal((await call(multi.url, 'GET', `/v1/projects/${PID}/details`, { key: 'k2' })).status, 200);
      assertError(await call(multi.url, 'GET', `/v1/projects/${PID}/details`, { key: KEY }), 401, 'auth-failure');
    });

    it('403 unauthorized for an unknown project', async () => {
      for (const [method, p, body] of routes()) {
        if (p.startsWith('/v1/attachments')) continue;
        const res = await call(sb.url, method, p.replace(PID, 'secret-project'), { body });
        assertError(res, 403, 'unauthorized', ['secret-project']);
      }
    });

    it('404 not_found for unknown routes, 405 for a wrong method', async () => {
      for (const p of ['/', '/v2/projects/x/jobs', `/v0/project/${PID}/batch`, `/v0/projects/${PID}/batch`, '/v0/attachments', `/v1/projects/${PID}/nope`]) {
        const method = p.endsWith('/batch') ? 'POST' : 'GET';
        assertError(await call(sb.url, method, p), 404, 'not_found');
      }
      const res = await call(sb.url, 'GET', jobsPath('v1'));
      assertError(res, 405, 'method_not_allowed');
      assert.equal(res.headers.allow, 'POST');
      assertError(await call(sb.url, 'DELETE', `/v1/projects/${PID}/details`), 405, 'method_not_allowed');
    });
  });

  describe('create batch', () => {
    it('singular path (profile v0) and plural path (profile v1) both answer {batch_id}', async () => {
      const v0 = await call(sb.url, 'POST', `/v1/project/${PID}/batch`, {
        body: { id: null, name: 'sdk batch', label: 'l', description: 'd', project_id: PID },
      });
      assert.equal(v0.status, 200, v0.text);
      assert.deepEqual(Object.keys(v0.json.data), ['batch_id']);
      assert.match(v0.json.data.batch_id, UUID);
      const v1 = await call(sb.url, 'POST', `/v1/projects/${PID}/batch`, { body: { name: 'docs batch' } });
      assert.equal(v1.status, 200);
      const names = sb.state.batches(PID).map((b) => b.name);
      assert.deepEqual(names, ['Default', 'sdk batch', 'docs batch']);
      const sdk = sb.state.batches(PID)[1];
      assert.equal(sdk.description, 'd');
      assert.equal(sdk.label, 'l');
      assert.equal(sdk.isDefault, false);
    });

    it('GE_0001 for a non-object body, GE_0002 for a missing name', async () => {
      assertError(await call(sb.url, 'POST', `/v1/projects/${PID}/batch`, { rawBody: 'nope' }), 400, 'GE_0001');
      assertError(await call(sb.url, 'POST', `/v1/projects/${PID}/batch`, { body: {} }), 400, 'GE_0002', ['name']);
      assertError(await call(sb.url, 'POST', `/v1/project/${PID}/batch`, { body: { name: '' } }), 400, 'GE_0002');
    });

    it('400 BATCH_CREATION for a duplicate name (including "Default")', async () => {
      await createBatch('once');
      const dup = await call(sb.url, 'POST', `/v1/project/${PID}/batch`, { body: { name: 'once' } });
      assertError(dup, 400, 'BATCH_CREATION', ['batches_project_id_name_unique', 'duplicate key value']);
      assertError(await call(sb.url, 'POST', `/v1/projects/${PID}/batch`, { body: { name: 'Default' } }), 400, 'BATCH_CREATION');
      // Names are unique per project only.
      await createBatch('once', OTHER_PID);
    });
  });

  describe('job result', () => {
    it('reports created with an empty result before completionDelayMs (v0 and v1)', async () => {
      const slow = await startExtra({ completionDelayMs: 60_000 });
      const created = await call(slow.url, 'POST', jobsPath('v0'), {
        body: { reference_id: 'r', tag: 'tag-a', priority_weight: 7, data: { video_data: { frames: frames(2) } } },
      });
      const jobId = created.json.data.job_id;
      const v0 = await call(slow.url, 'GET', `${jobsPath('v0')}/${jobId}`);
      assert.equal(v0.status, 200);
      assert.deepEqual(v0.json.data, {
        project_id: PID,
        job_id: jobId,
        reference_id: 'r',
        batch_id: slow.state.batches(PID)[0].batchId,
        status: 'created',
        tag: 'tag-a',
        priority_weight: 7,
        result: '',
      });
      const v1 = await call(slow.url, 'GET', `${jobsPath('v1')}/${jobId}`);
      assert.equal(v1.json.data.work_flow_id, 'tag-a');
      assert.equal(v1.json.data.tag, 'tag-a');
      assert.equal(v1.json.data.status, 'created');
    });

    it('reports completed with a result URL once the delay has passed', async () => {
      const { job_id: jobId } = await createJob('done');
      await sleep(100);
      for (const profile of ['v0', 'v1'] as const) {
        const res = await call(sb.url, 'GET', `${jobsPath(profile)}/${jobId}`);
        assert.equal(res.json.data.status, 'completed');
        assert.equal(res.json.data.result, `${RESULT_PREFIX}${PID}/${jobId}.json`);
        assert.equal(res.json.data.work_flow_id, 'wf-1');
      }
    });

    it('FS_0006 for an unknown job, GE_0001 for a non-UUID id', async () => {
      assertError(await call(sb.url, 'GET', `${jobsPath('v1')}/00000000-0000-4000-8000-000000000000`), 400, 'FS_0006', ['job not found']);
      assertError(await call(sb.url, 'GET', `${jobsPath('v0')}/not-a-uuid`), 400, 'GE_0001');
      const { job_id: jobId } = await createJob('elsewhere');
      assertError(await call(sb.url, 'GET', `${jobsPath('v1', OTHER_PID)}/${jobId}`), 400, 'FS_0006');
    });
  });

  describe('batch jobs list', () => {
    it('lists jobs with the documented item shape (v0 and v1)', async () => {
      const batchId = await createBatch('listing');
      const { job_id: jobId } = await createJob('item-1', 'v1', { batch_id: batchId, tag: 'tag-x', priority_weight: 3 });
      for (const profile of ['v0', 'v1'] as const) {
        const res = await call(sb.url, 'GET', `/${profile}/projects/${PID}/batch/${batchId}`);
        assert.equal(res.status, 200, res.text);
        const data = res.json.data;
        assert.deepEqual(Object.keys(data), ['id', 'project_id', 'name', 'jobs', 'next_page_token']);
        assert.equal(data.id, batchId);
        assert.equal(data.project_id, PID);
        assert.equal(data.name, 'listing');
        assert.equal(data.next_page_token, '');
        assert.equal(data.jobs.length, 1);
        const item = data.jobs[0];
        assert.deepEqual(Object.keys(item), ['id', 'reference_id', 'status', 'frames', 'annotations', 'priority_weight', 'tag', 'viewer_url']);
        assert.equal(item.id, jobId);
        assert.equal(item.reference_id, 'item-1');
        assert.equal(item.status, 'created');
        assert.equal(item.frames, 3);
        assert.equal(item.annotations, 0);
        assert.equal(item.priority_weight, 3);
        assert.equal(item.tag, 'tag-x');
        assert.match(item.viewer_url, /^https:\/\//);
      }
      await sleep(100);
      const later = await call(sb.url, 'GET', `/v1/projects/${PID}/batch/${batchId}`);
      assert.equal(later.json.data.jobs[0].status, 'completed');
      assert.ok(later.json.data.jobs[0].annotations >= 3);
    });

    it('pages 250 jobs as 100 + 100 + 50 in creation order', async () => {
      const batchId = await createBatch('paging');
      for (let i = 0; i < 250; i++) await createJob(`p-${i}`, 'v1', { batch_id: batchId });
      await createJob('default-batch-job');

      const seen: string[] = [];
      const tokens: string[] = [];
      let token = '';
      for (let page = 0; page < 3; page++) {
        const query = page === 0 ? '' : `?page_token=${enc(token)}`;
        const res = await call(sb.url, 'GET', `/v0/projects/${PID}/batch/${batchId}${query}`);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.data.jobs.length, page < 2 ? 100 : 50);
        seen.push(...res.json.data.jobs.map((j: Json) => j.reference_id));
        token = res.json.data.next_page_token;
        tokens.push(token);
      }
      assert.deepEqual(seen, Array.from({ length: 250 }, (_, i) => `p-${i}`));
      assert.ok(tokens[0] !== '' && tokens[1] !== '' && tokens[0] !== tokens[1]);
      assert.equal(tokens[2], '');
      assert.ok(!/^\d+$/.test(tokens[0]), 'token should be opaque');

      // A blank token is the first page.
      const blank = await call(sb.url, 'GET', `/v1/projects/${PID}/batch/${batchId}?page_token=`);
      assert.equal(blank.json.data.jobs[0].reference_id, 'p-0');

      for (const bad of ['garbage!', 'MTAw', Buffer.from(`${batchId}:7`).toString('base64url'), Buffer.from(`${batchId}:300`).toString('base64url')]) {
        const res = await call(sb.url, 'GET', `/v1/projects/${PID}/batch/${batchId}?page_token=${enc(bad)}`);
        assertError(res, 400, 'invalid_request_error');
      }
      // A token from one batch is not valid for another.
      const defaultBatch = sb.state.batches(PID)[0].batchId;
      const cross = await call(sb.url, 'GET', `/v1/projects/${PID}/batch/${defaultBatch}?page_token=${enc(tokens[0])}`);
      assertError(cross, 400, 'invalid_request_error');
    });

    it('GE_0001 for an unknown or non-UUID batch', async () => {
      assertError(await call(sb.url, 'GET', `/v1/projects/${PID}/batch/not-a-uuid`), 400, 'GE_0001');
      assertError(await call(sb.url, 'GET', `/v0/projects/${PID}/batch/00000000-0000-4000-8000-000000000000`), 400, 'GE_0001');
    });
  });

  describe('project details', () => {
    it('lists batches with totals (v0 and v1)', async () => {
      const batchId = await createBatch('stats');
      await createJob('s-1', 'v1', { batch_id: batchId });
      await createJob('s-2', 'v1', { batch_id: batchId });
      for (const profile of ['v0', 'v1'] as const) {
        const res = await call(sb.url, 'GET', `/${profile}/projects/${PID}/details`);
        assert.equal(res.status, 200);
        const data = res.json.data;
        assert.equal(data.name, PID);
        assert.equal(data.base, 'VIDEO');
        assert.equal(data.batches.length, 2);
        const [def, stats] = data.batches;
        assert.deepEqual(Object.keys(def), [
          'id', 'name', 'description', 'is_default', 'total_jobs', 'completed_jobs', 'total_frames',
          'completed_frames', 'annotations', 'created_at', 'status',
        ]);
        assert.equal(def.is_default, true);
        assert.equal(def.total_jobs, 0);
        assert.equal(stats.id, batchId);
        assert.equal(stats.total_jobs, 2);
        assert.equal(stats.total_frames, 6);
        assert.ok(!Number.isNaN(Date.parse(stats.created_at)));
      }
      await sleep(100);
      const done = (await call(sb.url, 'GET', `/v1/projects/${PID}/details`)).json.data.batches[1];
      assert.equal(done.completed_jobs, 2);
      assert.equal(done.completed_frames, 6);
      assert.ok(done.annotations >= 6);
      assert.equal(done.status, 'Complete');
    });
  });

  describe('attachments and storage', () => {
    async function completedJob(ref: string, count = 5): Promise<{ jobId: string; resultUrl: string }> {
      const { job_id: jobId } = await createJob(ref, 'v1', { data: { video_data: { frames: frames(count) } } });
      await sleep(100);
      const res = await call(sb.url, 'GET', `${jobsPath('v1')}/${jobId}`);
      return { jobId, resultUrl: res.json.data.result };
    }

    it('redirects to a signed storage URL whose body is the video result', async () => {
      const { jobId, resultUrl } = await completedJob('att-1');
      const res = await call(sb.url, 'GET', `/v1/attachments?url=${enc(resultUrl)}`);
      assert.equal(res.status, 302);
      const location = String(res.headers.location);
      assert.ok(location.startsWith(`${sb.storageUrl}/signed/${PID}/${jobId}.json?`), location);
      const signed = new URL(location);
      assert.ok((signed.searchParams.get('X-Amz-Signature') ?? '').length >= 32);
      assert.equal(signed.searchParams.get('X-Amz-Expires'), '300');

      const file = await request(location, { dispatcher });
      assert.equal(file.statusCode, 200);
      const doc = (await file.body.json()) as Json;
      assert.deepEqual(doc.data.video_data.frames, frames(5));
      const trackers = doc.data.annotation_data.annotations;
      assert.ok(trackers.length === 1 || trackers.length === 2);
      const frameIds = new Set(frames(5).map((f) => f.frame_id));
      for (const tracker of trackers) {
        assert.equal(tracker.type, 'rectangle');
        assert.equal(tracker.label, 'Car');
        assert.match(tracker._id, UUID);
        const keys = Object.keys(tracker.frames);
        assert.ok(keys.length > 0);
        for (const key of keys) {
          assert.ok(frameIds.has(key));
          const annotation = tracker.frames[key];
          assert.equal(typeof annotation._id, 'string');
          assert.equal(annotation.label, 'Car');
          assert.deepEqual(annotation.attributes, { occluded: { value: false } });
          assert.equal(annotation.coordinates.length, 4);
          for (const point of annotation.coordinates) {
            assert.ok(point.x >= 0 && point.x <= 1 && point.y >= 0 && point.y <= 1, JSON.stringify(point));
          }
        }
      }

      // Deterministic per job: a second signed URL serves the same document.
      const again = await call(sb.url, 'GET', `/v1/attachments?url=${enc(resultUrl)}`);
      assert.notEqual(again.headers.location, location, 'each redirect carries a fresh signature');
      const second = await request(String(again.headers.location), { dispatcher });
      assert.deepEqual(await second.body.json(), doc);
    });

    it('the storage listener never receives an x-api-key and needs none', async () => {
      const { resultUrl } = await completedJob('att-2');
      const res = await call(sb.url, 'GET', `/v1/attachments?url=${enc(resultUrl)}`);
      await (await request(String(res.headers.location), { dispatcher })).body.dump();
      assert.equal(sb.state.storageRequests.length, 1);
      for (const recorded of sb.state.storageRequests) {
        assert.equal(recorded.apiKeyPresent, false);
        assert.ok(!('x-api-key' in recorded.headers));
        assert.equal(recorded.status, 200);
      }
      // A leaking client would be visible (name kept, value redacted).
      await (await request(String(res.headers.location), { dispatcher, headers: { 'x-api-key': KEY } })).body.dump();
      const leaked = sb.state.storageRequests[1];
      assert.equal(leaked.apiKeyPresent, true);
      assert.equal(leaked.headers['x-api-key'], '[redacted]');
    });

    it('storage answers 403 AccessDenied for a bad signature or unknown path', async () => {
      const { jobId } = await completedJob('att-3');
      for (const p of [
        `/signed/${PID}/${jobId}.json?X-Amz-Signature=forged&X-Amz-Expires=300`,
        `/signed/${PID}/${jobId}.json`,
        '/anything',
      ]) {
        const res = await request(`${sb.storageUrl}${p}`, { dispatcher });
        assert.equal(res.statusCode, 403);
        const text = await res.body.text();
        assert.ok(text.includes('<Code>AccessDenied</Code>'), text);
      }
    });

    it('400 GE_0001 for an unknown or not-yet-available url, GE_0002 without url', async () => {
      assertError(await call(sb.url, 'GET', `/v1/attachments?url=${enc('https://example.com/x.json')}`), 400, 'GE_0001');
      assertError(await call(sb.url, 'GET', `/v1/attachments?url=${enc(`${RESULT_PREFIX}${PID}/00000000-0000-4000-8000-000000000000.json`)}`), 400, 'GE_0001');
      assertError(await call(sb.url, 'GET', '/v1/attachments'), 400, 'GE_0002');
      const slow = await startExtra({ completionDelayMs: 60_000 });
      const created = await call(slow.url, 'POST', jobsPath('v1'), { body: jobBody('pending') });
      const pendingUrl = `${RESULT_PREFIX}${PID}/${created.json.data.job_id}.json`;
      assertError(await call(slow.url, 'GET', `/v1/attachments?url=${enc(pendingUrl)}`), 400, 'GE_0001');
    });
  });

  describe('fault injection', () => {
    it('status: answers the injected status with api_error / FS_0000 and Retry-After, then recovers', async () => {
      sb.injectFault({ route: 'job.create', mode: 'status', status: 503, retryAfter: '2' });
      const failed = await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('f-1') });
      assertError(failed, 503, 'api_error');
      assert.equal(failed.headers['retry-after'], '2');
      assert.equal(sb.state.jobs().length, 0, 'nothing stored');
      assert.equal((await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('f-1') })).status, 200);

      const date = new Date(Date.now() + 3000).toUTCString();
      sb.injectFault({ route: 'job.get', mode: 'status', status: 500, retryAfter: date });
      const server = await call(sb.url, 'GET', `${jobsPath('v1')}/00000000-0000-4000-8000-000000000000`);
      assertError(server, 500, 'FS_0000');
      assert.equal(server.headers['retry-after'], date);
    });

    it('delay: waits, then handles normally', async () => {
      sb.injectFault({ route: 'project.details', mode: 'delay', delayMs: 150 });
      const started = Date.now();
      const res = await call(sb.url, 'GET', `/v1/projects/${PID}/details`);
      assert.ok(Date.now() - started >= 130, 'answered after the delay');
      assert.equal(res.status, 200);
    });

    it('delay-answer: handles at once (the job is stored), then holds the answer', async () => {
      sb.injectFault({ route: 'job.create', mode: 'delay-answer', delayMs: 300 });
      let answered = false;
      const pending = call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('da-1') }).finally(() => (answered = true));
      await waitUntil(() => sb.state.jobs().length === 1);
      assert.equal(answered, false, 'stored before the answer left');
      const res = await pending;
      assert.equal(res.status, 200);
      assert.equal(res.json.data.job_id, sb.state.jobs()[0].jobId);
      assert.equal(sb.state.requests[0].fault, 'delay-answer');
      assert.throws(() => sb.injectFault({ route: 'job.get', mode: 'delay-answer', delayMs: 2 ** 31 }), /delayMs/);
    });

    it('reset-before: the socket is destroyed and nothing is stored', async () => {
      sb.injectFault({ route: 'job.create', mode: 'reset-before' });
      await expectSocketError(call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('rb-1') }));
      assert.equal(sb.state.jobsByReferenceId(PID, 'rb-1').length, 0);
      assert.equal((await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('rb-1') })).status, 200);
    });

    it('reset-after: the job IS stored although the client got a socket error', async () => {
      sb.injectFault({ route: 'job.create', mode: 'reset-after' });
      await expectSocketError(call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('ra-1') }));
      assert.equal(sb.state.jobsByReferenceId(PID, 'ra-1').length, 1);
      // A blind retry now conflicts.
      assertError(await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('ra-1') }), 400, 'FS_0001', ['ra-1']);
      const recorded = sb.state.requests.find((r) => r.fault === 'reset-after');
      assert.equal(recorded?.status, 0);

      sb.injectFault({ route: 'batch.create', mode: 'reset-after' });
      await expectSocketError(call(sb.url, 'POST', `/v1/projects/${PID}/batch`, { body: { name: 'uncertain' } }));
      assert.ok(sb.state.batches(PID).some((b) => b.name === 'uncertain'));
    });

    it('malformed: 200 with an HTML page, then with truncated JSON', async () => {
      sb.injectFault({ route: 'job.create', mode: 'malformed', count: 2 });
      const html = await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('m-1') });
      assert.equal(html.status, 200);
      assert.equal(html.text, '<html>bad gateway</html>');
      const truncated = await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('m-1') });
      assert.equal(truncated.status, 200);
      assert.throws(() => JSON.parse(truncated.text));
      assert.equal(sb.state.jobs().length, 0, 'malformed answers do not handle the request');
      assert.equal((await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('m-1') })).status, 200);
    });

    it('truncated: the job IS stored, then 200 with half the body, then 200 with an empty body', async () => {
      sb.injectFault({ route: 'job.create', mode: 'truncated', count: 2 });
      const half = await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('t-1') });
      assert.equal(half.status, 200);
      assert.throws(() => JSON.parse(half.text));
      assert.ok(half.text.startsWith('{"success":true'), half.text);
      const empty = await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('t-2') });
      assert.equal(empty.status, 200);
      assert.equal(empty.text, '');
      const stored = ['t-1', 't-2'].map((ref) => sb.state.jobsByReferenceId(PID, ref));
      assert.deepEqual(stored.map((jobs) => jobs.length), [1, 1], 'both jobs stored');
      const recorded = sb.state.requests.filter((r) => r.fault === 'truncated');
      assert.deepEqual(recorded.map((r) => [r.status, r.jobId]), stored.map((jobs) => [200, jobs[0].jobId]));
      assertError(await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('t-1') }), 400, 'FS_0001', ['t-1']);
    });

    it('applies faults FIFO to matching routes; count N is consumed by N requests; "*" matches all', async () => {
      sb.injectFault({ route: 'job.get', mode: 'status', status: 502 });
      sb.injectFault({ route: '*', mode: 'status', status: 503, count: 2 });
      const details = `/v1/projects/${PID}/details`;
      const getJob = `${jobsPath('v1')}/00000000-0000-4000-8000-000000000000`;
      assert.equal((await call(sb.url, 'GET', details)).status, 503, 'job.get fault skipped, * applies');
      assert.equal((await call(sb.url, 'GET', getJob)).status, 502, 'first matching fault wins');
      assert.equal((await call(sb.url, 'GET', getJob)).status, 503);
      assert.equal((await call(sb.url, 'GET', getJob)).status, 400, 'faults used up');
      assert.equal((await call(sb.url, 'GET', details)).status, 200);
    });

    it('count Infinity lasts until clearFaults()', async () => {
      sb.injectFault({ route: 'batch.jobs', mode: 'status', status: 429, count: Infinity });
      const list = `/v1/projects/${PID}/batch/${sb.state.batches(PID)[0].batchId}`;
      for (let i = 0; i < 5; i++) assertError(await call(sb.url, 'GET', list), 429, 'api_error');
      sb.clearFaults();
      assert.equal((await call(sb.url, 'GET', list)).status, 200);
    });

    it('rejects invalid fault specs', () => {
      assert.throws(() => sb.injectFault({ route: 'job.create', mode: 'explode' as 'status' }), TypeError);
      assert.throws(() => sb.injectFault({ route: 'nope' as 'job.get', mode: 'status' }), TypeError);
      assert.throws(() => sb.injectFault({ route: 'job.get', mode: 'delay' }), TypeError);
      assert.throws(() => sb.injectFault({ route: 'job.get', mode: 'status', count: 0 }), TypeError);
    });

    it('faulted requests are counted and recorded', async () => {
      sb.injectFault({ route: 'attachment', mode: 'status', status: 502 });
      await call(sb.url, 'GET', '/v1/attachments?url=x');
      assert.equal(sb.state.requestCount, 1);
      assert.equal(sb.state.requests[0].fault, 'status');
      assert.equal(sb.state.requests[0].status, 502);
      assert.equal(sb.state.routeCounts.attachment, 1);
    });
  });

  describe('state', () => {
    it('counts every request, records route/status/headers and redacts the key', async () => {
      await createJob('st-1');
      await call(sb.url, 'GET', `/v1/projects/${PID}/details`, { key: null });
      await call(sb.url, 'GET', '/nowhere');
      assert.equal(sb.state.requestCount, 3);
      const [created, unauthorised, missing] = sb.state.requests;
      assert.deepEqual(
        [created.route, created.status, created.apiKeyPresent, created.method, created.path],
        ['job.create', 200, true, 'POST', `/v1/projects/${PID}/jobs`],
      );
      assert.equal(created.headers['x-api-key'], '[redacted]');
      assert.ok(!JSON.stringify(sb.state.requests).includes(KEY), 'the key value is never recorded');
      assert.deepEqual([unauthorised.route, unauthorised.status, unauthorised.apiKeyPresent], ['project.details', 401, false]);
      assert.deepEqual([missing.route, missing.status], [null, 404]);
      assert.equal(sb.state.routeCounts['job.create'], 1);
    });

    it('reset() forgets jobs, batches, requests and faults', async () => {
      await createJob('gone');
      await createBatch('gone');
      sb.injectFault({ route: '*', mode: 'status', count: Infinity });
      sb.state.reset();
      assert.equal(sb.state.jobs().length, 0);
      assert.equal(sb.state.batches(PID).length, 1);
      assert.equal(sb.state.requestCount, 0);
      assert.equal(sb.state.requests.length, 0);
      assert.equal((await call(sb.url, 'GET', `/v1/projects/${PID}/details`)).status, 200);
    });

    it('reset() drops requests still waiting on a delay fault: nothing from before a reset lands after it', async () => {
      sb.injectFault({ route: 'job.create', mode: 'delay', delayMs: 300 });
      const pending = call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('before-reset') });
      await waitUntil(() => sb.state.requests.length === 1);
      sb.state.reset();
      await expectSocketError(pending);
      await sleep(400);
      assert.equal(sb.state.jobs().length, 0, 'the delayed create did not store a job after the reset');
      assert.equal(sb.state.duplicateReferenceIdAttempts, 0);
    });
  });

  describe('control endpoint', () => {
    it('adds, applies and clears faults over HTTP without a key and without being counted', async () => {
      const added = await call(sb.url, 'POST', '/_sandbox/faults', { key: null, body: { route: 'job.create', mode: 'status', status: 502 } });
      assert.equal(added.status, 200);
      assert.deepEqual(added.json, { queued: 1 });
      assertError(await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('c-1') }), 502, 'api_error');

      await call(sb.url, 'POST', '/_sandbox/faults', { key: null, body: { route: '*', mode: 'status', status: 503, count: 'Infinity' } });
      assert.equal((await call(sb.url, 'GET', `/v1/projects/${PID}/details`)).status, 503);
      const cleared = await call(sb.url, 'DELETE', '/_sandbox/faults', { key: null });
      assert.deepEqual(cleared.json, { cleared: 1 });
      assert.equal((await call(sb.url, 'GET', `/v1/projects/${PID}/details`)).status, 200);

      const bad = await call(sb.url, 'POST', '/_sandbox/faults', { key: null, body: { route: 'job.create', mode: 'boom' } });
      assertError(bad, 400, 'GE_0001', ['mode']);
      assert.equal(sb.state.requestCount, 3, 'only the three API requests count');
    });

    it('reports counts and resets', async () => {
      await createJob('c-2');
      await createJob('c-3');
      await call(sb.url, 'POST', jobsPath('v1'), { body: jobBody('c-3') });
      await createBatch('c-batch');
      const state = await call(sb.url, 'GET', '/_sandbox/state', { key: null });
      assert.equal(state.status, 200);
      assert.equal(state.json.requestCount, 4);
      assert.equal(state.json.jobs, 2);
      assert.equal(state.json.batches, 3, 'two default batches + one created');
      assert.equal(state.json.duplicateReferenceIds, 1);

      const reset = await call(sb.url, 'POST', '/_sandbox/reset', { key: null });
      assert.equal(reset.status, 200);
      const after = (await call(sb.url, 'GET', '/_sandbox/state', { key: null })).json;
      assert.deepEqual([after.requestCount, after.jobs, after.batches, after.duplicateReferenceIds], [0, 0, 2, 0]);
      assertError(await call(sb.url, 'PUT', '/_sandbox/state', { key: null }), 405, 'method_not_allowed');
      assertError(await call(sb.url, 'GET', '/_sandbox/nothing', { key: null }), 404, 'not_found');
      assert.equal(sb.state.requestCount, 0);
    });
  });

  describe('rate limit', () => {
    it('answers 429 rate_limited with Retry-After: 1 beyond N per second, then recovers', async () => {
      const limited = await startExtra({ rateLimitPerSecond: 5 });
      const details = `/v1/projects/${PID}/details`;
      for (let i = 0; i < 5; i++) assert.equal((await call(limited.url, 'GET', details)).status, 200);
      const refused = await call(limited.url, 'GET', details);
      assertError(refused, 429, 'rate_limited');
      assert.equal(refused.headers['retry-after'], '1');
      assert.equal(limited.state.requestCount, 6, 'refused requests are counted');
      // Control requests are not limited.
      assert.equal((await call(limited.url, 'GET', '/_sandbox/state', { key: null })).status, 200);
      await sleep(1100);
      assert.equal((await call(limited.url, 'GET', details)).status, 200);
    });
  });

  describe('close()', () => {
    it('does not hang with a keep-alive connection open', async () => {
      const temp = await startSandbox();
      const agent = new http.Agent({ keepAlive: true });
      try {
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.get(`${temp.url}/v1/projects/${PID}/details`, { agent, headers: { 'x-api-key': KEY } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
        });
        assert.equal(status, 200);
        assert.equal(Object.keys(agent.freeSockets).length, 1, 'the connection is idle but open');
        const outcome = await Promise.race([temp.close().then(() => 'closed'), sleep(3000).then(() => 'hung')]);
        assert.equal(outcome, 'closed');
        await expectSocketError(request(`${temp.url}/v1/projects/${PID}/details`, { headers: { 'x-api-key': KEY } }));
      } finally {
        agent.destroy();
      }
    });

    it('also closes while a delayed request is in flight', async () => {
      const temp = await startSandbox();
      temp.injectFault({ route: '*', mode: 'delay', delayMs: 60_000 });
      const pending = request(`${temp.url}/v1/projects/${PID}/details`, { headers: { 'x-api-key': KEY } });
      await sleep(50);
      const outcome = await Promise.race([temp.close().then(() => 'closed'), sleep(3000).then(() => 'hung')]);
      assert.equal(outcome, 'closed');
      await expectSocketError(pending);
    });
  });
});

describe('playment-sandbox CLI', () => {
  it('parses flags with defaults, repeated and comma-separated lists', () => {
    assert.deepEqual(parseCliArgs([]), { kind: 'run', options: { host: '127.0.0.1', port: 4010 } });
    assert.deepEqual(
      parseCliArgs([
        '--port', '0', '--host', '0.0.0.0', '--api-key', 'a,b', '--api-key', 'c', '--project', 'p1',
        '--project', 'p2,p3', '--completion-delay', '250', '--rate-limit', '20',
      ]),
      {
        kind: 'run',
        options: {
          host: '0.0.0.0',
          port: 0,
          apiKeys: ['a', 'b', 'c'],
          projectIds: ['p1', 'p2', 'p3'],
          completionDelayMs: 250,
          rateLimitPerSecond: 20,
        },
      },
    );
    assert.deepEqual(parseCliArgs(['--help']), { kind: 'help' });
  });

  it('rejects bad values without echoing them', () => {
    assert.throws(() => parseCliArgs(['--port', '70000']), /--port/);
    assert.throws(() => parseCliArgs(['--port', 'abc']), /--port/);
    assert.throws(() => parseCliArgs(['--rate-limit', '-1']), /--rate-limit/);
    assert.throws(() => parseCliArgs(['--unknown']), /unknown/i);
    assert.throws(
      () => parseCliArgs(['--api-key', 'k', 'super-secret']),
      (error: Error) => !error.message.includes('super-secret'),
    );
  });

  it('prints one listening line without the keys and exits 0 on SIGTERM', async function () {
    this.timeout(20_000);
    const cli = path.join(__dirname, '..', 'src', 'sandbox', 'cli.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', '--api-key', 'cli-secret-key'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.includes('\n')) resolve(stdout);
      });
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    const match = /^Playment sandbox listening on (http:\/\/127\.0\.0\.1:(\d+)) \(storage http:\/\/127\.0\.0\.1:\d+\)\n$/.exec(line);
    assert.ok(match, line);
    assert.ok(!line.includes('cli-secret-key'));

    const res = await request(`${match[1]}/v1/projects/${PID}/details`, { headers: { 'x-api-key': 'cli-secret-key' } });
    assert.equal(res.statusCode, 200);
    await res.body.dump();

    const exitCode = await new Promise<number | null>((resolve) => {
      child.removeAllListeners('exit');
      child.on('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    });
    assert.equal(exitCode, 0);
    assert.equal(stdout, line, 'exactly one line on stdout');
  });
});
