/** How the sandbox validates a create-job request, with the error codes Playment gives. */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { PID, OTHER_PID, type CallResult, call, frames, jobBody, jobsPath, assertError, useSandbox } from '../support/sandbox-http';

describe('playment sandbox', function () {
  let sb: Sandbox;
  const { startExtra, createJob, createBatch } = useSandbox((s) => (sb = s));

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
      assertError(await post({ reference_id: 'x', tag: 't', data: { sensor_data: { frames: [] } } }), 400, 'FS_0004', [
        'sensor_data.frames',
      ]);
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
      const list = [
        { frame_id: 'a', src: 'ftp://x/y' },
        { frame_id: 'a', src: 'https://x/y' },
      ];
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
});
