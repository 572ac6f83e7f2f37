/**
 * The sandbox in its own child process (the CLI), so its CPU is not the bench's CPU. Driven
 * through its control endpoints; its CPU time is read from /proc (Linux) where available.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { stopChild } from '../../src/demo/node-red';
import { API_KEY, PROJECT } from './workload';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI_DIST = path.join(ROOT, 'dist', 'sandbox', 'cli.js');
const CLI_SRC = path.join(ROOT, 'src', 'sandbox', 'cli.ts');
/** Linux reports process times in clock ticks; 100 per second on every common kernel config. */
const CLOCK_TICKS = 100;

export interface SandboxProcess {
  url: string;
  pid: number;
  /** 'dist' (the built CLI) or 'src' (run through tsx when dist/ is missing). */
  source: 'dist' | 'src';
  reset(): Promise<void>;
  state(): Promise<SandboxSummary>;
  /** User + system CPU seconds used so far, or undefined when /proc is not readable. */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

export interface SandboxSummary {
  requestCount: number;
  jobs: number;
  duplicateReferenceIds: number;
  routeCounts: Record<string, number>;
}

export interface SandboxProcessOptions {
  /** Requests per rolling second before 429 (default 0: off). */
  rateLimit?: number;
  /** Default one hour: jobs never complete during a run unless a phase asks for it. */
  completionDelayMs?: number;
  /** Spreads completion times by creation index (the sandbox's --completion-spread-ms). */
  completionSpreadMs?: number;
}

export async function startSandboxProcess(opts: SandboxProcessOptions = {}): Promise<SandboxProcess> {
  const source = existsSync(CLI_DIST) ? 'dist' : 'src';
  const args = [
    ...(source === 'dist' ? [CLI_DIST] : ['--import', 'tsx', CLI_SRC]),
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--api-key',
    API_KEY,
    '--project',
    PROJECT,
    '--completion-delay',
    String(opts.completionDelayMs ?? 3_600_000),
    '--completion-spread-ms',
    String(opts.completionSpreadMs ?? 0),
    '--rate-limit',
    String(opts.rateLimit ?? 0),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await waitForUrl(child);
  const pid = child.pid!;
  return {
    url,
    pid,
    source,
    reset: () => resetSandbox(url),
    state: () => sandboxState(url),
    cpuSeconds: () => procCpuSeconds(pid),
    stop: () => stopChild(child),
  };
}

/** A control endpoint of the sandbox at `url` (/_sandbox/<p>); its JSON answer. */
async function control(url: string, method: 'GET' | 'POST', p: string): Promise<unknown> {
  const res = await request(`${url}/_sandbox/${p}`, { method, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const body = await res.body.json();
  if (res.statusCode !== 200) throw new Error(`sandbox ${p}: HTTP ${res.statusCode}`);
  return body;
}

/** The counters of the sandbox at `url` (readable from any process). */
export async function sandboxState(url: string): Promise<SandboxSummary> {
  return (await control(url, 'GET', 'state')) as SandboxSummary;
}

/** Empties the sandbox at `url`: no jobs, batches or request log. */
export async function resetSandbox(url: string): Promise<void> {
  await control(url, 'POST', 'reset');
}

function waitForUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error('the sandbox did not start within 20 s')), 20_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${e.message}${err ? `: ${err.trim()}` : ''}`));
    };
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => fail(new Error(`the sandbox exited with code ${code} before listening`)));
  });
}

/** utime + stime of a process (fields 14 and 15 of /proc/PID/stat), in seconds. */
function procCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
