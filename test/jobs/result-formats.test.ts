/** Result files in forms ready for training: frame map, rows, YOLO text with skipped shapes listed. */
import assert from 'node:assert/strict';
import type { PlaymentError } from '../../src/api/errors';
import {
  annotationRows,
  frameMap,
  labelListSchema,
  readResult,
  resultPayload,
  labelFileNames,
  yoloEntries,
  type ResultContent,
} from '../../src/jobs/result-formats';
import { buildVideoResult } from '../../src/sandbox/synthetic-result';

const JOB = { job_id: 'job-1', reference_id: 'drive-07' };

const corners = (l: number, t: number, r: number, b: number) => [
  { x: l, y: t },
  { x: r, y: t },
  { x: r, y: b },
  { x: l, y: b },
];

/** A result file with every kind of shape the API reference names (section 5). */
const FILE = {
  data: {
    annotation_data: {
      annotations: [
        {
          _id: 'car-1',
          type: 'rectangle',
          label: 'Car',
          frames: {
            f1: {
              _id: 'a',
              label: 'Car',
              attributes: { occluded: { value: true, state: 'editable' }, colour: 'red' },
              coordinates: corners(0.1, 0.2, 0.3, 0.6),
            },
            f2: { _id: 'b', label: 'Truck', attributes: {}, coordinates: corners(0.5, 0.5, 1, 1) },
          },
        },
        {
          _id: 'lane-1',
          type: 'polygon',
          label: 'Lane',
          frames: {
            f1: {
              label: 'Lane',
              points: { p10: { x: 0.9, y: 0.9 }, p2: { x: 0.5, y: 0.5 }, p1: { x: 0.1, y: 0.1 } },
              edges: { e1: ['p1', 'p2'] },
            },
          },
        },
        {
          _id: 'ped-1',
          type: 'rectangle',
          label: 'Pedestrian',
          frames: { f3: { label: 'Pedestrian', coordinates: corners(0.2, 0.2, 0.4, 0.4) } },
        },
        { _id: 'px-1', type: 'rectangle', label: 'Car', frames: { f3: { label: 'Car', coordinates: corners(10, 20, 110, 220) } } },
        { _id: 'odd', type: 'rectangle', label: 'Car', frames: { f9: { label: 'Car', coordinates: [] } } },
      ],
    },
    video_data: {
      frames: [
        { frame_id: 'f1', src: 'https://h.example.com/d/f1.jpg' },
        { frame_id: 'f2', src: 'https://h.example.com/d/f2.jpg' },
        { frame_id: 'f3', src: 'https://h.example.com/d/f3.jpg' },
        { frame_id: 'f4', src: 'https://h.example.com/d/f4.jpg' },
      ],
    },
  },
};

function content(file: unknown = FILE): ResultContent {
  const read = readResult(file);
  assert.ok(read, 'the file was not read');
  return read;
}

describe('readResult and frameMap', () => {
  it('maps each frame id to its src, in file order, frames only trackers name last with no src', () => {
    const map = frameMap(content());
    assert.deepEqual(Object.entries(map), [
      ['f1', 'https://h.example.com/d/f1.jpg'],
      ['f2', 'https://h.example.com/d/f2.jpg'],
      ['f3', 'https://h.example.com/d/f3.jpg'],
      ['f4', 'https://h.example.com/d/f4.jpg'],
      ['f9', null],
    ]);
  });

  it('reads a file without video_data, and says undefined for a file with no trackers', () => {
    assert.deepEqual(content({ data: { annotations_data: { annotations: [{ frames: { x: {} } }] } } }).frames, [
      { frame_id: 'x', src: null },
    ]);
    assert.equal(readResult({ data: {} }), undefined);
    assert.equal(readResult('not a file'), undefined);
  });

  it('keeps a frame named __proto__ as an ordinary key of a plain object', () => {
    const map = frameMap(
      content({ data: { annotation_data: { annotations: [] }, video_data: { frames: [{ frame_id: '__proto__', src: 's3://b/p.jpg' }] } } }),
    );
    assert.deepEqual(Object.keys(map), ['__proto__']);
    assert.equal(Object.getOwnPropertyDescriptor(map, '__proto__')?.value, 's3://b/p.jpg');
    // A Function node may call the object's methods.
    assert.equal(Object.getPrototypeOf(map), Object.prototype);
    // eslint-disable-next-line no-prototype-builtins -- the call a Function node would make
    assert.equal(map.hasOwnProperty('__proto__'), true);
    assert.equal(JSON.stringify(map), '{"__proto__":"s3://b/p.jpg"}');
  });
});

describe('annotationRows', () => {
  it('gives one row per tracker per frame, frame by frame, with points in order and attribute values', () => {
    const rows = annotationRows(content(), JOB);
    assert.deepEqual(
      rows.map((r) => [r.frame_id, r.tracker_id, r.label, r.type]),
      [
        ['f1', 'car-1', 'Car', 'rectangle'],
        ['f1', 'lane-1', 'Lane', 'polygon'],
        ['f2', 'car-1', 'Truck', 'rectangle'],
        ['f3', 'ped-1', 'Pedestrian', 'rectangle'],
        ['f3', 'px-1', 'Car', 'rectangle'],
        ['f9', 'odd', 'Car', 'rectangle'],
      ],
    );
    assert.deepEqual(rows[0], {
      job_id: 'job-1',
      reference_id: 'drive-07',
      frame_id: 'f1',
      src: 'https://h.example.com/d/f1.jpg',
      tracker_id: 'car-1',
      label: 'Car',
      type: 'rectangle',
      coordinates: corners(0.1, 0.2, 0.3, 0.6),
      attributes: { occluded: true, colour: 'red' },
    });
    assert.deepEqual(rows[1].coordinates, [
      { x: 0.1, y: 0.1 },
      { x: 0.5, y: 0.5 },
      { x: 0.9, y: 0.9 },
    ]);
    assert.equal(rows[5].src, null);
  });

  it('keeps an attribute named __proto__ as an ordinary key', () => {
    const file = JSON.parse(
      '{"data":{"annotation_data":{"annotations":[{"type":"rectangle","label":"Car","frames":{"f":{"attributes":{"__proto__":{"value":"odd"}}}}}]}}}',
    );
    const { attributes } = annotationRows(content(file), JOB)[0];
    assert.deepEqual(Object.keys(attributes), ['__proto__']);
    assert.equal(Object.getPrototypeOf(attributes), Object.prototype);
    assert.equal(JSON.stringify(attributes), '{"__proto__":"odd"}');
  });

  it('gives null coordinates for a shape whose points are not {x, y} numbers', () => {
    const file = {
      data: { annotation_data: { annotations: [{ type: 'cuboid', label: 'Box', frames: { f: { coordinates: [{ x: '1', y: 2 }] } } }] } },
    };
    assert.deepEqual(annotationRows(content(file), JOB)[0], {
      ...JOB,
      frame_id: 'f',
      src: null,
      tracker_id: null,
      label: 'Box',
      type: 'cuboid',
      coordinates: null,
      attributes: {},
    });
  });
});

describe('yoloEntries', () => {
  it('writes class cx cy w h lines per frame from normalised corners, every frame listed', () => {
    const { entries } = yoloEntries(content(), ['Pedestrian', 'Car', 'Truck']);
    assert.deepEqual(entries, [
      { frame_id: 'f1', src: 'https://h.example.com/d/f1.jpg', file: 'f1.txt', text: '1 0.200000 0.400000 0.200000 0.400000\n' },
      { frame_id: 'f2', src: 'https://h.example.com/d/f2.jpg', file: 'f2.txt', text: '2 0.750000 0.750000 0.500000 0.500000\n' },
      { frame_id: 'f3', src: 'https://h.example.com/d/f3.jpg', file: 'f3.txt', text: '0 0.300000 0.300000 0.200000 0.200000\n' },
      { frame_id: 'f4', src: 'https://h.example.com/d/f4.jpg', file: 'f4.txt', text: '' },
      { frame_id: 'f9', src: null, file: 'f9.txt', text: '' },
    ]);
  });

  it('names one label file per frame: none written over another or over classes.txt', () => {
    assert.deepEqual(
      labelFileNames(['a.jpg', 'a.png', 'A.jpg', 'a-2.jpg', 'classes.jpg', 'cam 1/f?.jpg', 'x.tar.gz', '.jpg', 'noext', 'dir.v2/f']),
      ['a.txt', 'a-2.txt', 'A-3.txt', 'a-2-2.txt', 'classes-2.txt', 'cam_1_f_.txt', 'x.tar.txt', 'frame.txt', 'noext.txt', 'dir.v2_f.txt'],
    );
    assert.equal(labelFileNames(['x'.repeat(300) + '.jpg'])[0], 'x'.repeat(200) + '.txt');
    assert.deepEqual(labelFileNames(['NUL.jpg', 'con.tar.gz', 'com1', 'console.jpg', 'dir.v2\\f.jpg']), [
      'NUL_.txt',
      'con_.tar.txt',
      'com1_.txt',
      'console.txt',
      'dir.v2_f.txt',
    ]);
  });

  it('lists every shape it cannot write, with the reason', () => {
    const { skipped } = yoloEntries(content(), ['Car']);
    assert.deepEqual(skipped, [
      { frame_id: 'f1', tracker_id: 'lane-1', label: 'Lane', type: 'polygon', reason: 'a "polygon" has no YOLO box; only rectangles do' },
      { frame_id: 'f2', tracker_id: 'car-1', label: 'Truck', type: 'rectangle', reason: 'label "Truck" is not in the label list' },
      {
        frame_id: 'f3',
        tracker_id: 'ped-1',
        label: 'Pedestrian',
        type: 'rectangle',
        reason: 'label "Pedestrian" is not in the label list',
      },
      { frame_id: 'f3', tracker_id: 'px-1', label: 'Car', type: 'rectangle', reason: 'the corner points are not normalised to 0..1' },
      { frame_id: 'f9', tracker_id: 'odd', label: 'Car', type: 'rectangle', reason: 'the rectangle has no corner points' },
    ]);
  });

  it('writes several boxes of one frame on separate lines, and reads a sandbox result whole', () => {
    const frames = [1, 2, 3].map((i) => ({ frame_id: `frame_${i}`, src: `https://h.example.com/d/frame_${i}.jpg` }));
    const file = JSON.parse(JSON.stringify(buildVideoResult('job-with-two-cars', frames))) as unknown;
    const read = content(file);
    const { entries, skipped } = yoloEntries(read, ['Car']);
    assert.deepEqual(skipped, []);
    // This job id gets two cars on every frame.
    assert.deepEqual(
      entries.map((e) => e.text.split('\n').length - 1),
      [2, 2, 2],
    );
    assert.equal(annotationRows(read, JOB).length, 6);
    for (const e of entries)
      for (const line of e.text.trimEnd().split('\n').filter(Boolean))
        assert.match(line, /^0 (0\.\d{6}|1\.000000) (0\.\d{6}|1\.000000) 0\.\d{6} 0\.\d{6}$/);
  });

  it('refuses an empty label list or one naming a label twice', () => {
    for (const [labels, text] of [
      [[], /needs the label list/],
      [['Car', 'Bus', 'Car'], /names "Car" twice/],
    ] as const) {
      try {
        yoloEntries(content(), labels);
        assert.fail('expected a refusal');
      } catch (err) {
        assert.equal((err as PlaymentError).code, 'INVALID_INPUT');
        assert.match((err as PlaymentError).message, text);
      }
    }
  });
});

describe('labelListSchema', () => {
  const parse = (v: unknown) => labelListSchema.safeParse(v);
  const problem = (v: unknown) => {
    const res = parse(v);
    assert.equal(res.success, false, `${JSON.stringify(v)} was taken`);
    return res.error!.issues[0].message;
  };

  it('splits the node text on commas and new lines, trims each label and drops empty ones', () => {
    assert.deepEqual(parse(' Car, Pedestrian ,\nTruck\r\n\n Traffic light ,').data, ['Car', 'Pedestrian', 'Truck', 'Traffic light']);
  });

  it('takes msg.labels as an array of strings, trimmed, so a label may hold a comma', () => {
    assert.deepEqual(parse(['Car', ' Bus, articulated ']).data, ['Car', 'Bus, articulated']);
  });

  it('refuses a blank list, saying where to set it', () => {
    for (const blank of [undefined, null, '', ' , \n', []]) {
      assert.match(
        problem(blank),
        /^the YOLO format needs the label list \(each label's place in it is its class number\): set Labels in the node \(separated by commas or new lines\) or send msg\.labels as an array of strings/,
      );
    }
  });

  it('refuses an item that is not a label, a list that is neither text nor array, and duplicates', () => {
    assert.equal(problem(['Car', 7]), 'msg.labels[1] must be a label (a string that is not blank); got 7');
    assert.equal(problem(['Car', ' ']), 'msg.labels[1] must be a label (a string that is not blank); got " "');
    assert.match(problem({ Car: 0 }), /^the label list must be text or an array of strings: set Labels/);
    assert.equal(problem('Car, Bus, Car'), 'the label list names "Car" twice: each label needs one class number');
    assert.equal(problem(['Car', ' Car']), 'the label list names "Car" twice: each label needs one class number');
  });
});

describe('resultPayload', () => {
  const frames = {
    f1: 'https://h.example.com/d/f1.jpg',
    f2: 'https://h.example.com/d/f2.jpg',
    f3: 'https://h.example.com/d/f3.jpg',
    f4: 'https://h.example.com/d/f4.jpg',
    f9: null,
  };

  it("trackers: the frame map and the file's trackers", () => {
    const out = resultPayload(content(), 'trackers', JOB);
    assert.deepEqual(Object.keys(out), ['frames', 'annotations']);
    assert.deepEqual(out.frames, frames);
    assert.deepEqual(out.annotations, FILE.data.annotation_data.annotations);
  });

  it('rows: the frame map and the rows', () => {
    const out = resultPayload(content(), 'rows', JOB);
    assert.deepEqual(Object.keys(out), ['frames', 'rows']);
    assert.deepEqual(out.rows, annotationRows(content(), JOB));
  });

  it('yolo: the frame map, the entries, the skipped shapes and the label list', () => {
    const out = resultPayload(content(), 'yolo', JOB, ['Car']);
    assert.deepEqual(Object.keys(out), ['frames', 'yolo', 'skipped', 'labels']);
    const { entries, skipped } = yoloEntries(content(), ['Car']);
    assert.deepEqual(out.yolo, entries);
    assert.deepEqual(out.skipped, skipped);
    assert.deepEqual(out.labels, ['Car']);
  });
});

describe('result formats at their edges', () => {
  /** One rectangle tracker on frame f1 with these corner points (and optional tracker fields). */
  const oneShape = (coordinates: unknown[], tracker: Record<string, unknown> = { type: 'rectangle', label: 'Car' }) =>
    content({ data: { annotation_data: { annotations: [{ _id: 't', ...tracker, frames: { f1: { coordinates } } }] } } });

  it('writes a box touching the image edges, and skips one past any edge, naming why', () => {
    const reason = 'the corner points are not normalised to 0..1';
    assert.equal(yoloEntries(oneShape(corners(0, 0, 1, 1)), ['Car']).entries[0].text, '0 0.500000 0.500000 1.000000 1.000000\n');
    for (const box of [
      corners(-0.1, 0.2, 0.3, 0.4),
      corners(0.1, -0.2, 0.3, 0.4),
      corners(0.1, 0.2, 1.3, 0.4),
      corners(0.1, 0.2, 0.3, 1.4),
    ]) {
      const { entries, skipped } = yoloEntries(oneShape(box), ['Car']);
      assert.equal(entries[0].text, '', JSON.stringify(box));
      assert.deepEqual(
        skipped.map((s) => s.reason),
        [reason],
      );
    }
  });

  it('takes two opposite corners as a rectangle, one point as none', () => {
    const two = [
      { x: 0.1, y: 0.2 },
      { x: 0.3, y: 0.6 },
    ];
    assert.equal(yoloEntries(oneShape(two), ['Car']).entries[0].text, '0 0.200000 0.400000 0.200000 0.400000\n');
    assert.deepEqual(
      yoloEntries(oneShape([{ x: 0.1, y: 0.2 }]), ['Car']).skipped.map((s) => s.reason),
      ['the rectangle has no corner points'],
    );
  });

  it('gives null coordinates when any point is not {x, y} numbers, also when others are', () => {
    const rows = annotationRows(
      oneShape([
        { x: 0.1, y: 0.2 },
        { x: '0.3', y: 0.6 },
      ]),
      JOB,
    );
    assert.equal(rows[0].coordinates, null);
  });

  it('gives an empty label and type for a shape neither its tracker nor its annotation names', () => {
    const read = oneShape(corners(0.1, 0.1, 0.2, 0.2), {});
    assert.deepEqual(
      annotationRows(read, JOB).map((r) => [r.label, r.type]),
      [['', '']],
    );
    assert.deepEqual(
      yoloEntries(read, ['Car']).skipped.map((s) => s.reason),
      ['a shape without a type has no YOLO box; only rectangles do'],
    );
  });

  it('skips frame entries that are not objects, lack a text frame_id or repeat one', () => {
    const read = content({
      data: {
        annotation_data: { annotations: [] },
        video_data: {
          frames: ['f0', { src: 'https://h/x.jpg' }, { frame_id: 7 }, { frame_id: 'f1', src: 'a' }, { frame_id: 'f1', src: 'b' }],
        },
      },
    });
    assert.deepEqual(read.frames, [{ frame_id: 'f1', src: 'a' }]);
  });

  it('gives maps and rows a Function node can change: keys writable and deletable', () => {
    const map = frameMap(content());
    map.f1 = 'https://elsewhere.example.com/f1.jpg';
    delete map.f2;
    assert.equal(map.f1, 'https://elsewhere.example.com/f1.jpg');
    assert.equal('f2' in map, false);
    const [row] = annotationRows(content(), JOB);
    row.attributes.colour = 'blue';
    delete row.attributes.occluded;
    assert.deepEqual(row.attributes, { colour: 'blue' });
  });

  it('refuses the yolo format without a label list', () => {
    assert.throws(() => resultPayload(content(), 'yolo', JOB), /the YOLO format needs the label list/);
  });
});
