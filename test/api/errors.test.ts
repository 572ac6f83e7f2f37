/** The error every failure is reported with, and redaction of the API key. */
import assert from 'node:assert/strict';
import { invalidInput, isPlaymentError, OWN_CODES, PLAYMENT_CODES, PlaymentError, redact, SERVER_SIDE_CODES } from '../../src/api/errors';

describe('PlaymentError', () => {
  it('carries every field it is given, and its cause', () => {
    const cause = new Error('socket hang up');
    const err = new PlaymentError({
      code: 'HTTP_ERROR',
      message: 'boom',
      statusCode: 502,
      retryable: true,
      apiCode: 'api_error',
      mayExist: true,
      referenceId: 'r',
      retryAfter: '3',
      cause,
    });
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'PlaymentError');
    assert.equal(err.message, 'boom');
    assert.deepEqual(
      [err.code, err.statusCode, err.retryable, err.apiCode, err.mayExist, err.referenceId, err.retryAfter, err.cause],
      ['HTTP_ERROR', 502, true, 'api_error', true, 'r', '3', cause],
    );
  });

  it('is not retryable and has no cause unless told', () => {
    const err = new PlaymentError({ code: 'FS_0001', message: 'dup' });
    assert.equal(err.retryable, false);
    assert.equal('cause' in err, false);
    assert.equal(new PlaymentError({ code: 'NETWORK', message: 'x', retryable: false }).retryable, false);
  });

  it('invalidInput makes an INVALID_INPUT error with the message', () => {
    const err = invalidInput('msg.payload has no frames');
    assert.ok(isPlaymentError(err));
    assert.deepEqual([err.code, err.message, err.retryable], ['INVALID_INPUT', 'msg.payload has no frames', false]);
  });

  it('isPlaymentError tells ours from other errors', () => {
    assert.equal(isPlaymentError(new Error('x')), false);
    assert.equal(isPlaymentError({ code: 'INVALID_INPUT', message: 'x' }), false);
    assert.equal(isPlaymentError(undefined), false);
  });

  it('lists our own codes and the server-side ones of Playment', () => {
    assert.deepEqual(
      [...OWN_CODES],
      [
        'INVALID_INPUT',
        'NOT_CONFIGURED',
        'UNAUTHORIZED',
        'HTTP_ERROR',
        'NETWORK',
        'TIMEOUT',
        'BAD_RESPONSE',
        'QUEUE_FULL',
        'RATE_LIMITED',
        'ABORTED',
        'DUPLICATE_UNRESOLVED',
        'INTERNAL',
      ],
    );
    assert.deepEqual([...SERVER_SIDE_CODES].sort(), ['FS_0000', 'FS_0008', 'api_error']);
    for (const code of SERVER_SIDE_CODES) assert.ok((PLAYMENT_CODES as readonly string[]).includes(code), code);
  });

  it('copyWith makes a new error with the changes, and leaves the original as it was', () => {
    const cause = new Error('socket hang up');
    const original = new PlaymentError({
      code: 'ABORTED',
      message: 'closed',
      statusCode: 400,
      retryable: true,
      apiCode: 'api_error',
      retryAfter: '2',
      cause,
    });
    const copy = original.copyWith({ mayExist: true, referenceId: 'ref-1', message: 'closed; more' });
    assert.notEqual(copy, original);
    assert.ok(copy instanceof PlaymentError);
    assert.deepEqual(
      [
        copy.code,
        copy.message,
        copy.statusCode,
        copy.retryable,
        copy.apiCode,
        copy.retryAfter,
        copy.cause,
        copy.mayExist,
        copy.referenceId,
      ],
      ['ABORTED', 'closed; more', 400, true, 'api_error', '2', cause, true, 'ref-1'],
    );
    assert.deepEqual([original.message, original.mayExist, original.referenceId], ['closed', undefined, undefined]);
    assert.equal('cause' in new PlaymentError({ code: 'TIMEOUT', message: 't' }).copyWith({ mayExist: true }), false);
  });
});

describe('redact', () => {
  it('replaces every occurrence of the key', () => {
    assert.equal(redact('sk-abcd/sk-abcdsk-abcd', 'sk-abcd'), '***/******');
  });

  it('leaves the text alone without a key, with a key too short to be one, or when the key is absent', () => {
    assert.equal(redact('a abc b', 'abc'), 'a abc b');
    assert.equal(redact('a abcd b', 'abcd'), 'a *** b');
    assert.equal(redact('text', ''), 'text');
    assert.equal(redact('no key here', 'sk-abcdef'), 'no key here');
  });
});

describe('answers from the API', () => {
  it('redacts a secret from any text', () => {
    assert.equal(redact('key sk-123456 leaked sk-123456', 'sk-123456'), 'key *** leaked ***');
    assert.equal(redact('nothing here', undefined), 'nothing here');
  });
});
