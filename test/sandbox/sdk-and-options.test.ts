// The sandbox against Playment's Python SDK requests (job creation under /projectsvc with
// sensor_data, the project summary at /v0/.../stats) and its stricter options: known tags /
// work-flow ids (FS_0005) and URL reachability (FS_0007). Real HTTP on 127.0.0.1 only.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { parseCliArgs, USAGE } from '../../src/sandbox/cli-args';
import { DEFAULT_API_KEY, DEFAULT_PROJECT_ID, startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server';

const KEY = DEFAULT_API_KEY;
const PID = DEFAULT_PROJECT_ID;

// Answers are checked field by field.
type Json = any;

async function call(sb: Sandbox, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await request(`${sb.url}${path}`, {
    method,
    headers: body === undefined ? { 'x-api-key': KEY } : { 'x-api-key': KEY, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: JSON.parse(text) };
}

function assertError(res: { status: number; json: Json }, code: string, messageIncludes: string[] = []): void {
  assert.equal(res.status, 400, JSON.stringify(res.json));
  assert.equal(res.json.error.code, code, JSON.stringify(res.json));
  for (const fragment of messageIncludes) assert.ok(res.json.error.message.includes(fragment), res.json.error.message);
}

/** A camera-only sequence exactly as the SDK's video example serialises it (to_dict). */
function sdkVideoJob(referenceId: string, urls: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: null,
    reference_id: referenceId,
    tag: 'sensor_fusion',
    batch_id: null,
    priority_weight: 5,
    data: {
      metadata: null,
      sensor_data: {
        sensor_meta: [{ id: 'right', name: 'right', primary_view: true, modality: null, state: 'editable', intrinsics: null }],
        frames: urls.map((url, i) => ({
          frame_id: String(i),
          sensors: [{ data_url: url, sensor_id: 'right', sensor_pose: null }],
        })),
      },
    },
    ...extra,
  };
}

const cdn = (n: number, host = 'cdn.example.com'): string[] => Array.from({ length: n }, (_, i) => `https://${host}/clip/${i}.jpg`);
const SDK_JOBS = `/projectsvc/projects/${PID}/jobs`;
const v1Job = (ref: string, urls: string[], routing: Record<string, string> = { work_flow_id: 'wf-1' }) => ({
  reference_id: ref,
  ...routing,
  data: { video_data: { frames: urls.map((src, i) => ({ frame_id: `f${i}`, src })) } },
});

describe('playment sandbox: Python SDK paths and forms', () => {
  let sb: Sandbox;
  before(async () => {
    sb = await startSandbox({ completionDelayMs: 0 });
  });
  beforeEach(() => sb.state.reset());
  after(() => sb.close());

  it('creates a job at /projectsvc/projects/{id}/jobs from the SDK body and answers what JobResponse reads', async () => {
    const res = await call(sb, 'POST', SDK_JOBS, sdkVideoJob('54', cdn(3)));
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.success, true);
    assert.deepEqual(Object.keys(res.json.data).sort(), ['job_id', 'reference_id', 'tag']);
    assert.equal(res.json.data.reference_id, '54');
    assert.equal(res.json.data.tag, 'sensor_fusion');
    const [job] = sb.state.jobsByReferenceId(PID, '54');
    assert.equal(job.jobId, res.json.data.job_id);
    assert.deepEqual(
      job.frames,
      cdn(3).map((src, i) => ({ frame_id: String(i), src })),
    );
    assert.equal(sb.state.requests[0].route, 'job.create');

    // The SDK's job result (v0) reads these fields into JobResult.
    const result = await call(sb, 'GET', `/v0/projects/${PID}/jobs/${job.jobId}`);
    for (const field of ['project_id', 'reference_id', 'job_id', 'batch_id', 'status', 'tag', 'priority_weight', 'result']) {
      assert.ok(field in result.json.data, field);
    }
  });

  it('stores the primary-view sensor of each frame, and every data_url must be a URL (FS_0007)', async () => {
    const body = sdkVideoJob('two-cams', cdn(2));
    const sensorData = (body.data as Json).sensor_data;
    sensorData.sensor_meta = [
      { id: 'left', primary_view: false, state: 'non_editable' },
      { id: 'right', primary_view: true, state: 'editable' },
    ];
    sensorData.frames = [0, 1].map((i) => ({
      frame_id: String(i),
      sensors: [
        { sensor_id: 'left', data_url: `https://cdn.example.com/left/${i}.jpg` },
        { sensor_id: 'right', data_url: `https://cdn.example.com/right/${i}.jpg` },
      ],
    }));
    assert.equal((await call(sb, 'POST', SDK_JOBS, body)).status, 200);
    assert.deepEqual(
      sb.state.jobsByReferenceId(PID, 'two-cams')[0].frames.map((f) => f.src),
      ['https://cdn.example.com/right/0.jpg', 'https://cdn.example.com/right/1.jpg'],
    );

    sensorData.frames[1].sensors[0].data_url = 'not a url';
    assertError(await call(sb, 'POST', SDK_JOBS, { ...body, reference_id: 'bad-url' }), 'FS_0007', ['frames[1].sensors[0]', 'data_url']);
  });

  it('refuses malformed sensor_data with FS_0003 / FS_0004, as for video_data', async () => {
    const cases: Array<[string, (d: Json) => void, string, string]> = [
      ['no sensors', (d) => (d.sensor_data.sensor_meta = []), 'FS_0003', 'sensor_meta'],
      ['unknown sensor', (d) => (d.sensor_data.frames[0].sensors[0].sensor_id = 'left'), 'FS_0003', 'not in sensor_meta'],
      ['two primary views', (d) => d.sensor_data.sensor_meta.push({ id: 'left', primary_view: true }), 'FS_0003', 'primary_view'],
      ['bad state', (d) => (d.sensor_data.sensor_meta[0].state = 'locked'), 'FS_0003', 'state'],
      ['frame without sensors', (d) => (d.sensor_data.frames[0].sensors = []), 'FS_0003', 'sensors'],
      ['duplicate frame id', (d) => (d.sensor_data.frames[1].frame_id = '0'), 'FS_0003', 'duplicate frame_id'],
      ['no frames', (d) => (d.sensor_data.frames = []), 'FS_0004', 'frames is empty'],
      ['both forms', (d) => (d.video_data = { frames: [{ frame_id: 'a', src: 'https://cdn.example.com/a.jpg' }] }), 'FS_0003', 'not both'],
    ];
    for (const [name, change, code, fragment] of cases) {
      const body = sdkVideoJob(name, cdn(2));
      change(body.data);
      assertError(await call(sb, 'POST', SDK_JOBS, body), code, [fragment]);
    }
    assert.equal(sb.state.jobs().length, 0);
  });

  it('only POST on the SDK job path, and nothing else under /projectsvc', async () => {
    assert.equal((await request(`${sb.url}${SDK_JOBS}`, { headers: { 'x-api-key': KEY } })).statusCode, 405);
    for (const path of [`/projectsvc/projects/${PID}/jobs/x`, `/projectsvc/projects/${PID}/batch`, '/projectsvc/projects']) {
      const res = await call(sb, 'POST', path, {});
      assert.equal(res.status, 404, path);
    }
  });

  it('GET /v0/projects/{id}/stats answers the fields of the SDK ProjectSummary, added up over batches', async () => {
    const empty = await call(sb, 'GET', `/v0/projects/${PID}/stats`);
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.json.data, {
      name: PID,
      base: 'VIDEO',
      total_batches: 1,
      completed_batches: 0,
      total_jobs: 0,
      completed_jobs: 0,
      total_frames: 0,
      completed_frames: 0,
      annotations: 0,
    });
    const batch = await call(sb, 'POST', `/v1/project/${PID}/batch`, { id: null, name: 'b', label: 'b', description: 'd' });
    assert.equal((await call(sb, 'POST', SDK_JOBS, sdkVideoJob('s1', cdn(3)))).status, 200);
    assert.equal((await call(sb, 'POST', SDK_JOBS, sdkVideoJob('s2', cdn(2), { batch_id: batch.json.data.batch_id }))).status, 200);
    const stats = (await call(sb, 'GET', `/v0/projects/${PID}/stats`)).json.data;
    const details = (await call(sb, 'GET', `/v0/projects/${PID}/details`)).json.data;
    const sum = (field: string): number => details.batches.reduce((total: number, b: Json) => total + b[field], 0);
    assert.deepEqual(
      [stats.total_batches, stats.completed_batches, stats.total_jobs, stats.completed_jobs, stats.total_frames, stats.completed_frames],
      [2, 2, 2, 2, 5, 5],
    );
    assert.equal(stats.annotations, sum('annotations'));
    assert.ok(stats.annotations > 0);
    assert.equal(sb.state.routeCounts['project.stats'], 2);
    // The summary exists only in the SDK, under v0.
    assert.equal((await call(sb, 'GET', `/v1/projects/${PID}/stats`)).status, 404);
  });
});

describe('playment sandbox: known tags / work-flow ids', () => {
  let sb: Sandbox;
  before(async () => {
    sb = await startSandbox({ workflows: ['track_bounding_boxes', 'wf-1'] });
  });
  after(() => sb.close());

  it('accepts a listed tag or work_flow_id and refuses any other with FS_0005', async () => {
    assert.equal((await call(sb, 'POST', `/v0/projects/${PID}/jobs`, v1Job('t1', cdn(1), { tag: 'track_bounding_boxes' }))).status, 200);
    assert.equal((await call(sb, 'POST', `/v1/projects/${PID}/jobs`, v1Job('w1', cdn(1)))).status, 200);
    assertError(await call(sb, 'POST', `/v0/projects/${PID}/jobs`, v1Job('t2', cdn(1), { tag: 'polygons' })), 'FS_0005', [
      'tag "polygons"',
    ]);
    assertError(await call(sb, 'POST', `/v1/projects/${PID}/jobs`, v1Job('w2', cdn(1), { work_flow_id: 'wf-2' })), 'FS_0005', [
      'work_flow_id "wf-2"',
    ]);
    // Both sent: both must be known.
    assertError(
      await call(sb, 'POST', `/v1/projects/${PID}/jobs`, v1Job('w3', cdn(1), { work_flow_id: 'wf-1', tag: 'other' })),
      'FS_0005',
      ['tag "other"'],
    );
    assertError(await call(sb, 'POST', SDK_JOBS, sdkVideoJob('sdk', cdn(1))), 'FS_0005', ['sensor_fusion']);
    assert.deepEqual(
      sb.state.jobs().map((j) => j.referenceId),
      ['t1', 'w1'],
    );
  });

  it('rejects an empty list', async () => {
    await assert.rejects(startSandbox({ workflows: [] }), RangeError);
    await assert.rejects(startSandbox({ workflows: [' '] }), RangeError);
  });
});

describe('playment sandbox: URL reachability', () => {
  let listening: Server;
  let openPort: number;
  let closedPort: number;
  let connections = 0;
  const started: Sandbox[] = [];

  async function sandbox(opts: SandboxOptions): Promise<Sandbox> {
    const sb = await startSandbox(opts);
    started.push(sb);
    return sb;
  }

  before(async () => {
    listening = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    openPort = (listening.address() as AddressInfo).port;
    // A port nothing listens on: bound, then released.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
  });
  after(() => new Promise((resolve) => listening.close(resolve)));

  const local = (port: number, n: number): string[] => Array.from({ length: n }, (_, i) => `http://127.0.0.1:${port}/f${i}.jpg`);

  it('is off by default: unreachable hosts are accepted and nothing is contacted', async () => {
    const sb = await sandbox({});
    connections = 0;
    assert.equal((await call(sb, 'POST', `/v1/projects/${PID}/jobs`, v1Job('off-1', local(closedPort, 2)))).status, 200);
    assert.equal((await call(sb, 'POST', `/v1/projects/${PID}/jobs`, v1Job('off-2', local(openPort, 2)))).status, 200);
    assert.equal((await call(sb, 'POST', SDK_JOBS, sdkVideoJob('off-3', ['https://frames.invalid/a/0.jpg']))).status, 200);
    assert.equal(connections, 0);
  });

  it('accepts a host that answers, probing each host and port once however many frames name it', async () => {
    const sb = await sandbox({ checkUrls: true });
    connections = 0;
    assert.equal((await call(sb, 'POST', `/v1/projects/${PID}/jobs`, v1Job('up-1', local(openPort, 5)))).status, 200);
    assert.equal((await call(sb, 'POST', SDK_JOBS, sdkVideoJob('up-2', local(openPort, 3)))).status, 200);
    assert.equal(connections, 1, 'one probe, cached for the second job');
    assert.equal(sb.state.jobs().length, 2);
  });

  it('refuses a closed port and a name that does not resolve with FS_0007, naming the frame', async () => {
    const sb = await sandbox({ checkUrls: true });
    const urls = [...local(openPort, 2), `http://127.0.0.1:${closedPort}/late.jpg`];
    assertError(await call(sb, 'POST', `/v1/projects/${PID}/jobs`, v1Job('down-1', urls)), 'FS_0007', [
      'frames[2] (frame_id "f2")',
      `did not answer on port ${closedPort}`,
    ]);
    assertError(await call(sb, 'POST', SDK_JOBS, sdkVideoJob('down-2', ['https://frames.invalid/a/0.jpg'])), 'FS_0007', [
      'frames[0].sensors[0]',
      'host "frames.invalid" does not resolve',
    ]);
    assert.equal(sb.state.jobs().length, 0);
    // s3:// and gs:// name buckets, not hosts the sandbox could reach: not probed.
    const buckets = ['s3://bucket/clip/0.jpg', 'gs://bucket/clip/1.jpg'];
    assert.equal((await call(sb, 'POST', `/v1/projects/${PID}/jobs`, v1Job('buckets', buckets))).status, 200);
  });

  it('the duplicate check still holds when two creates are checked at once', async () => {
    const sb = await sandbox({ checkUrls: true });
    const body = v1Job('same', local(openPort, 2));
    const answers = await Promise.all([0, 1, 2].map(() => call(sb, 'POST', `/v1/projects/${PID}/jobs`, body)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 400, 400]);
    assert.equal(sb.state.jobs().length, 1);
  });
});

describe('playment-sandbox CLI: --workflow and --check-urls', () => {
  it('parses them and documents them in --help', () => {
    assert.deepEqual(parseCliArgs(['--workflow', 'a,b', '--workflow', 'c', '--check-urls']), {
      kind: 'run',
      options: { host: '127.0.0.1', port: 4010, workflows: ['a', 'b', 'c'], checkUrls: true },
    });
    assert.throws(() => parseCliArgs(['--workflow', ' , ']), /--workflow needs at least one non-empty value/);
    assert.match(USAGE, /--workflow W .*FS_0005/s);
    assert.match(USAGE, /--check-urls .*FS_0007/s);
    assert.match(USAGE, /\/projectsvc\/projects\/\{id\}\/jobs/);
  });
});
