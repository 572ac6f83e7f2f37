/** Waits longer than a Node.js timer holds (2^31-1 ms, about 24.8 days) are made of shorter timers. */
import assert from 'node:assert/strict';
import { mock } from 'node:test';
import { useMockClock } from '../support/mock-clock';
import { sleep } from '../../src/api/retry';
import { MAX_TIMER_DELAY_MS, timerDelay } from '../../src/api/timer-delay';
import { AttemptControl } from '../../src/api/transport';
import { PlaymentClient } from '../../src/api/client';

const THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000;

async function turn(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

describe('long waits and the timer limit', () => {
  const clock = useMockClock(0);

  it('timerDelay keeps a delay between 0 and 2^31-1 ms', () => {
    assert.equal(timerDelay(1500), 1500);
    assert.equal(timerDelay(-5), 0);
    assert.equal(timerDelay(Number.NaN), 0);
    assert.equal(timerDelay(THIRTY_DAYS_MS), MAX_TIMER_DELAY_MS);
    assert.equal(timerDelay(Infinity), MAX_TIMER_DELAY_MS);
  });

  // The result poller's sweeps: test/api/result-poller.test.ts.
  for (const [name, wait] of [['sleep', (ms: number) => sleep(ms)]] as const) {
    it(`${name}: a 30-day wait ends after 30 days, with no timer beyond 2^31-1 ms`, async () => {
      let done = false;
      void wait(THIRTY_DAYS_MS).then(() => (done = true));
      await turn();
      mock.timers.tick(MAX_TIMER_DELAY_MS);
      await turn();
      assert.equal(done, false, 'not over after the first timer');
      mock.timers.tick(THIRTY_DAYS_MS - MAX_TIMER_DELAY_MS - 1);
      await turn();
      assert.equal(done, false, 'not over 1 ms early');
      mock.timers.tick(1);
      await turn();
      assert.equal(done, true);
      assert.ok(clock.armed.length >= 2 && clock.armed.every((ms) => ms <= MAX_TIMER_DELAY_MS), `clock.armed ${clock.armed.join(', ')} ms`);
    });
  }

  it('an attempt timeout beyond the limit arms a timer of at most 2^31-1 ms', () => {
    const control = new AttemptControl([], THIRTY_DAYS_MS);
    control.end();
    assert.deepEqual(clock.armed, [MAX_TIMER_DELAY_MS]);
  });

  it('a close grace beyond the limit arms a timer of at most 2^31-1 ms', async () => {
    // A call that never gets an answer: its dispatcher accepts the request and stays silent.
    const silent = { dispatch: () => true, destroy: async () => undefined } as unknown as ConstructorParameters<
      typeof PlaymentClient
    >[0]['dispatcher'];
    const client = new PlaymentClient({
      baseUrl: 'http://127.0.0.1:9',
      apiVersion: 'v1',
      projectId: 'p1',
      apiKey: 'sk-timer-test',
      rateLimit: 0,
      dispatcher: silent,
    });
    void client.projectDetails().catch(() => undefined);
    await turn();
    clock.armed.length = 0;
    void client.close(THIRTY_DAYS_MS);
    await turn();
    assert.deepEqual(clock.armed, [MAX_TIMER_DELAY_MS]);
  });
});
