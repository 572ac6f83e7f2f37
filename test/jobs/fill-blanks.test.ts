/** The precedence rule shared by the input contracts and the planner: the first value that is not blank. */
import assert from 'node:assert/strict';
import { firstFilled, isBlank } from '../../src/jobs/fill-blanks';

describe('fill-blanks', () => {
  it('takes missing, null and the empty string as blank, and nothing else', () => {
    assert.deepEqual([undefined, null, '', ' ', 0, false, 'x'].map(isBlank), [true, true, true, false, false, false, false]);
  });

  it('skips an empty node field for the next place, but keeps 0 and false', () => {
    assert.equal(firstFilled('', undefined, 'from-msg'), 'from-msg');
    assert.equal(firstFilled(null, 0, 5), 0);
    assert.equal(firstFilled(false, 'x'), false);
    assert.equal(firstFilled('', null), undefined);
  });
});
