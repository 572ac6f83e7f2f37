/** Trackers read out of result files of both video task kinds, and files that are not results. */
import assert from 'node:assert/strict';
import { extractAnnotations } from '../../src/jobs/annotations';

describe('extractAnnotations', () => {
  const tracker = { _id: 't1', type: 'rectangle', label: 'car', frames: { f1: { x: 1 } }, extra: 'kept' };

  it('reads video annotation results (annotation_data), keeping unknown fields', () => {
    assert.deepEqual(extractAnnotations({ data: { annotation_data: { annotations: [tracker] } } }), [tracker]);
  });

  it('reads video segmentation results (annotations_data)', () => {
    assert.deepEqual(extractAnnotations({ data: { annotations_data: { annotations: [{ label: 'road' }] } } }), [{ label: 'road' }]);
  });

  it('prefers annotation_data when a file has both', () => {
    const file = { data: { annotation_data: { annotations: [] }, annotations_data: { annotations: [tracker] } } };
    assert.deepEqual(extractAnnotations(file), []);
  });

  it('says undefined for files in no known shape', () => {
    for (const file of [
      null,
      'x',
      {},
      { data: null },
      { data: {} },
      { data: { annotation_data: { annotations: 'x' } } },
      { data: { annotation_data: { annotations: [{ label: 3 }] } } },
    ]) {
      assert.equal(extractAnnotations(file), undefined, JSON.stringify(file));
    }
  });
});
