/**
 * A Node-RED process as the demo and the end-to-end tests run it: its settings file, the wait
 * until its Admin API answers, a full deploy, and the start-up warnings that are expected here.
 */
import type { ChildProcess } from 'node:child_process';
import { HOST } from './ports';

export interface SettingsOptions {
  credentialSecret: string;
  /** A comment line at the top of the file. */
  comment?: string;
  /** Writes flows.json indented. */
  flowFilePretty?: boolean;
}

/** settings.js: bound to 127.0.0.1, flows in flows.json, no telemetry, tours or palette catalogues. */
export function settingsFileText(opts: SettingsOptions): string {
  return [
    ...(opts.comment ? [`// ${opts.comment}`] : []),
    'module.exports = {',
    `    uiHost: '${HOST}',`,
    "    flowFile: 'flows.json',",
    ...(opts.flowFilePretty ? ['    flowFilePretty: true,'] : []),
    `    credentialSecret: ${JSON.stringify(opts.credentialSecret)},`,
    '    telemetry: { enabled: false, updateNotification: false },',
    "    logging: { console: { level: 'info', metrics: false, audit: false } },",
    '    editorTheme: { tours: false, palette: { catalogues: [] } },',
    '};',
    '',
  ].join('\n');
}

/** Start-up warnings that are expected here (no projects; the flow files are removed on purpose). */
export const EXPECTED_WARNINGS = [/^Projects disabled/, /^Encrypted credentials not found/];

export const running = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

/** Asks a child process to end with `signal`, then kills it if it has not exited within `graceMs`. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
  if (!running(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    child.kill(signal);
  });
}

/** Polls GET /flows until Node-RED answers; throws when it exits first or does not answer in time. */
export async function waitForAdmin(baseUrl: string, child: ChildProcess, timeoutMs: number, everyMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!running(child)) throw new Error('Node-RED exited during start-up');
    try {
      const res = await fetch(`${baseUrl}/flows`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`Node-RED did not answer on ${baseUrl} within ${timeoutMs / 1000} s`);
}

/** Full deploy of a flow through POST /flows. */
export async function deploy(baseUrl: string, flow: readonly unknown[], what = 'the flow'): Promise<void> {
  const res = await fetch(`${baseUrl}/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(flow),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`deploying ${what} failed: HTTP ${res.status} ${text.slice(0, 300)}`);
}
