/** Which API keys an HTTP header can carry, and what the refusal says (never the key itself). */
import assert from 'node:assert/strict';
import { apiKeyProblem } from '../../../src/nodes/common/api-key';

describe('API key characters', () => {
  it('accepts a single line of visible ASCII', () => {
    assert.equal(apiKeyProblem('sk-Abc_123.~!#$%&*+/=?^`{|}'), undefined);
  });

  it('names the first character a header cannot carry and where it is', () => {
    const cases: Array<[string, string]> = [
      ['ab\rc', 'a line break (CR or LF) at character 3'],
      ['\nabc', 'a line break (CR or LF) at character 1'],
      ['abc d', 'a space at character 4'],
      ['ab\tc', 'a control character at character 3'],
      ['abc\u0000', 'a control character at character 4'],
      ['ab\u007fc', 'a control character at character 3'],
      ['abé', 'a non-ASCII character at character 3'],
      ['a\u00a0b', 'a non-ASCII character at character 2'],
    ];
    for (const [key, what] of cases) {
      const problem = apiKeyProblem(key);
      assert.equal(
        problem,
        `the API key contains ${what}, which an HTTP header cannot carry: an API key is a single line of visible ASCII characters without spaces`,
        JSON.stringify(key),
      );
    }
  });
});
