/** Job settings as users give them (node fields are strings, msg values anything) and the body built from them. */
import assert from 'node:assert/strict';
import { makeBody, parseJobSettings } from '../../src/jobs/job-body';
import type { PlaymentError } from '../../src/api/errors';

const UUID = '0b9c1f3e-5a2d-4c8e-9f10-aa11bb22cc33';

function refusal(raw: Record<string, unknown>, label = 'msg'): PlaymentError {
  try {
    parseJobSettings(raw, label);
  } catch (err) {
    return err as PlaymentError;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
}

describe('parseJobSettings', () => {
  it('needs a tag or a work flow id, and says where to set them', () => {
    const err = refusal({ reference_id: 'r' }, 'sequence 2');
    assert.equal(err.code, 'INVALID_INPUT');
    assert.equal(err.message, 'sequence 2: tag or work_flow_id is required (set it in the node, or as msg.tag / msg.work_flow_id)');
    assert.deepEqual(parseJobSettings({ work_flow_id: 'wf' }, 'msg'), { work_flow_id: 'wf' });
    assert.deepEqual(parseJobSettings({ tag: 't' }, 'msg'), { tag: 't' });
  });

  it('treats empty node fields and null as not set', () => {
    const settings = parseJobSettings({ tag: 't', work_flow_id: '', reference_id: null, batch_id: '', priority_weight: '' }, 'msg');
    assert.deepEqual(
      { ...settings },
      { tag: 't', work_flow_id: undefined, reference_id: undefined, batch_id: undefined, priority_weight: undefined },
    );
    assert.equal(refusal({ tag: '', work_flow_id: null }).code, 'INVALID_INPUT');
  });

  it('takes finite numbers as ids, as text', () => {
    assert.deepEqual(parseJobSettings({ tag: 7, reference_id: 12.5 }, 'msg'), { tag: '7', reference_id: '12.5' });
  });

  it('refuses ids that are blank, too long, not finite or not text, naming the field and the value', () => {
    assert.equal(refusal({ tag: '   ' }).message, 'msg: tag must be a non-empty string of at most 256 characters, got "   "');
    assert.equal(
      refusal({ tag: 't', reference_id: NaN }).message,
      'msg: reference_id must be a non-empty string of at most 256 characters, got null',
    );
    assert.equal(
      refusal({ work_flow_id: ['w'] }).message,
      'msg: work_flow_id must be a non-empty string of at most 256 characters, got ["w"]',
    );
    assert.match(
      refusal({ tag: 'x'.repeat(257) }).message,
      /^msg: tag must be a non-empty string of at most 256 characters, got "x{76}\.\.\.$/,
    );
    assert.equal(parseJobSettings({ tag: 'x'.repeat(256) }, 'msg').tag, 'x'.repeat(256));
  });

  it('takes a batch id only as a UUID, in either case', () => {
    assert.equal(parseJobSettings({ tag: 't', batch_id: UUID.toUpperCase() }, 'msg').batch_id, UUID.toUpperCase());
    for (const bad of ['batch-1', `${UUID}x`, `x${UUID}`, UUID.replace(/-/g, '')]) {
      assert.equal(
        refusal({ tag: 't', batch_id: bad }).message,
        'msg: batch_id must be a UUID (the id a create-batch node or the dashboard gives)',
        bad,
      );
    }
    assert.match(refusal({ tag: 't', batch_id: 42 }).message, /batch_id must be a UUID/);
  });

  it('takes a priority weight from 1 to 10, as a number or as digits with spaces', () => {
    assert.equal(parseJobSettings({ tag: 't', priority_weight: 1 }, 'msg').priority_weight, 1);
    assert.equal(parseJobSettings({ tag: 't', priority_weight: 10 }, 'msg').priority_weight, 10);
    assert.equal(parseJobSettings({ tag: 't', priority_weight: ' 7 ' }, 'msg').priority_weight, 7);
    for (const bad of [0, 11, 2.5, -1, '3.5', '1e1', '5 x', 'x 5', true]) {
      assert.equal(
        refusal({ tag: 't', priority_weight: bad }).message,
        `msg: priority_weight must be an integer from 1 to 10, got ${JSON.stringify(bad)}`,
        String(bad),
      );
    }
  });
});

describe('settings at their edges', () => {
  it('takes an empty id or priority weight given directly as not set', () => {
    const settings = parseJobSettings({ tag: '', work_flow_id: 'w', priority_weight: '' }, 'msg');
    assert.deepEqual([settings.tag, settings.work_flow_id, settings.priority_weight], [undefined, 'w', undefined]);
    assert.equal(parseJobSettings({ tag: 't', priority_weight: null }, 'msg').priority_weight, undefined);
  });

  it('takes a priority weight of two digits given as text', () => {
    assert.equal(parseJobSettings({ tag: 't', priority_weight: '10' }, 'msg').priority_weight, 10);
  });
});

describe('makeBody', () => {
  const frames = [{ frame_id: 'a', src: 'https://h/a.jpg' }];

  it('carries every setting given, and no key for one not given', () => {
    assert.deepEqual(makeBody({ tag: 't', work_flow_id: 'w', batch_id: UUID, priority_weight: 3 }, frames, 'r'), {
      reference_id: 'r',
      tag: 't',
      work_flow_id: 'w',
      batch_id: UUID,
      priority_weight: 3,
      data: { video_data: { frames } },
    });
    const minimal = makeBody({ work_flow_id: 'w' }, frames, 'r');
    assert.deepEqual(Object.keys(minimal).sort(), ['data', 'reference_id', 'work_flow_id']);
    assert.deepEqual(Object.keys(makeBody({ tag: 't' }, frames, 'r')).sort(), ['data', 'reference_id', 'tag']);
  });
});
