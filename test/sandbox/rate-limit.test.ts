/** The sandbox's rate limit. */
import assert from 'node:assert/strict';
import { PID, call, assertError, sleep, useSandbox } from '../support/sandbox-http';

describe('playment sandbox', function () {
  const { startExtra } = useSandbox(() => undefined);

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
});
