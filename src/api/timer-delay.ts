/** Node.js timers hold at most 2^31-1 ms: a longer delay overflows, with a warning, and fires after 1 ms. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * The delay to arm a timer with: never negative, never above what a timer holds. A caller whose
 * wait is longer sees its timer fire early and arms it again for the rest.
 */
export function timerDelay(ms: number): number {
  // Stryker disable next-line EqualityOperator: for 0 both branches give 0
  if (!(ms > 0)) return 0;
  return Math.min(ms, MAX_TIMER_DELAY_MS);
}
