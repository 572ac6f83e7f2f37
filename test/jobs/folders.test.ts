/** Frames from storage: listings to URLs, URLs grouped into one sequence per folder. */
import assert from 'node:assert/strict';
import type { PlaymentError } from '../../src/api/errors';
import { gcsListingToUrls, groupFramesByFolder, localPathsToUrls, s3ListingToUrls } from '../../src/jobs/folders';
import { planJobs } from '../../src/jobs/plan';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.equal((err as PlaymentError).code, 'INVALID_INPUT');
    return (err as PlaymentError).message;
  }
  throw new Error('expected an INVALID_INPUT error');
}

/** What `aws s3api list-objects-v2 --bucket cam-data --prefix drives/` prints. */
const S3_LISTING = {
  Contents: [
    { Key: 'drives/', Size: 0 },
    { Key: 'drives/d1/frame_10.jpg', Size: 1 },
    { Key: 'drives/d1/frame_9.jpg', Size: 1 },
    { Key: 'drives/d1/notes.txt', Size: 1 },
    { Key: 'drives/d0/Frame_1.PNG', Size: 1 },
    { Key: 'drives/d1/frame_1.jpeg', Size: 1 },
  ],
  RequestCharged: null,
  Name: 'cam-data',
  Prefix: 'drives/',
  KeyCount: 6,
  MaxKeys: 1000,
};

describe('groupFramesByFolder', () => {
  it('makes one sequence per folder, images only, files in natural order, folders by URL', () => {
    const { sequences, skipped } = groupFramesByFolder(s3ListingToUrls(S3_LISTING));
    assert.deepEqual(sequences, [
      { reference_id: 's3://cam-data/drives/d0', frames: ['s3://cam-data/drives/d0/Frame_1.PNG'] },
      {
        reference_id: 's3://cam-data/drives/d1',
        frames: ['s3://cam-data/drives/d1/frame_1.jpeg', 's3://cam-data/drives/d1/frame_9.jpg', 's3://cam-data/drives/d1/frame_10.jpg'],
      },
    ]);
    assert.deepEqual(skipped, ['s3://cam-data/drives/', 's3://cam-data/drives/d1/notes.txt']);
  });

  it('takes every listed image extension in any case, and nothing else', () => {
    const names = [
      'a.jpg',
      'b.JPEG',
      'c.png',
      'd.bmp',
      'e.webp',
      'f.tif',
      'g.TIFF',
      'h.gif',
      'i.mp4',
      'j.json',
      'jpg',
      '.png',
      'k.jpg.txt',
    ];
    const { sequences, skipped } = groupFramesByFolder(names.map((n) => `https://h.example.com/x/${n}`));
    assert.deepEqual(
      sequences[0].frames.map((f) => String(f).split('/').pop()),
      ['a.jpg', 'b.JPEG', 'c.png', 'd.bmp', 'e.webp', 'f.tif', 'g.TIFF'],
    );
    assert.deepEqual(
      skipped.map((s) => s.split('/').pop()),
      ['h.gif', 'i.mp4', 'j.json', 'jpg', '.png', 'k.jpg.txt'],
    );
  });

  it('reads the folder and file name before a query or fragment, and keeps the entries as given', () => {
    const signed = 'https://b.s3.amazonaws.com/d/f_2.jpg?X-Amz-Signature=abc/def.png';
    const withId = { frame_id: 'one', src: 'https://b.s3.amazonaws.com/d/f_1.jpg#x' };
    const { sequences } = groupFramesByFolder([signed, withId, 'https://b.s3.amazonaws.com/d/readme.md?v=1.jpg']);
    assert.deepEqual(sequences, [{ reference_id: 'https://b.s3.amazonaws.com/d', frames: [withId, signed] }]);
  });

  it('gives the host as the folder of a file at the root, and refuses a file in no folder', () => {
    assert.equal(groupFramesByFolder(['gs://bucket/1.jpg']).sequences[0].reference_id, 'gs://bucket');
    assert.match(
      refusal(() => groupFramesByFolder(['frame.jpg'])),
      /msg\.payload frame 0: "frame\.jpg" is not in a folder/,
    );
    assert.match(
      refusal(() => groupFramesByFolder(['https://a.jpg'], 'listing')),
      /listing frame 0: "https:\/\/a\.jpg" is not in a folder/,
    );
  });

  it('refuses what is not a list of URLs, naming the entry', () => {
    assert.match(
      refusal(() => groupFramesByFolder({ frames: [] })),
      /msg\.payload must be an array of frame URLs to group by folder, got \{"frames":\[\]\}/,
    );
    assert.match(
      refusal(() => groupFramesByFolder(['s3://b/d/1.jpg', 7])),
      /msg\.payload frame 1 must be a URL string or \{frame_id, src\} with a URL, got 7/,
    );
    assert.match(
      refusal(() => groupFramesByFolder([{ src: ' ' }])),
      /frame 0 must be a URL string/,
    );
  });

  it('gives a bulk payload the submit node plans as one job per folder, the folder as reference id', () => {
    const { sequences } = groupFramesByFolder(s3ListingToUrls(S3_LISTING));
    const jobs = planJobs(sequences, { tag: 't' }, {}, { projectId: 'p', frameOrder: 'given', maxFramesPerJob: 2, overlap: 0 });
    assert.deepEqual(
      jobs.map((j) => [j.body.reference_id, j.body.data.video_data.frames.map((f) => f.frame_id)]),
      [
        ['s3://cam-data/drives/d0', ['Frame_1.PNG']],
        ['s3://cam-data/drives/d1-part-1', ['frame_1.jpeg', 'frame_9.jpg']],
        ['s3://cam-data/drives/d1-part-2', ['frame_10.jpg']],
      ],
    );
  });
});

describe('s3ListingToUrls', () => {
  it('builds s3://bucket/key URLs in listing order, percent-encoding each key segment', () => {
    const urls = s3ListingToUrls({ Name: 'b', Contents: [{ Key: 'a b/c#1.jpg' }, { Key: 'x/y.png' }] });
    assert.deepEqual(urls, ['s3://b/a%20b/c%231.jpg', 's3://b/x/y.png']);
  });

  it('reads an array of pages, and an answer without Contents as empty', () => {
    const pages = [
      { Name: 'b', Contents: [{ Key: 'd/1.jpg' }], IsTruncated: true, NextContinuationToken: 't' },
      { Name: 'b', Contents: [{ Key: 'd/2.jpg' }], IsTruncated: false },
    ];
    assert.deepEqual(s3ListingToUrls(pages), ['s3://b/d/1.jpg', 's3://b/d/2.jpg']);
    assert.deepEqual(s3ListingToUrls({ Name: 'b', KeyCount: 0 }), []);
  });

  it('refuses a truncated listing: a folder cut between pages would become a partial job', () => {
    assert.match(
      refusal(() => s3ListingToUrls({ Name: 'b', Contents: [{ Key: 'd/1.jpg' }], IsTruncated: true })),
      /one page of a longer S3 listing \(IsTruncated is true\)/,
    );
  });

  it('refuses a listing without a bucket or with a bad entry, naming where', () => {
    assert.match(
      refusal(() => s3ListingToUrls({ Contents: [{ Key: 'a.jpg' }] })),
      /msg\.payload\.Name \(the bucket\) must be a non-empty string, got undefined/,
    );
    assert.match(
      refusal(() => s3ListingToUrls([{ Name: 'b' }, { Name: 'b', Contents: [{ Size: 3 }] }])),
      /msg\.payload\[1\]\.Contents\[0\]\.Key must be a non-empty string, got \{"Size":3\}/,
    );
    assert.match(
      refusal(() => s3ListingToUrls({ Name: 'b', Contents: 'd/1.jpg' })),
      /msg\.payload\.Contents must be an array/,
    );
    assert.match(
      refusal(() => s3ListingToUrls('s3://b/d/1.jpg')),
      /msg\.payload must be a listing object with Contents/,
    );
  });
});

describe('gcsListingToUrls', () => {
  /** What the JSON API's objects.list answers (an HTTP request node to storage.googleapis.com). */
  const GCS_LISTING = {
    kind: 'storage#objects',
    items: [
      { kind: 'storage#object', name: 'runs/r2/0002.jpg', bucket: 'gcs-cams', size: '10' },
      { kind: 'storage#object', name: 'runs/r2/0001.jpg', bucket: 'gcs-cams', size: '10' },
      { kind: 'storage#object', name: 'runs/r1/cal.yaml', bucket: 'gcs-cams', size: '10' },
    ],
  };

  it('builds gs://bucket/name URLs that group into one sequence per folder', () => {
    const urls = gcsListingToUrls(GCS_LISTING);
    assert.deepEqual(urls, ['gs://gcs-cams/runs/r2/0002.jpg', 'gs://gcs-cams/runs/r2/0001.jpg', 'gs://gcs-cams/runs/r1/cal.yaml']);
    assert.deepEqual(groupFramesByFolder(urls), {
      sequences: [{ reference_id: 'gs://gcs-cams/runs/r2', frames: ['gs://gcs-cams/runs/r2/0001.jpg', 'gs://gcs-cams/runs/r2/0002.jpg'] }],
      skipped: ['gs://gcs-cams/runs/r1/cal.yaml'],
    });
  });

  it('reads pages, an array of object entries, and a listing without items', () => {
    assert.deepEqual(gcsListingToUrls([{ items: [GCS_LISTING.items[0]], nextPageToken: 'n' }, { items: [GCS_LISTING.items[1]] }]), [
      'gs://gcs-cams/runs/r2/0002.jpg',
      'gs://gcs-cams/runs/r2/0001.jpg',
    ]);
    assert.deepEqual(gcsListingToUrls(GCS_LISTING.items.slice(0, 1)), ['gs://gcs-cams/runs/r2/0002.jpg']);
    assert.deepEqual(gcsListingToUrls({ kind: 'storage#objects' }), []);
  });

  it('refuses an object entry mixed in with listing pages instead of reading it as an empty page', () => {
    assert.equal(
      refusal(() => gcsListingToUrls([{ name: 'a/1.jpg', bucket: 'b' }, { items: [GCS_LISTING.items[0]] }])),
      'msg.payload[0] is an object entry ({name, bucket}) among listing pages: give listing pages or object entries, not both',
    );
    // An empty page among pages is still an empty page.
    assert.deepEqual(gcsListingToUrls([{ kind: 'storage#objects' }, { items: [GCS_LISTING.items[0]] }]), [
      'gs://gcs-cams/runs/r2/0002.jpg',
    ]);
  });

  it('refuses one page of a longer listing and entries without name or bucket', () => {
    assert.match(
      refusal(() => gcsListingToUrls({ ...GCS_LISTING, nextPageToken: 'abc' })),
      /one page of a longer GCS listing/,
    );
    assert.match(
      refusal(() => gcsListingToUrls({ items: [{ name: 'a/1.jpg' }] })),
      /msg\.payload\.items\[0\] must have a non-empty name and bucket, got \{"name":"a\/1\.jpg"\}/,
    );
    assert.match(
      refusal(() => gcsListingToUrls([{ bucket: 'b' }])),
      /msg\.payload\[0\] must have a non-empty name and bucket/,
    );
  });
});

describe('localPathsToUrls', () => {
  it('maps paths under the served folder to URLs, from lines of text or an array', () => {
    const text = '/srv/frames/drive 1/f_2.jpg\r\n/srv/frames/drive 1/f_10.jpg\n\n';
    assert.deepEqual(localPathsToUrls(text, '/srv/frames/', 'https://frames.example.com/'), [
      'https://frames.example.com/drive%201/f_2.jpg',
      'https://frames.example.com/drive%201/f_10.jpg',
    ]);
    assert.deepEqual(localPathsToUrls(['C:\\data\\d\\1.png'], 'C:\\data', 'https://h.example.com/frames'), [
      'https://h.example.com/frames/d/1.png',
    ]);
  });

  it('refuses a path outside the served folder, naming it', () => {
    assert.match(
      refusal(() => localPathsToUrls(['/srv/frames/a.jpg', '/srv/framesX/b.jpg'], '/srv/frames', 'https://h')),
      /msg\.payload\[1\]: "\/srv\/framesX\/b\.jpg" is not under the served folder "\/srv\/frames"/,
    );
    assert.match(
      refusal(() => localPathsToUrls(42, '/srv', 'https://h')),
      /must be file paths/,
    );
    assert.match(
      refusal(() => localPathsToUrls([null], '/srv', 'https://h')),
      /msg\.payload\[0\] must be a file path, got null/,
    );
  });
});

describe('folders at their edges', () => {
  it('takes a folder whose name ends in a colon, and refuses a file right under a bare scheme', () => {
    assert.equal(groupFramesByFolder(['s3://b/cam:/1.jpg']).sequences[0].reference_id, 's3://b/cam:');
    assert.match(
      refusal(() => groupFramesByFolder(['https:/1.jpg'])),
      /"https:\/1\.jpg" is not in a folder/,
    );
  });

  it('refuses an empty bucket or key, and a page of several that is not a listing, naming where', () => {
    assert.match(
      refusal(() => s3ListingToUrls({ Name: '', Contents: [{ Key: 'd/1.jpg' }] })),
      /msg\.payload\.Name \(the bucket\) must be a non-empty string, got ""/,
    );
    assert.match(
      refusal(() => s3ListingToUrls({ Name: 'b', Contents: [{ Key: '' }] })),
      /msg\.payload\.Contents\[0\]\.Key must be a non-empty string/,
    );
    assert.match(
      refusal(() => s3ListingToUrls([{ Name: 'b' }, 'next page'])),
      /^msg\.payload\[1\] must be a listing object with Contents, got "next page"$/,
    );
  });

  it('refuses GCS entries with an empty name or bucket, and names the page of a bad entry', () => {
    for (const item of [
      { name: '', bucket: 'b' },
      { name: 'd/1.jpg', bucket: '' },
    ]) {
      assert.match(
        refusal(() => gcsListingToUrls({ items: [item] })),
        /msg\.payload\.items\[0\] must have a non-empty name and bucket/,
      );
    }
    assert.match(
      refusal(() => gcsListingToUrls([{ items: [{ name: 'd/1.jpg', bucket: 'b' }] }, { items: [{ name: 'd/2.jpg' }] }])),
      /^msg\.payload\[1\]\.items\[0\] must have/,
    );
    assert.match(
      refusal(() => gcsListingToUrls('gs://b/d/1.jpg')),
      /^msg\.payload must be a listing object with items, got "gs:\/\/b\/d\/1\.jpg"$/,
    );
  });

  it('reads a last GCS page whose nextPageToken is empty as the end of the listing', () => {
    assert.deepEqual(gcsListingToUrls({ items: [{ name: 'd/1.jpg', bucket: 'b' }], nextPageToken: '' }), ['gs://b/d/1.jpg']);
  });

  it('reads text with one path per line on plain new lines, trims each, and drops extra trailing slashes', () => {
    const text = '  /srv/frames/a/1.jpg  \n/srv/frames/a/2.jpg\n   \n';
    assert.deepEqual(localPathsToUrls(text, '/srv/frames//', 'https://h.example.com//'), [
      'https://h.example.com/a/1.jpg',
      'https://h.example.com/a/2.jpg',
    ]);
  });
});
