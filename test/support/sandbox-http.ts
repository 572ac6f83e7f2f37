/**
 * Real HTTP against a sandbox on 127.0.0.1: one call helper, request bodies, error checks, and
 * the mocha hooks of a suite that shares one sandbox (reset before each test).
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { DEFAULT_API_KEY, DEFAULT_PROJECT_ID, startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server';

// The sandbox under test is started without API keys, so it accepts its default one.
export const KEY = DEFAULT_API_KEY;
export const PID = DEFAULT_PROJECT_ID;
export const OTHER_PID = 'acme project/2'; // needs URL-encoding in paths
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const RESULT_PREFIX = 'https://playment-data-uploads.s3.ap-south-1.amazonaws.com/sandbox/';

// Response bodies are checked field by field.
export type Json = any;

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Json;
}

export interface CallOptions {
  body?: unknown;
  rawBody?: string;
  /** null = send no x-api-key header. */
  key?: string | null;
  headers?: Record<string, string>;
}

// Keep-alive connections of the running suite; closed when it ends (see useSandbox).
let dispatcher: Agent | undefined;

export async function call(base: string, method: string, urlPath: string, opts: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? KEY : opts.key;
  if (key !== null) headers['x-api-key'] = key;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  dispatcher ??= new Agent({ keepAliveTimeout: 10_000 });
  const res = await request(`${base}${urlPath}`, {
    method: method as 'GET',
    headers,
    body,
    dispatcher,
  });
  const text = await res.body.text();
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

export function frames(count: number, prefix = 'frame'): { frame_id: string; src: string }[] {
  return Array.from({ length: count }, (_, i) => ({
    frame_id: `${prefix}${String(i).padStart(4, '0')}`,
    src: `https://cdn.example.com/clips/${prefix}/${i}.jpg`,
  }));
}

export function jobBody(referenceId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { reference_id: referenceId, work_flow_id: 'wf-1', data: { video_data: { frames: frames(3) } }, ...extra };
}

export const enc = encodeURIComponent;
export const jobsPath = (profile: 'v0' | 'v1', pid = PID): string => `/${profile}/projects/${enc(pid)}/jobs`;

export function assertError(res: CallResult, status: number, code: string, messageIncludes?: string[]): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${res.text}`);
  assert.equal(res.json.success, false);
  assert.equal(res.json.error.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string');
  for (const fragment of messageIncludes ?? []) {
    assert.ok(res.json.error.message.includes(fragment), `message "${res.json.error.message}" lacks "${fragment}"`);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}

export async function expectSocketError(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: Error & { code?: string }) => {
    assert.ok(error instanceof Error);
    return true;
  });
}

/**
 * Mocha hooks for a suite: one sandbox (results complete after 50 ms, two projects) reset before
 * each test; sandboxes from `startExtra` close after each test. `use` receives the sandbox once
 * it runs.
 */
export function useSandbox(use: (sb: Sandbox) => void) {
  let sb: Sandbox;
  const extra: Sandbox[] = [];

  before(async () => {
    sb = await startSandbox({ completionDelayMs: 50, projectIds: [PID, OTHER_PID] });
    use(sb);
  });
  beforeEach(() => {
    sb.state.reset();
  });
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((s) => s.close()));
  });
  after(async () => {
    await sb.close();
    const open = dispatcher;
    dispatcher = undefined;
    await open?.close();
  });

  return {
    async startExtra(opts: SandboxOptions): Promise<Sandbox> {
      const started = await startSandbox(opts);
      extra.push(started);
      return started;
    },

    async createJob(ref: string, profile: 'v0' | 'v1' = 'v1', extraFields: Record<string, unknown> = {}): Promise<Json> {
      const res = await call(sb.url, 'POST', jobsPath(profile), { body: jobBody(ref, extraFields) });
      assert.equal(res.status, 200, res.text);
      return res.json.data;
    },

    async createBatch(name: string, pid = PID): Promise<string> {
      const res = await call(sb.url, 'POST', `/v1/projects/${enc(pid)}/batch`, { body: { name } });
      assert.equal(res.status, 200, res.text);
      return res.json.data.batch_id;
    },
  };
}
