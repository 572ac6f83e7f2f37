/** The playment-sandbox command: its flags, and one run as a child process. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { request } from 'undici';
import { parseCliArgs } from '../../src/sandbox/cli-args';
import { PID } from '../support/sandbox-http';

describe('playment-sandbox CLI', () => {
  it('parses flags with defaults, repeated and comma-separated lists', () => {
    assert.deepEqual(parseCliArgs([]), { kind: 'run', options: { host: '127.0.0.1', port: 4010 } });
    assert.deepEqual(
      parseCliArgs([
        '--port',
        '0',
        '--host',
        '0.0.0.0',
        '--api-key',
        'a,b',
        '--api-key',
        'c',
        '--project',
        'p1',
        '--project',
        'p2,p3',
        '--completion-delay',
        '250',
        '--rate-limit',
        '20',
      ]),
      {
        kind: 'run',
        options: {
          host: '0.0.0.0',
          port: 0,
          apiKeys: ['a', 'b', 'c'],
          projectIds: ['p1', 'p2', 'p3'],
          completionDelayMs: 250,
          rateLimitPerSecond: 20,
        },
      },
    );
    assert.deepEqual(parseCliArgs(['--help']), { kind: 'help' });
  });

  it('rejects bad values without echoing them', () => {
    assert.throws(() => parseCliArgs(['--port', '70000']), /--port/);
    assert.throws(() => parseCliArgs(['--port', 'abc']), /--port/);
    assert.throws(() => parseCliArgs(['--rate-limit', '-1']), /--rate-limit/);
    assert.throws(() => parseCliArgs(['--unknown']), /unknown/i);
    assert.throws(
      () => parseCliArgs(['--api-key', 'k', 'super-secret']),
      (error: Error) => !error.message.includes('super-secret'),
    );
  });

  it('prints one listening line without the keys and exits 0 on SIGTERM', async function () {
    this.timeout(20_000);
    const cli = path.join(__dirname, '..', '..', 'src', 'sandbox', 'cli.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', '--api-key', 'cli-secret-key'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.includes('\n')) resolve(stdout);
      });
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    const match = /^Playment sandbox listening on (http:\/\/127\.0\.0\.1:(\d+)) \(storage http:\/\/127\.0\.0\.1:\d+\)\n$/.exec(line);
    assert.ok(match, line);
    assert.ok(!line.includes('cli-secret-key'));

    const res = await request(`${match[1]}/v1/projects/${PID}/details`, { headers: { 'x-api-key': 'cli-secret-key' } });
    assert.equal(res.statusCode, 200);
    await res.body.dump();

    const exitCode = await new Promise<number | null>((resolve) => {
      child.removeAllListeners('exit');
      child.on('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    });
    assert.equal(exitCode, 0);
    assert.equal(stdout, line, 'exactly one line on stdout');
  });
});
