/** Ids become path segments: none may leave its segment. */
import assert from 'node:assert/strict';
import { PROFILES, API_VERSIONS, jobCreateRequest, pathSegment } from '../../src/api/profiles';
import { PlaymentClient } from '../../src/api/client';
import { PlaymentError } from '../../src/api/errors';

const isInvalidInput = (e: unknown) => e instanceof PlaymentError && e.code === 'INVALID_INPUT';

describe('request paths', () => {
  for (const id of ['', '.', '..']) {
    it(`refuses the id ${JSON.stringify(id)} in every path of both profiles`, () => {
      for (const version of API_VERSIONS) {
        const p = PROFILES[version];
        assert.throws(() => p.getJob('proj', id), isInvalidInput);
        assert.throws(() => p.getJob(id, 'job-1'), isInvalidInput);
        assert.throws(() => p.createJob(id), isInvalidInput);
        assert.throws(() => p.createBatch(id), isInvalidInput);
        assert.throws(() => p.batchJobs('proj', id), isInvalidInput);
        assert.throws(() => p.projectDetails(id), isInvalidInput);
      }
    });
  }

  it('keeps every other id inside its segment, encoded forms of dots included', () => {
    for (const id of ['%2e%2e', '%2E', '...', '../x', 'a/b', '?q', '#f', ' .. ']) {
      const path = PROFILES.v0.getJob('proj', id);
      const url = new URL(`http://127.0.0.1${path}`);
      assert.equal(url.pathname.split('/').length, 6, `${id} -> ${url.pathname}`);
      assert.equal(decodeURIComponent(url.pathname.split('/')[5]), id);
      assert.equal(pathSegment(id), encodeURIComponent(id));
    }
  });

  it('a client call with such an id ends INVALID_INPUT before any request', async () => {
    // Nothing listens on this port: a request would end NETWORK, not INVALID_INPUT.
    const client = new PlaymentClient({
      baseUrl: 'http://127.0.0.1:9',
      apiVersion: 'v0',
      projectId: '..',
      apiKey: 'k-0123456789',
      maxRetries: 0,
    });
    try {
      await assert.rejects(client.projectDetails(), isInvalidInput);
      await assert.rejects(client.getJob('job-1'), isInvalidInput);
      const good = new PlaymentClient({
        baseUrl: 'http://127.0.0.1:9',
        apiVersion: 'v1',
        projectId: 'p',
        apiKey: 'k-0123456789',
        maxRetries: 0,
      });
      await assert.rejects(good.getJob('..'), isInvalidInput);
      await assert.rejects(good.batchJobs('.', undefined), isInvalidInput);
      await good.close(0);
    } finally {
      await client.close(0);
    }
  });

  it('builds the documented paths of both profiles', () => {
    const paths = (v: 'v0' | 'v1') => {
      const p = PROFILES[v];
      return [
        p.createJob('p 1'),
        p.createBatch('p 1'),
        p.getJob('p 1', 'j/1'),
        p.batchJobs('p 1', 'b1'),
        p.batchJobs('p 1', 'b1', 'a+b=='),
        p.projectDetails('p 1'),
      ];
    };
    assert.deepEqual(paths('v0'), [
      '/v0/projects/p%201/jobs',
      '/v1/project/p%201/batch',
      '/v0/projects/p%201/jobs/j%2F1',
      '/v0/projects/p%201/batch/b1',
      '/v0/projects/p%201/batch/b1?page_token=a%2Bb%3D%3D',
      '/v0/projects/p%201/details',
    ]);
    assert.deepEqual(paths('v1'), [
      '/v1/projects/p%201/jobs',
      '/v1/projects/p%201/batch',
      '/v1/projects/p%201/jobs/j%2F1',
      '/v1/projects/p%201/batch/b1',
      '/v1/projects/p%201/batch/b1?page_token=a%2Bb%3D%3D',
      '/v1/projects/p%201/details',
    ]);
    assert.deepEqual(jobCreateRequest(PROFILES.v1, 'p', { x: 1 }), { method: 'POST', path: '/v1/projects/p/jobs', body: { x: 1 } });
  });

  it('says which id cannot be used, and why', () => {
    const message = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return (err as Error).message;
      }
      return assert.fail('accepted');
    };
    const why = 'cannot be used in a request path: it is empty, "." or ".."';
    assert.equal(
      message(() => pathSegment('..')),
      `id ".." ${why}`,
    );
    assert.equal(
      message(() => PROFILES.v0.createBatch('.')),
      `project id "." ${why}`,
    );
    assert.equal(
      message(() => PROFILES.v1.getJob('p', '')),
      `job id "" ${why}`,
    );
    assert.equal(
      message(() => PROFILES.v1.batchJobs('p', '..')),
      `batch id ".." ${why}`,
    );
  });
});

describe('profiles and base URLs', () => {
  it('build both path layouts with encoded segments', () => {
    assert.equal(PROFILES.v0.createBatch('p 1'), '/v1/project/p%201/batch');
    assert.equal(PROFILES.v1.createBatch('p'), '/v1/projects/p/batch');
    assert.equal(PROFILES.v0.batchJobs('p', 'b', 't/1'), '/v0/projects/p/batch/b?page_token=t%2F1');
    assert.equal(PROFILES.v1.getJob('p', '../x'), '/v1/projects/p/jobs/..%2Fx');
  });
});
