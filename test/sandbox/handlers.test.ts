/** The sandbox's API routes: create job and batch, job result, batch jobs list, project details. */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import {
  PID,
  OTHER_PID,
  UUID,
  RESULT_PREFIX,
  type Json,
  call,
  frames,
  jobBody,
  enc,
  jobsPath,
  assertError,
  sleep,
  useSandbox,
} from '../support/sandbox-http';

describe('playment sandbox', function () {
  let sb: Sandbox;
  const { startExtra, createJob, createBatch } = useSandbox((s) => (sb = s));

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
      assert.deepEqual(creates, [
        [200, data.job_id, undefined],
        [400, undefined, 'FS_0001'],
      ]);
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
        assert.deepEqual(Object.keys(item), [
          'id',
          'reference_id',
          'status',
          'frames',
          'annotations',
          'priority_weight',
          'tag',
          'viewer_url',
        ]);
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
      assert.deepEqual(
        seen,
        Array.from({ length: 250 }, (_, i) => `p-${i}`),
      );
      assert.ok(tokens[0] !== '' && tokens[1] !== '' && tokens[0] !== tokens[1]);
      assert.equal(tokens[2], '');
      assert.ok(!/^\d+$/.test(tokens[0]), 'token should be opaque');

      // A blank token is the first page.
      const blank = await call(sb.url, 'GET', `/v1/projects/${PID}/batch/${batchId}?page_token=`);
      assert.equal(blank.json.data.jobs[0].reference_id, 'p-0');

      for (const bad of [
        'garbage!',
        'MTAw',
        Buffer.from(`${batchId}:7`).toString('base64url'),
        Buffer.from(`${batchId}:300`).toString('base64url'),
      ]) {
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
          'id',
          'name',
          'description',
          'is_default',
          'total_jobs',
          'completed_jobs',
          'total_frames',
          'completed_frames',
          'annotations',
          'created_at',
          'status',
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
});
