/** Sandbox attachments: the redirect to a signed storage URL, and the storage listener. */
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import type { Sandbox } from '../../src/sandbox/server';
import {
  KEY,
  PID,
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
  const { startExtra, createJob } = useSandbox((s) => (sb = s));
  // Storage URLs are fetched directly, over connections of their own.
  const dispatcher = new Agent({ keepAliveTimeout: 10_000 });
  after(() => dispatcher.close());

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
      assertError(
        await call(sb.url, 'GET', `/v1/attachments?url=${enc(`${RESULT_PREFIX}${PID}/00000000-0000-4000-8000-000000000000.json`)}`),
        400,
        'GE_0001',
      );
      assertError(await call(sb.url, 'GET', '/v1/attachments'), 400, 'GE_0002');
      const slow = await startExtra({ completionDelayMs: 60_000 });
      const created = await call(slow.url, 'POST', jobsPath('v1'), { body: jobBody('pending') });
      const pendingUrl = `${RESULT_PREFIX}${PID}/${created.json.data.job_id}.json`;
      assertError(await call(slow.url, 'GET', `/v1/attachments?url=${enc(pendingUrl)}`), 400, 'GE_0001');
    });
  });
});
