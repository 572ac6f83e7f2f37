import assert from 'node:assert/strict';
import { ReferenceMap } from '../../src/api/reference-map';
import type { BatchJobsPage } from '../../src/api/schemas';

/** A fake batch listing, 100 jobs a page, that counts the pages read. */
function listing(jobsOf: Map<string, string[]>) {
  const reads: string[] = [];
  let gate: Promise<void> = Promise.resolve();
  const reader = async (batchId: string, token: string | undefined): Promise<BatchJobsPage> => {
    reads.push(`${batchId}:${token ?? 0}`);
    await gate;
    const refs = jobsOf.get(batchId) ?? [];
    const start = Number(token ?? 0);
    const end = Math.min(start + 100, refs.length);
    const jobs = refs.slice(start, end).map((ref) => ({ id: `job-${ref}`, reference_id: ref }));
    return { id: batchId, jobs, next_page_token: end < refs.length ? String(end) : '' } as BatchJobsPage;
  };
  return {
    reader,
    reads,
    hold() {
      let open!: () => void;
      gate = new Promise((r) => (open = r));
      return () => {
        gate = Promise.resolve();
        open();
      };
    },
  };
}

const refs = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('reference map: job ids by reference id from batch listings', () => {
  it('lookups of one batch share one listing read, and later ones need none', async () => {
    const batches = new Map([['b1', refs('r', 1000)]]);
    const fake = listing(batches);
    const map = new ReferenceMap(fake.reader);
    const found = await Promise.all(
      refs('r', 1000)
        .reverse()
        .map((ref) => map.find('b1', ref)),
    );
    assert.deepEqual(
      found,
      refs('r', 1000)
        .reverse()
        .map((ref) => `job-${ref}`),
    );
    assert.equal(fake.reads.length, 10, 'one read: 10 pages');
    assert.equal(await map.find('b1', 'r5'), 'job-r5');
    assert.equal(fake.reads.length, 10);
  });

  it('a job stored after a read started is found by one more read; one missing after it is not found', async () => {
    const batches = new Map([['b1', refs('r', 150)]]);
    const fake = listing(batches);
    const map = new ReferenceMap(fake.reader);
    const open = fake.hold();
    const first = map.find('b1', 'r3');
    // While the first read waits on its first page, two jobs are added and two lookups made.
    batches.get('b1')!.push('late-1');
    const late = map.find('b1', 'late-1');
    const missing = map.find('b1', 'nowhere');
    open();
    assert.equal(await first, 'job-r3');
    assert.equal(await late, 'job-late-1');
    assert.equal(await missing, undefined);
    // The lookups made during read 1 share read 2; nothing waits after it.
    const pages = fake.reads.filter((r) => r === 'b1:0').length;
    assert.ok(pages <= 2, `${pages} reads`);
  });

  it('"not found" only from a read that started after the lookup: a job stored while a read runs is found by the next', async () => {
    const batches = new Map([['b1', refs('r', 150)]]);
    const fake = listing(batches);
    let served = 0;
    // The job is stored just after the running read passed its page.
    const reader = async (batchId: string, token: string | undefined) => {
      const page = await fake.reader(batchId, token);
      if (token === '100' && ++served === 1) batches.get('b1')!.push('later');
      return page;
    };
    const map = new ReferenceMap(reader);
    const open = fake.hold();
    const first = map.find('b1', 'r3');
    const later = map.find('b1', 'later');
    open();
    assert.equal(await first, 'job-r3');
    assert.equal(await later, 'job-later');
    assert.deepEqual(fake.reads, ['b1:0', 'b1:100', 'b1:0', 'b1:100']);
  });

  it('keeps at most maxEntries reference ids, dropping the least recently used batch first', async () => {
    const batches = new Map([
      ['old', refs('o', 300)],
      ['new', refs('n', 300)],
    ]);
    const fake = listing(batches);
    const map = new ReferenceMap(fake.reader, { maxEntries: 400, maxPages: 1000, maxBatches: 10 });
    assert.equal(await map.find('old', 'o299'), 'job-o299');
    assert.equal(await map.find('new', 'n299'), 'job-n299');
    assert.equal(map.size, 400);
    const before = fake.reads.length;
    assert.equal(await map.find('new', 'n0'), 'job-n0', 'the recently used batch kept whole');
    assert.equal(await map.find('old', 'o299'), 'job-o299', "the other batch's newest entries kept");
    assert.equal(fake.reads.length, before);
    assert.equal(await map.find('old', 'o0'), 'job-o0', 'a dropped entry is read again');
    assert.ok(fake.reads.length > before);
    assert.ok(map.size <= 400);
  });

  it('tracks at most maxBatches batches', async () => {
    const batches = new Map(Array.from({ length: 5 }, (_, b) => [`b${b}`, refs(`b${b}-`, 3)] as [string, string[]]));
    const fake = listing(batches);
    const map = new ReferenceMap(fake.reader, { maxEntries: 1000, maxPages: 1000, maxBatches: 2 });
    for (const b of batches.keys()) assert.equal(await map.find(b, `${b}-1`), `job-${b}-1`);
    assert.equal(map.size, 6, 'two batches of three');
    const before = fake.reads.length;
    assert.equal(await map.find('b4', 'b4-2'), 'job-b4-2');
    assert.equal(fake.reads.length, before, 'the last batch kept');
    assert.equal(await map.find('b0', 'b0-2'), 'job-b0-2');
    assert.equal(fake.reads.length, before + 1, 'the first batch read again');
  });

  it('a cancelled lookup ends at once with the reason; the shared read goes on for the others', async () => {
    const fake = listing(new Map([['b1', refs('r', 50)]]));
    const map = new ReferenceMap(fake.reader);
    const open = fake.hold();
    const stop = new AbortController();
    const cancelled = map.find('b1', 'r1', stop.signal);
    const other = map.find('b1', 'r2');
    stop.abort(new Error('node closed'));
    await assert.rejects(cancelled, /node closed/);
    open();
    assert.equal(await other, 'job-r2');
  });

  it('a failed read fails the lookups waiting for it; the next lookup reads again', async () => {
    let fail = true;
    const fake = listing(new Map([['b1', refs('r', 5)]]));
    const map = new ReferenceMap(async (batch, token) => {
      if (fail) throw new Error('listing unavailable');
      return fake.reader(batch, token);
    });
    await assert.rejects(map.find('b1', 'r1'), /listing unavailable/);
    fail = false;
    assert.equal(await map.find('b1', 'r1'), 'job-r1');
  });
});
