/** Markdown tables of a results object, ready to paste into the README. */
import { BUDGET_TARGETS, type BudgetResult } from './budget';
import type { LargeSequenceResult } from './large-sequences';
import type { MemoryResult } from './memory';
import type { RateLimitResult } from './rate-limit';
import type { ScaleOutResult } from './scale-out';
import { fmt } from './stats';
import type { ThroughputResult, VariantStats } from './throughput';

export interface Meta {
  date: string;
  mode: 'full' | 'quick';
  node: string;
  cpuModel: string;
  cpuCount: number;
  totalMemoryGb: number;
  platform: string;
  sandboxSource?: string;
  loadAverageStart: number[];
  loadAverageEnd?: number[];
  durationS?: number;
}

export interface Target {
  name: string;
  target: string;
  value: string;
  met: boolean;
}

export interface Results {
  meta: Meta;
  throughput?: ThroughputResult;
  largeSequences?: LargeSequenceResult;
  memory?: MemoryResult;
  rateLimit?: RateLimitResult;
  scaleOut?: ScaleOutResult;
  budget?: BudgetResult;
  errors: Record<string, string>;
  phaseSeconds: Record<string, number>;
  /** 1-minute load average when each phase ended (2 cores: above ~1 means others were busy too). */
  phaseLoadAverage: Record<string, number>;
  targets: Target[];
}

function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const yes = (met: boolean) => (met ? 'met' : '**missed**');

export function collectTargets(r: Results): Target[] {
  const t: Target[] = [];
  if (r.throughput) {
    const { oursOverCeilingAt16: c, oursOverDiy: d } = r.throughput.targets;
    t.push({ name: 'ours / bare undici at concurrency 16', target: `≥ ${c.target}`, value: fmt(c.value, 2), met: c.met });
    t.push({ name: 'ours / DIY (lowest of 4, 16, 64)', target: `≥ ${d.target}`, value: fmt(d.min, 2), met: d.met });
  }
  if (r.largeSequences) {
    const s = r.largeSequences.target;
    t.push({
      name: `prepare / JSON.stringify at ${s.frames.toLocaleString('en-US')} frames`,
      target: `≤ ${s.maxRatio}`,
      value: fmt(s.value, 2),
      met: s.met,
    });
  }
  if (r.memory) {
    const m = r.memory.targets;
    t.push({
      name: `${r.memory.burst.messages.toLocaleString('en-US')} messages at once: queue holds, live heap flat, each message ends once`,
      target: `queue ≤ ${r.memory.burst.maxQueue}, ≤ ${m.burstBounded.maxRetainedBytesPerMessage} B kept per message`,
      value: `queue ≤ ${r.memory.burst.maxQueuedSeen}, ${fmt(m.burstBounded.value, 0)} B/message, peak RSS ${fmt(r.memory.burst.peakRssMb, 0)} MB`,
      met: m.burstBounded.met,
    });
    t.push({
      name: 'heap growth over repeated runs (after the first)',
      target: `≤ ${m.noGrowth.maxBytesPerJob} B/job`,
      value: `${fmt(m.noGrowth.value, 1)} B/job`,
      met: m.noGrowth.met,
    });
  }
  if (r.rateLimit) {
    t.push({
      name: `rate limit ${r.rateLimit.configured}/s over ${r.rateLimit.durationS} s`,
      target: `within ${r.rateLimit.target.maxErrorPercent} %`,
      value: `${fmt(r.rateLimit.measuredPerSecond, 3)}/s (${fmt(r.rateLimit.errorPercent, 2)} %)`,
      met: r.rateLimit.target.met,
    });
  }
  if (r.scaleOut) {
    t.push({
      name: 'scale-out: each reference id stored once, the overlap passed on as existing',
      target: 'exactly once',
      value: `${r.scaleOut.storedJobs} stored of ${r.scaleOut.sequences}, ${r.scaleOut.existingOutputs} existing of ${r.scaleOut.overlap} overlapping`,
      met: r.scaleOut.eachReferenceIdOnce,
    });
  }
  if (r.budget) {
    const { waits: w, burst: b, refeed: f } = r.budget;
    const T = BUDGET_TARGETS;
    t.push({
      name: `${n(w.jobs)} waits at ${w.ratePerSecond}/s, poll ${w.pollIntervalS} s: every wait completed, requests per result, p95 completion → output`,
      target: `all, ≤ ${T.waits.maxRequestsPerResult}, ≤ ${T.waits.maxP95CompletionToOutputS} s`,
      value: `${n(w.completed)} of ${n(w.jobs)}, ${fmt(w.requestsPerResult, 2)}, ${fmt(w.p95CompletionToOutputS, 1)} s`,
      met: w.met,
    });
    t.push({
      name: `${n(b.sequences)}-sequence burst at ${b.ratePerSecond}/s: none refused, budget used, RSS growth`,
      target: `0, ≥ ${T.burst.minBudgetUsedPercent} %, ≤ ${T.burst.maxRssGrowthMb} MB`,
      value: `${n(b.refused)}, ${fmt(b.budgetUsedPercent, 1)} %, ${fmt(b.rssGrowthMb, 0)} MB`,
      met: b.met,
    });
    t.push({
      name: `re-feed of the ${n(f.sequences)}: existing with the original job id, stored once, requests per sequence`,
      target: `all, once, ≤ ${T.refeed.maxRequestsPerSequence}`,
      value: `${n(Math.min(f.existing, f.sameJobId))} of ${n(f.sequences)}, ${n(f.storedJobs)} stored, ${fmt(f.requestsPerSequence, 3)}`,
      met: f.met,
    });
  }
  return t;
}

const n = (x: number) => x.toLocaleString('en-US');

export function render(r: Results): string {
  const out: string[] = [];
  const m = r.meta;
  out.push(`## Benchmarks (${m.mode})`);
  if (m.mode === 'quick')
    out.push('', '_Quick run: small samples on a cold JIT. It checks that every phase works; its timings mean little._');
  out.push('');
  out.push(
    `${m.date} · Node ${m.node} · ${m.cpuModel} × ${m.cpuCount} · ${m.totalMemoryGb} GB · ${m.durationS ? `${Math.round(m.durationS)} s` : ''}`,
  );
  const loads = Object.entries(r.phaseLoadAverage)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
  out.push('', `1-minute load average at start ${m.loadAverageStart[0].toFixed(2)}; after each phase: ${loads || '–'}.`);

  if (r.throughput) {
    const t = r.throughput;
    out.push(
      '',
      `### Throughput (${t.byConcurrency[0]?.ours.jobs.toLocaleString('en-US')} jobs × ${t.framesPerJob} frames per variant and concurrency)`,
      '',
    );
    out.push(
      'ceiling = bare undici `request()` loop, keep-alive Agent; ours = playment-submit-video-job in Node-RED; DIY = core function + http request nodes. Sandbox in its own process, rate limit off. CPU = user + system time per job.',
      '',
    );
    const row = (c: number, name: string, v: VariantStats) => [
      c,
      name,
      fmt(v.jobsPerSecond, 0),
      fmt(v.p50Ms, 2),
      fmt(v.p95Ms, 2),
      fmt(v.cpuMsPerJob, 3),
      fmt(v.sandboxCpuMsPerJob, 3),
      `${fmt(v.benchCores, 2)} / ${fmt(v.sandboxCores, 2)}`,
      v.failed,
    ];
    out.push(
      table(
        [
          'concurrency',
          'variant',
          'jobs/s',
          'p50 ms',
          'p95 ms',
          'bench CPU ms/job',
          'sandbox CPU ms/job',
          'cores busy bench / sandbox',
          'failed',
        ],
        t.byConcurrency.flatMap((c) => [
          row(c.concurrency, 'ceiling', c.ceiling),
          row(c.concurrency, 'ours', c.ours),
          row(c.concurrency, 'DIY', c.diy),
        ]),
      ),
    );
    out.push(
      '',
      table(
        ['concurrency', 'ours / ceiling', 'ours / DIY'],
        t.byConcurrency.map((c) => [c.concurrency, fmt(c.oursOverCeiling, 2), fmt(c.oursOverDiy, 2)]),
      ),
    );
    const s = t.sandboxCeiling;
    out.push(
      '',
      `Sandbox alone (bare undici, concurrency ${s.concurrency}, ${s.framesPerJob}-frame bodies): ${fmt(s.jobsPerSecond, 0)} jobs/s, p50 ${fmt(s.p50Ms, 2)} ms, sandbox CPU ${fmt(s.sandboxCpuMsPerJob, 3)} ms/job (${fmt(s.sandboxCores, 2)} cores busy).`,
    );
    if (t.sandboxCapacityPerCore) {
      const at16 = t.byConcurrency.find((c) => c.concurrency === 16);
      out.push(
        `With ${t.framesPerJob}-frame bodies the sandbox spends ${fmt(at16?.ceiling.sandboxCpuMsPerJob, 3)} ms CPU per job: one sandbox core serves ≈ ${fmt(t.sandboxCapacityPerCore, 0)} jobs/s. ` +
          `Sandbox cores busy at concurrency 16: ceiling ${fmt(at16?.ceiling.sandboxCores, 2)}, ours ${fmt(at16?.ours.sandboxCores, 2)}, DIY ${fmt(at16?.diy.sandboxCores, 2)}.`,
      );
    }
    out.push(`Order: ${t.order}.`);
  }

  if (r.largeSequences) {
    const l = r.largeSequences;
    out.push('', '### Large sequences (planJobs + JSON.stringify vs JSON.stringify alone, medians)', '');
    out.push(
      table(
        ['frames', 'prepare ms', 'stringify ms', 'ratio', 'prepare µs/frame', 'normalise ms', 'reference id ms', 'body MB', 'reps'],
        l.sizes.map((s) => [
          s.frames.toLocaleString('en-US'),
          fmt(s.prepareMs, 2),
          fmt(s.stringifyMs, 2),
          fmt(s.ratio, 2),
          fmt(s.prepareUsPerFrame, 3),
          fmt(s.normaliseMs, 2),
          fmt(s.referenceIdMs, 2),
          fmt(s.bodyBytes / 1048576, 2),
          s.reps,
        ]),
      ),
    );
    out.push('', `Per-frame cost at the largest size / at the smallest: ${fmt(l.linearity, 2)} (1.00 = linear). Input: ${l.input}.`);
  }

  if (r.memory) {
    const b = r.memory.burst;
    const p = r.memory.repeats;
    out.push('', '### Memory', '');
    out.push(
      table(
        ['measure', 'value'],
        [
          ['messages injected (chunks per event-loop turn)', `${b.messages.toLocaleString('en-US')} (${b.chunk.toLocaleString('en-US')})`],
          ['limits', `${b.rateLimit} requests/s (default), queue ${b.maxQueue.toLocaleString('en-US')} (set for this run; default 10,000)`],
          ['injection time', `${fmt(b.injectMs / 1000, 1)} s (${fmt((b.injectMs * 1000) / b.messages, 0)} µs per message)`],
          ['RSS before → peak', `${fmt(b.baselineRssMb, 1)} → ${fmt(b.peakRssMb, 1)} MB`],
          ['peak heap used (garbage included)', `${fmt(b.peakHeapUsedMb, 1)} MB`],
          [
            'live heap after GC at each quarter of the burst',
            `${b.liveHeapAtQuartersMb.map((x) => fmt(x, 1)).join(', ')} MB (growth ${fmt(b.liveHeapGrowthMb, 1)} MB = ${fmt(b.retainedBytesPerMessage, 0)} B per message)`,
          ],
          ['queue: most seen / limit', `${b.maxQueuedSeen} / ${b.maxQueue}`],
          [
            'endings',
            Object.entries(b.endings)
              .map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`)
              .join(', '),
          ],
          ['every message ended exactly once', b.everyMessageEndedOnce ? 'yes' : '**no**'],
          ['heap used / RSS after close + GC', `${fmt(b.heapUsedAfterMb, 1)} / ${fmt(b.rssAfterMb, 1)} MB`],
          [
            `heap after GC, ${p.runs} runs × ${p.jobsPerRun.toLocaleString('en-US')} jobs (MB)`,
            p.heapUsedMb.map((x) => fmt(x, 1)).join(', '),
          ],
          [
            'slope (all runs / after the first)',
            `${fmt(p.slopeMbPerRun, 3)} / ${fmt(p.slopeMbPerRunAfterFirst, 3)} MB per run = ${fmt(p.bytesPerJobAfterFirst, 1)} B/job`,
          ],
        ],
      ),
    );
  }

  if (r.rateLimit) {
    const x = r.rateLimit;
    out.push('', '### Rate-limit accuracy', '');
    out.push(
      table(
        ['configured', 'window', 'requests', 'measured', 'error', 'max in any 1 s', 'mean / max gap'],
        [
          [
            `${x.configured}/s`,
            `${x.durationS} s`,
            x.requests,
            `${fmt(x.measuredPerSecond, 3)}/s`,
            `${fmt(x.errorPercent, 2)} %`,
            x.maxInAnySecond,
            `${fmt(x.meanGapMs, 1)} / ${fmt(x.maxGapMs, 1)} ms`,
          ],
        ],
      ),
    );
  }

  if (r.scaleOut) {
    const s = r.scaleOut;
    out.push('', '### Scale-out (two Node-RED processes, overlapping input)', '');
    out.push(
      "Overlapping sequences come out of the second runtime as outputs with `existing: true` (the submit node's default) and the stored job's id.",
      '',
    );
    out.push(
      table(
        [
          'sequences',
          'A (outputs / existing)',
          'B (outputs / existing)',
          'overlap',
          'stored jobs',
          'create requests',
          'FS_0001 at Catch',
          'distinct ids out',
          'one job id per reference id',
          'each id stored once',
        ],
        [
          [
            s.sequences,
            `${s.a.from}–${s.a.to - 1} (${s.a.outputs} / ${s.a.existing})`,
            `${s.b.from}–${s.b.to - 1} (${s.b.outputs} / ${s.b.existing})`,
            s.overlap,
            s.storedJobs,
            s.jobCreateRequests,
            s.fs0001AtCatch,
            s.distinctOutputReferenceIds,
            s.referenceIdsWithTwoJobIds === 0 ? 'yes' : '**no**',
            s.eachReferenceIdOnce ? 'yes' : '**no**',
          ],
        ],
      ),
    );
  }

  if (r.budget) {
    const { waits: w, burst: b, refeed: f, poller: p } = r.budget;
    out.push('', '### Account budget (sandbox rate limit on)', '');
    out.push(
      `Waits: ${n(w.jobs)} sequences submitted into one batch and waited for (job-result, wait mode, poll ${w.pollIntervalS} s), sandbox rate limit ${w.ratePerSecond}/s, ` +
        `jobs completing ${fmt(w.completionDelayS, 0)} s + a spread of ${fmt(w.completionSpreadS, 0)} s after creation (completions over ${fmt(w.completionSpanS, 0)} s; run ${fmt(w.elapsedS, 0)} s). ` +
        'Per-job polling is the previous job-result node (GET job at once, then after the interval, each pause 1.5× the last up to 4× the interval), ' +
        'computed from the same start and completion times with no rate limit: its best case.',
      '',
    );
    const polls = Object.entries(w.pollRequests)
      .map(([k, v]) => `${k} ${n(v)}`)
      .join(', ');
    out.push(
      table(
        ['measure', 'value'],
        [
          [
            'waits: requests per result, poller / per-job polling',
            `**${fmt(w.requestsPerResult, 2)}** / ${fmt(w.perJob.requestsPerResult, 2)} (poller: ${polls})`,
          ],
          [
            'waits: completion → output, p50 / p95 / max (poller)',
            `${fmt(w.p50CompletionToOutputS, 1)} / **${fmt(w.p95CompletionToOutputS, 1)}** / ${fmt(w.maxCompletionToOutputS, 1)} s`,
          ],
          [
            'waits: p95 completion → output while submissions share the rate / after the last submission',
            `${fmt(w.p95WhileSubmittingS, 1)} / ${fmt(w.p95AfterSubmissionsS, 1)} s`,
          ],
          ['waits: sweeps, mean time from one to the next', `${n(w.sweeps)}, ${fmt(w.meanSweepCycleS, 1)} s`],
          [
            'waits: per-job polling, p95 completion → output; its peak demand',
            `${fmt(w.perJob.p95CompletionToOutputS, 1)} s; ${n(w.perJob.peakDemandPerSecond)} requests/s against a rate of ${w.ratePerSecond}/s`,
          ],
          [
            'waits ended',
            `${n(w.completed)} completed of ${n(w.jobs)}${Object.keys(w.caught).length ? `; at Catch: ${JSON.stringify(w.caught)}` : ''}`,
          ],
          [
            `burst: ${n(b.sequences)} sequences at once, rate ${b.ratePerSecond}/s, queue ${n(b.maxQueue)} (default)`,
            `${n(b.outputs)} sent on, **${n(b.refused)} refused**`,
          ],
          [
            'burst: time / sequences ÷ rate (budget used)',
            `${fmt(b.elapsedS, 1)} s / ${fmt(b.floorS, 1)} s (**${fmt(b.budgetUsedPercent, 1)} %**); ${n(b.createRequests)} create requests`,
          ],
          ['burst: RSS before → peak (growth)', `${fmt(b.baselineRssMb, 0)} → ${fmt(b.peakRssMb, 0)} MB (**${fmt(b.rssGrowthMb, 0)} MB**)`],
          [
            `re-feed of the same ${n(f.sequences)}`,
            `${n(f.existing)} existing, ${n(f.sameJobId)} with the original job id, ${n(f.storedJobs)} jobs stored; ${fmt(f.elapsedS, 1)} s`,
          ],
          [
            're-feed: requests per sequence',
            `**${fmt(f.requestsPerSequence, 3)}** (${Object.entries(f.requestsByRoute)
              .map(([k, v]) => `${k} ${n(v)}`)
              .join(', ')})`,
          ],
          [`${n(p.waits)} waits in one result poller: memory per wait`, `${n(p.bytesPerWait)} B (${fmt(p.heapMb, 1)} MB)`],
          [
            '… CPU per sweep (every listing page read; client HTTP/JSON not included)',
            `${fmt(p.cpuMsPerSweep, 1)} ms for ${n(p.listingPagesPerSweep)} pages`,
          ],
        ],
      ),
    );
  }

  out.push('', '### Targets', '');
  out.push(
    table(
      ['target', 'wanted', 'measured', ''],
      r.targets.map((t) => [t.name, t.target, t.value, yes(t.met)]),
    ),
  );
  const errs = Object.entries(r.errors);
  if (errs.length) out.push('', '### Phases that failed', '', ...errs.map(([k, e]) => `- ${k}: ${e.split('\n')[0]}`));
  return out.join('\n');
}
