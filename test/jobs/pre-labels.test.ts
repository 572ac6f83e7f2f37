/** Pre-labels, reference data and metadata: checked against the job's frames, sliced for split parts. */
import assert from 'node:assert/strict';
import type { PlaymentError } from '../../src/api/errors';
import type { Frame } from '../../src/jobs/frames';
import { extrasForFrames, parseJobExtras, preLabelTrackers } from '../../src/jobs/pre-labels';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.equal((err as PlaymentError).code, 'INVALID_INPUT');
    return (err as PlaymentError).message;
  }
  throw new Error('expected an INVALID_INPUT error');
}

const FRAMES: Frame[] = ['f1', 'f2', 'f3', 'f4'].map((id) => ({ frame_id: id, src: `https://h.example.com/d/${id}.jpg` }));

const box = (x: number) => ({
  label: 'Car',
  attributes: { occluded: { value: false, state: 'editable' } },
  coordinates: [
    { x, y: 0.1 },
    { x: x + 0.2, y: 0.1 },
    { x: x + 0.2, y: 0.3 },
    { x, y: 0.3 },
  ],
});

/** Pre-labels as a Function node would build them (TELUS's video_2d form). */
function makerResponse(key = 'video_2d') {
  return {
    [key]: {
      data: {
        annotations: [
          { _id: 'car-1', type: 'rectangle', label: 'Car', frames: { f1: box(0.1), f2: box(0.2), f4: box(0.4) } },
          { _id: 'car-2', type: 'rectangle', label: 'Car', frames: { f3: box(0.5) } },
        ],
      },
    },
  };
}

const REFERENCE_DATA = {
  vector: {
    images: [
      { frame_id: 'f1', data: [{ label: 'rear', image_url: 'https://h.example.com/r/f1.jpg' }] },
      { frame_id: 'f3', data: [{ label: 'rear', image_url: 'https://h.example.com/r/f3.jpg' }] },
    ],
  },
};

describe('parseJobExtras', () => {
  it('takes maker_response (video_2d or video2d), reference_data and metadata as given', () => {
    for (const key of ['video_2d', 'video2d']) {
      const source = { maker_response: makerResponse(key), reference_data: REFERENCE_DATA, metadata: { drive: 7, weather: 'rain' } };
      assert.deepEqual(parseJobExtras(source, FRAMES, 'msg'), source);
    }
  });

  it('gives nothing when none is set, and leaves out the ones set to null', () => {
    assert.deepEqual(parseJobExtras({ payload: [] }, FRAMES, 'msg'), {});
    assert.deepEqual(parseJobExtras({ maker_response: null, metadata: { a: 1 } }, FRAMES, 'msg'), { metadata: { a: 1 } });
  });

  it('refuses a pre-label on a frame the job does not have, naming the tracker and the frame', () => {
    const mr = makerResponse();
    (mr.video_2d.data.annotations[1].frames as Record<string, unknown>).f9 = box(0.1);
    assert.equal(
      refusal(() => parseJobExtras({ maker_response: mr }, FRAMES, 'msg.payload[2]')),
      'msg.payload[2].maker_response.video_2d.data.annotations[1] (tracker "car-2"): frame "f9" is not a frame of this job',
    );
  });

  it('refuses pre-labels in no known place, both places, or trackers without frames', () => {
    assert.match(
      refusal(() => parseJobExtras({ maker_response: { annotations: [] } }, FRAMES, 'msg')),
      /^msg\.maker_response must hold the pre-labelled trackers as video_2d\.data\.annotations \(or video2d\.data\.annotations\), got \{"annotations":\[\]\}$/,
    );
    assert.match(
      refusal(() => parseJobExtras({ maker_response: 'labels.json' }, FRAMES, 'msg')),
      /msg\.maker_response must hold/,
    );
    assert.match(
      refusal(() => parseJobExtras({ maker_response: { ...makerResponse(), ...makerResponse('video2d') } }, FRAMES, 'msg')),
      /holds both video_2d and video2d/,
    );
    const noFrames = { video2d: { data: { annotations: [{ _id: 'x', frames: [] }] } } };
    assert.match(
      refusal(() => parseJobExtras({ maker_response: noFrames }, FRAMES, 'msg')),
      /msg\.maker_response\.video2d\.data\.annotations\[0\] must be a tracker with frames \{frame_id: annotation\}, got/,
    );
  });

  it('refuses reference images of a frame the job does not have, and extras that are not objects', () => {
    const bad = {
      raster: {
        images: [
          { frame_id: 'f1', data: [] },
          { frame_id: 'f0', data: [] },
        ],
      },
    };
    assert.equal(
      refusal(() => parseJobExtras({ reference_data: bad }, FRAMES, 'msg')),
      'msg.reference_data.raster.images[1]: frame "f0" is not a frame of this job',
    );
    assert.match(
      refusal(() => parseJobExtras({ reference_data: { vector: { images: ['f1'] } } }, FRAMES, 'msg')),
      /msg\.reference_data\.vector\.images\[0\] must be \{frame_id, data\}, got "f1"/,
    );
    assert.match(
      refusal(() => parseJobExtras({ reference_data: [] }, FRAMES, 'msg')),
      /msg\.reference_data must be an object, got \[\]/,
    );
    assert.match(
      refusal(() => parseJobExtras({ metadata: 'drive 7' }, FRAMES, 'msg')),
      /msg\.metadata must be an object, got "drive 7"/,
    );
  });
});

describe('extrasForFrames', () => {
  it('gives a split part the pre-labels and reference images of its own frames only, metadata whole', () => {
    const extras = parseJobExtras(
      { maker_response: makerResponse(), reference_data: REFERENCE_DATA, metadata: { drive: 7 } },
      FRAMES,
      'msg',
    );
    const before = JSON.stringify(extras);
    const part = extrasForFrames(extras, FRAMES.slice(1, 3));
    assert.deepEqual(JSON.parse(JSON.stringify(part)), {
      maker_response: {
        video_2d: {
          data: {
            annotations: [
              { _id: 'car-1', type: 'rectangle', label: 'Car', frames: { f2: box(0.2) } },
              { _id: 'car-2', type: 'rectangle', label: 'Car', frames: { f3: box(0.5) } },
            ],
          },
        },
      },
      reference_data: { vector: { images: [REFERENCE_DATA.vector.images[1]] } },
      metadata: { drive: 7 },
    });
    assert.equal(JSON.stringify(extras), before, "the whole sequence's extras were changed");
  });

  it('drops a tracker with no frame in the part and keeps what else the objects hold', () => {
    const mr = {
      video2d: { data: { annotations: makerResponse().video_2d.data.annotations, version: 2 }, source: 'model-a' },
      other: true,
    };
    const part = extrasForFrames({ maker_response: mr }, [FRAMES[2]]);
    assert.deepEqual(JSON.parse(JSON.stringify(part.maker_response)), {
      video2d: {
        data: { annotations: [{ _id: 'car-2', type: 'rectangle', label: 'Car', frames: { f3: box(0.5) } }], version: 2 },
        source: 'model-a',
      },
      other: true,
    });
    assert.deepEqual(extrasForFrames({}, FRAMES), {});
  });

  it('keeps a frame named __proto__ as an ordinary frame', () => {
    const frames: Frame[] = [{ frame_id: '__proto__', src: 'https://h.example.com/d/p.jpg' }];
    const mr = JSON.parse('{"video_2d":{"data":{"annotations":[{"_id":"t","frames":{"__proto__":{"label":"Car"}}}]}}}') as Record<
      string,
      unknown
    >;
    const part = extrasForFrames(parseJobExtras({ maker_response: mr }, frames, 'msg'), frames);
    assert.equal(JSON.stringify(part.maker_response), JSON.stringify(mr));
  });
});

describe('preLabelTrackers', () => {
  it('finds the trackers under either key, and nothing elsewhere', () => {
    assert.equal(preLabelTrackers(makerResponse('video2d'))?.length, 2);
    assert.equal(preLabelTrackers({ video_2d: { annotations: [] } }), undefined);
    assert.equal(preLabelTrackers(undefined), undefined);
  });
});

describe('extra job data at its edges', () => {
  it('names the tracker of a bad pre-label only when the tracker has an id', () => {
    const mr = { video_2d: { data: { annotations: [{ label: 'Car', frames: { f9: box(0.1) } }] } } };
    assert.equal(
      refusal(() => parseJobExtras({ maker_response: mr }, FRAMES, 'msg')),
      'msg.maker_response.video_2d.data.annotations[0]: frame "f9" is not a frame of this job',
    );
  });

  it('keeps what else reference_data holds in a split part', () => {
    const referenceData = { ...REFERENCE_DATA, source: 'rear-camera', raster: { images: [], encoding: 'png' } };
    const part = extrasForFrames({ reference_data: referenceData }, [FRAMES[0]]);
    assert.deepEqual(part.reference_data, {
      vector: { images: [REFERENCE_DATA.vector.images[0]] },
      source: 'rear-camera',
      raster: { images: [], encoding: 'png' },
    });
  });
});
