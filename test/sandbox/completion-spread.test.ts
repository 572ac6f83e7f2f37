// The sandbox's completion spread (--completion-spread-ms): jobs complete at times spread by
// their creation index, deterministically, so a benchmark can have waits end over a span.
import assert from 'node:assert/strict';
import { request } from 'undici';
import { parseCliArgs } from '../../src/sandbox/cli-args';
import { DEFAULT_API_KEY, DEFAULT_PROJECT_ID, startSandbox, type Sandbox } from '../../src/sandbox/server';
import { spreadShare } from '../../src/sandbox/store';

async function createJob(sb: Sandbox, ref: string): Promise<void> {
  const res = await request(`${sb.url}/v0/projects/${DEFAULT_PROJECT_ID}/jobs`, {
    method: 'POST',
    headers: { 'x-api-key': DEFAULT_API_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({
      reference_id: ref,
      tag: 't',
      data: { video_data: { frames: [{ frame_id: 'f0', src: 'https://cdn.example.com/0.jpg' }] } },
    }),
  });
  assert.equal(res.statusCode, 200, await res.body.text());
  await res.body.dump();
}

describe('playment sandbox: completion spread', () => {
  it('spreads any run of consecutive job indexes evenly over the spread', () => {
    const spread = 100_000;
    const shares = Array.from({ length: 2000 }, (_, n) => spreadShare(n, spread));
    assert.equal(shares[0], 0);
    assert.ok(shares.every((s) => Number.isInteger(s) && s >= 0 && s < spread));
    // Ten equal slices of the spread each hold about a tenth of the jobs.
    const slices = new Array<number>(10).fill(0);
    for (const s of shares) slices[Math.floor(s / (spread / 10))]++;
    for (const count of slices) assert.ok(count >= 190 && count <= 210, `slice counts ${slices.join(', ')}`);
    assert.equal(spreadShare(5, 0), 0);
  });

  it('makes the n-th job created since a reset complete the delay plus its share after creation', async () => {
    const sb = await startSandbox({ completionDelayMs: 1000, completionSpreadMs: 50_000 });
    try {
      for (let round = 0; round < 2; round++) {
        sb.state.reset();
        for (let n = 0; n < 4; n++) await createJob(sb, `r${n}`);
        const jobs = sb.state.jobs();
        assert.deepEqual(
          jobs.map((j) => j.completesAtMs - j.createdAtMs),
          [0, 1, 2, 3].map((n) => 1000 + spreadShare(n, 50_000)),
        );
      }
    } finally {
      await sb.close();
    }
  });

  it('reads --completion-spread-ms and refuses a bad value', () => {
    assert.deepEqual(parseCliArgs(['--completion-spread-ms', '100000']), {
      kind: 'run',
      options: { host: '127.0.0.1', port: 4010, completionSpreadMs: 100_000 },
    });
    assert.throws(() => parseCliArgs(['--completion-spread-ms', '1.5']), /--completion-spread-ms must be an integer/);
  });

  it('refuses a negative spread', async () => {
    await assert.rejects(startSandbox({ completionSpreadMs: -1 }), RangeError);
  });
});
