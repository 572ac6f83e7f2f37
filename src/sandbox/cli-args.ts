// Command-line parsing for playment-sandbox, kept apart from cli.ts so it can be unit-tested
// without starting a process.
import { parseArgs } from 'node:util';
import type { SandboxOptions } from './types';
import { PROBE_RESULT_TTL_MS, PROBE_TIMEOUT_MS } from './url-check';

export const DEFAULT_CLI_PORT = 4010;

export const USAGE = `Usage: playment-sandbox [options]

Local HTTP server that behaves like the Playment / GT Studio API (v0 and v1 paths, and the
paths of Playment's Python SDK: /projectsvc/projects/{id}/jobs and /v0/projects/{id}/stats).

Options:
  --port N               API port (default ${DEFAULT_CLI_PORT}; 0 picks a free port)
  --host H               interface to bind (default 127.0.0.1)
  --api-key K            accepted x-api-key (repeatable or comma-separated; default sandbox-key)
  --project P            known project id (repeatable or comma-separated; default demo-project)
  --workflow W           known tag / work_flow_id (repeatable or comma-separated); a job naming
                         another one is refused with FS_0005 (default: any non-empty value)
  --check-urls           refuse a job with FS_0007 when the host of one of its http(s) URLs does
                         not resolve or accept a connection within ${PROBE_TIMEOUT_MS / 1000} s (results cached per
                         host for ${PROBE_RESULT_TTL_MS / 1000} s; s3:// and gs:// URLs are not checked; default off)
  --completion-delay MS  jobs report "completed" this long after creation (default 5000)
  --completion-spread-ms MS
                         spread completion times over MS more: the n-th job created completes
                         the delay + MS × frac(n × 0.618…) after creation (default 0)
  --rate-limit N         answer 429 beyond N requests per rolling second (default off)
  --help                 show this help
`;

export type CliOptions = SandboxOptions & { port: number; host: string };
export type CliCommand = { kind: 'help' } | { kind: 'run'; options: CliOptions };

const FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'api-key': { type: 'string', multiple: true },
  project: { type: 'string', multiple: true },
  workflow: { type: 'string', multiple: true },
  'check-urls': { type: 'boolean' },
  'completion-delay': { type: 'string' },
  'completion-spread-ms': { type: 'string' },
  'rate-limit': { type: 'string' },
  help: { type: 'boolean' },
} as const;

/** Throws an Error with a user-facing message on bad input. */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  const values = parseFlags(argv);
  if (values.help) return { kind: 'help' };

  const host = values.host ?? '127.0.0.1';
  if (host.trim() === '') throw new Error('--host must not be empty');
  const options: CliOptions = {
    host,
    port: values.port === undefined ? DEFAULT_CLI_PORT : integerFlag('--port', values.port, 0, 65535),
  };
  const apiKeys = splitList('--api-key', values['api-key']);
  if (apiKeys) options.apiKeys = apiKeys;
  const projectIds = splitList('--project', values.project);
  if (projectIds) options.projectIds = projectIds;
  const workflows = splitList('--workflow', values.workflow);
  if (workflows) options.workflows = workflows;
  if (values['check-urls']) options.checkUrls = true;
  if (values['completion-delay'] !== undefined) {
    options.completionDelayMs = integerFlag('--completion-delay', values['completion-delay'], 0, Number.MAX_SAFE_INTEGER);
  }
  if (values['completion-spread-ms'] !== undefined) {
    options.completionSpreadMs = integerFlag('--completion-spread-ms', values['completion-spread-ms'], 0, Number.MAX_SAFE_INTEGER);
  }
  if (values['rate-limit'] !== undefined) {
    options.rateLimitPerSecond = integerFlag('--rate-limit', values['rate-limit'], 0, 1_000_000);
  }
  return { kind: 'run', options };
}

function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // Node echoes a stray positional verbatim, and that could be a mistyped API key.
    if ((error as { code?: string }).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      // eslint-disable-next-line preserve-caught-error -- the cause quotes the argument, which may be a key
      throw new Error('unexpected positional argument (every option is --flag value)');
    }
    throw error;
  }
}

/** ['a,b', 'c'] → ['a', 'b', 'c']; undefined when the flag was not given. */
function splitList(name: string, values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const items = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (items.length === 0) throw new Error(`${name} needs at least one non-empty value`);
  return items;
}

function integerFlag(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}
