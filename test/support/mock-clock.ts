/**
 * node:test's mock clock (setTimeout and Date) for a mocha suite, plus the delay of every timer
 * armed while it runs: tests count grants and check timer limits without waiting.
 */
import { mock } from 'node:test';

export interface MockClock {
  /** The delays of the timers armed in the current test. */
  armed: number[];
}

export function useMockClock(now = 0): MockClock {
  const clock: MockClock = { armed: [] };
  let mocked: typeof setTimeout;
  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now });
    mocked = globalThis.setTimeout;
    clock.armed = [];
    globalThis.setTimeout = ((fn: () => void, ms?: number, ...args: unknown[]) => {
      clock.armed.push(ms ?? 0);
      return mocked(fn, ms, ...args);
    }) as typeof setTimeout;
  });
  afterEach(() => {
    globalThis.setTimeout = mocked;
    mock.timers.reset();
  });
  return clock;
}
