import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
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

  it('with every tracked batch busy, a new batch is kept and counted: its entries are taken off when it goes', async () => {
    const batches = new Map([
      ['b1', refs('a', 3)],
      ['b2', refs('b', 5)],
      ['b3', refs('c', 2)],
    ]);
    const fake = listing(batches);
    const map = new ReferenceMap(fake.reader, { maxEntries: 1000, maxPages: 1000, maxBatches: 1 });
    const open = fake.hold();
    const busy = map.find('b1', 'missing-a');
    // b1 is being read: b2 goes over the bound for now instead of being read untracked.
    const second = map.find('b2', 'b4');
    open();
    assert.equal(await busy, undefined);
    assert.equal(await second, 'job-b4');
    assert.equal(map.size, 8);
    // Both free now: each request for b3 forgets the least recently used batch, b1 (3 entries),
    // then b2 (5), so the count ends at what is tracked: b3's 2.
    assert.equal(await map.find('b3', 'c1'), 'job-c1');
    assert.equal(await map.find('b3', 'c0'), 'job-c0');
    assert.equal(map.size, 2);
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

describe('reference map: cancel signals, memory bounds and log lines', () => {
  it('a lookup answered by a read, found or not, leaves no listener on its cancel signal', async () => {
    const fake = listing(new Map([['b1', refs('r', 5)]]));
    const map = new ReferenceMap(fake.reader);
    const nodeLifetime = new AbortController();
    assert.equal(await map.find('b1', 'r1', nodeLifetime.signal), 'job-r1');
    assert.equal(await map.find('b1', 'nowhere', nodeLifetime.signal), undefined);
    assert.equal(getEventListeners(nodeLifetime.signal, 'abort').length, 0);
  });

  it('a lookup failed by its read leaves no listener on its cancel signal', async () => {
    const map = new ReferenceMap(() => Promise.reject(new Error('listing unavailable')));
    const nodeLifetime = new AbortController();
    await assert.rejects(map.find('b1', 'r1', nodeLifetime.signal), /listing unavailable/);
    assert.equal(getEventListeners(nodeLifetime.signal, 'abort').length, 0);
  });

  it('a signal aborted before the lookup rejects with its reason and reads nothing', async () => {
    const fake = listing(new Map([['b1', refs('r', 5)]]));
    const map = new ReferenceMap(fake.reader);
    await assert.rejects(map.find('b1', 'r1', AbortSignal.abort(new Error('node closed'))), /node closed/);
    assert.deepEqual(fake.reads, []);
  });

  it('a known reference id is answered even when the signal has aborted', async () => {
    const fake = listing(new Map([['b1', refs('r', 5)]]));
    const map = new ReferenceMap(fake.reader);
    assert.equal(await map.find('b1', 'r1'), 'job-r1');
    assert.equal(await map.find('b1', 'r2', AbortSignal.abort(new Error('node closed'))), 'job-r2');
  });

  it('cancelling one of two lookups of the same reference id leaves the other waiting for the read', async () => {
    const fake = listing(new Map([['b1', refs('r', 5)]]));
    const map = new ReferenceMap(fake.reader);
    const open = fake.hold();
    const first = new AbortController();
    const cancelled = map.find('b1', 'r1', first.signal);
    const kept = map.find('b1', 'r1', new AbortController().signal);
    first.abort(new Error('first node closed'));
    await assert.rejects(cancelled, /first node closed/);
    open();
    assert.equal(await kept, 'job-r1');
  });

  it('a lookup cancelled while a read runs costs no further read', async () => {
    const fake = listing(new Map([['b1', refs('r', 5)]]));
    const map = new ReferenceMap(fake.reader);
    const open = fake.hold();
    const first = map.find('b1', 'r1');
    // Made while the first read runs, so only a second read could answer it: cancelled first.
    const cancel = new AbortController();
    const cancelled = map.find('b1', 'nowhere', cancel.signal);
    cancel.abort(new Error('closed'));
    await assert.rejects(cancelled, /closed/);
    open();
    assert.equal(await first, 'job-r1');
    assert.equal(await map.find('b1', 'r2'), 'job-r2');
    assert.deepEqual(fake.reads, ['b1:0']);
  });

  it('a batch being read is not the one forgotten when too many batches are tracked', async () => {
    const batches = new Map([
      ['busy', refs('x', 3)],
      ['idle', refs('y', 3)],
      ['third', refs('z', 3)],
    ]);
    const fake = listing(batches);
    const map = new ReferenceMap(fake.reader, { maxEntries: 1000, maxPages: 1000, maxBatches: 2 });
    assert.equal(await map.find('idle', 'y0'), 'job-y0');
    const open = fake.hold();
    const waiting = map.find('busy', 'x0');
    // Used after "busy": "busy", being read, is now the least recently used batch.
    assert.equal(await map.find('idle', 'y1'), 'job-y1');
    const third = map.find('third', 'z0');
    open();
    assert.equal(await waiting, 'job-x0');
    assert.equal(await third, 'job-z0');
    const before = fake.reads.length;
    assert.equal(await map.find('busy', 'x2'), 'job-x2', 'the batch being read was kept');
    assert.equal(fake.reads.length, before);
    assert.equal(await map.find('idle', 'y2'), 'job-y2', 'the idle batch was forgotten: read again');
    assert.equal(fake.reads.length, before + 1);
  });

  it('a lookup makes its batch the most recently used: the other one is forgotten first', async () => {
    const batches = new Map([
      ['a', refs('a', 3)],
      ['b', refs('b', 3)],
      ['c', refs('c', 3)],
    ]);
    const fake = listing(batches);
    const map = new ReferenceMap(fake.reader, { maxEntries: 1000, maxPages: 1000, maxBatches: 2 });
    assert.equal(await map.find('a', 'a0'), 'job-a0');
    assert.equal(await map.find('b', 'b0'), 'job-b0');
    assert.equal(await map.find('a', 'a1'), 'job-a1', 'known: no read, but "a" is now the most recently used');
    assert.equal(await map.find('c', 'c0'), 'job-c0');
    const before = fake.reads.length;
    assert.equal(await map.find('a', 'a2'), 'job-a2');
    assert.equal(fake.reads.length, before, '"a" kept');
    assert.equal(await map.find('b', 'b2'), 'job-b2');
    assert.equal(fake.reads.length, before + 1, '"b" forgotten: read again');
  });

  it('a batch whose listing is still read to its end is kept, though nobody waits on it any more', async () => {
    const batches = new Map([
      ['long', refs('l', 150)],
      ['other', refs('o', 3)],
    ]);
    const fake = listing(batches);
    let openSecondPage!: () => void;
    const secondPage = new Promise<void>((r) => (openSecondPage = r));
    const reader = async (batchId: string, token: string | undefined) => {
      if (token === '100') await secondPage;
      return fake.reader(batchId, token);
    };
    const map = new ReferenceMap(reader, { maxEntries: 1000, maxPages: 1000, maxBatches: 1 });
    // Answered from the first page; the read goes on to the second.
    assert.equal(await map.find('long', 'l1'), 'job-l1');
    const other = map.find('other', 'o0');
    openSecondPage();
    assert.equal(await other, 'job-o0');
    await new Promise((r) => setImmediate(r));
    const before = fake.reads.length;
    assert.equal(await map.find('long', 'l120'), 'job-l120');
    assert.equal(fake.reads.length, before, 'its second page was remembered');
  });

  it('a lookup made while a read runs, of a reference id that read misses, waits for the next read', async () => {
    const batches = new Map([['b1', refs('r', 5)]]);
    const fake = listing(batches);
    let served = 0;
    // The job is stored just after the first read passed its page: only the second read lists it.
    const reader = async (batchId: string, token: string | undefined) => {
      const page = await fake.reader(batchId, token);
      if (++served === 1) batches.get('b1')!.push('late');
      return page;
    };
    const map = new ReferenceMap(reader);
    const open = fake.hold();
    const before = map.find('b1', 'late');
    const during = map.find('b1', 'late');
    open();
    assert.equal(await before, undefined);
    assert.equal(await during, 'job-late');
    assert.deepEqual(fake.reads, ['b1:0', 'b1:0']);
  });

  it('keeps exactly maxEntries reference ids, the oldest of the least recently used batch dropped first', async () => {
    const batches = new Map([
      ['old', refs('o', 5)],
      ['new', refs('n', 5)],
    ]);
    const fake = listing(batches);
    const map = new ReferenceMap(fake.reader, { maxEntries: 7, maxPages: 1000, maxBatches: 10 });
    assert.equal(await map.find('old', 'o4'), 'job-o4');
    assert.equal(map.size, 5);
    assert.equal(await map.find('new', 'n4'), 'job-n4');
    assert.equal(map.size, 7);
    const before = fake.reads.length;
    // Kept: o3, o4 (the newest of the older batch) and all of the newer one.
    for (const ref of ['o3', 'o4', 'n0', 'n1', 'n2', 'n3', 'n4'])
      assert.equal(await map.find(ref[0] === 'o' ? 'old' : 'new', ref), `job-${ref}`);
    assert.equal(fake.reads.length, before, 'every kept entry answered without a read');
    assert.equal(await map.find('old', 'o2'), 'job-o2', 'a dropped entry is read again');
    assert.equal(fake.reads.length, before + 1);
    assert.equal(map.size, 7);
  });

  it('reading a batch again counts each reference id once', async () => {
    const fake = listing(new Map([['b1', refs('r', 150)]]));
    const map = new ReferenceMap(fake.reader);
    assert.equal(await map.find('b1', 'r149'), 'job-r149');
    assert.equal(map.size, 150);
    assert.equal(await map.find('b1', 'nowhere'), undefined);
    assert.equal(map.size, 150);
  });

  it('a read stops after maxPages pages; jobs without a reference id are not remembered', async () => {
    const fake = listing(new Map([['b1', refs('r', 500)]]));
    const reader = async (batchId: string, token: string | undefined) => {
      const page = await fake.reader(batchId, token);
      return { ...page, jobs: [...page.jobs, { id: 'job-without-reference', reference_id: null }] } as BatchJobsPage;
    };
    const map = new ReferenceMap(reader, { maxEntries: 1000, maxPages: 2, maxBatches: 10 });
    assert.equal(await map.find('b1', 'r450'), undefined);
    assert.deepEqual(fake.reads, ['b1:0', 'b1:100']);
    assert.equal(await map.find('b1', 'r199'), 'job-r199');
    assert.equal(map.size, 200);
  });

  it('a read that fails fails every lookup waiting, also those made while it ran', async () => {
    let fail = true;
    const fake = listing(new Map([['b1', refs('r', 5)]]));
    const map = new ReferenceMap(async (batch, token) => {
      const page = await fake.reader(batch, token);
      if (fail) throw Object.assign(new Error('listing unavailable'), { code: 'NETWORK' });
      return page;
    });
    const open = fake.hold();
    const first = map.find('b1', 'r1');
    const during = map.find('b1', 'r2');
    open();
    await assert.rejects(first, /listing unavailable/);
    await assert.rejects(during, /listing unavailable/);
    assert.equal(fake.reads.length, 1);
    fail = false;
    assert.equal(await map.find('b1', 'r2'), 'job-r2');
  });

  it('logs one line per listing read: the batch, the lookups, pages, jobs and the outcome', async () => {
    const lines: string[] = [];
    let failWith: unknown;
    const fake = listing(
      new Map([
        ['b1', refs('r', 150)],
        ['', refs('d', 3)],
      ]),
    );
    const map = new ReferenceMap(
      async (batch, token) => {
        if (failWith !== undefined) throw failWith;
        return fake.reader(batch, token);
      },
      undefined,
      (text) => lines.push(text),
    );
    const open = fake.hold();
    // One lookup starts the read; two made while it runs share the next one.
    const lookups = [map.find('b1', 'r1'), map.find('b1', 'late-1'), map.find('b1', 'late-2')];
    open();
    assert.deepEqual(await Promise.all(lookups), ['job-r1', undefined, undefined]);
    assert.equal(await map.find('', 'd2'), 'job-d2');
    failWith = Object.assign(new Error('down'), { code: 'HTTP_ERROR' });
    await assert.rejects(map.find('b2', 'x'), /down/);
    failWith = new Error('no code');
    await assert.rejects(map.find('b3', 'x'), /no code/);
    assert.equal(lines.length, 5, lines.join('\n'));
    assert.match(lines.shift()!, /^reference ids: listing of batch b1 for 1 lookup\(s\) read: 2 page\(s\), 150 job\(s\) in \d+ ms$/);
    assert.match(lines[0], /^reference ids: listing of batch b1 for 2 lookup\(s\) read: 2 page\(s\), 150 job\(s\) in \d+ ms$/);
    assert.match(
      lines[1],
      /^reference ids: listing of the project's default batch for 1 lookup\(s\) read: 1 page\(s\), 3 job\(s\) in \d+ ms$/,
    );
    assert.match(
      lines[2],
      /^reference ids: listing of batch b2 for 1 lookup\(s\) failed \(HTTP_ERROR\): 0 page\(s\), 0 job\(s\) in \d+ ms$/,
    );
    assert.match(lines[3], /^reference ids: listing of batch b3 for 1 lookup\(s\) failed \(error\): 0 page\(s\), 0 job\(s\) in \d+ ms$/);
  });
});
