import type { PlaymentError } from '../../src/api/errors';

/** The error `fn` throws; fails when it throws nothing. */
export function thrown(fn: () => unknown): PlaymentError {
  try {
    fn();
  } catch (err) {
    return err as PlaymentError;
  }
  throw new Error('expected a throw');
}
