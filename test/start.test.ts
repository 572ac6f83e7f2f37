// `npm start`, as a user runs it: the compiled demo script starts the sandbox and a Node-RED
// process, deploys the demo flow, prints job ids and then results, and stops both on Ctrl-C.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './support/node-red-process';
import { waitFor } from './support/wait';
import { ROOT } from './support/npm';

describe('npm start (the demo)', function () {
  this.timeout(90_000);

  it('submits two jobs, prints their ids and results, and stops cleanly on SIGINT', async function () {
    const demoDir = mkdtempSync(path.join(tmpdir(), 'playment-demo-'));
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'demo', 'start.js')], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), PLAYMENT_DEMO_DIR: demoDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor('the editor URL', () => stdout.includes(`Node-RED editor    http://127.0.0.1:${port}/`), 60_000);
      const jobIds = await waitFor(
        'two job lines',
        () => {
          const ids = [...stdout.matchAll(/job ([0-9a-f-]{36}) {2}reference nr-[0-9a-f]{32} {2}batch [0-9a-f-]{36}/g)].map((m) => m[1]);
          return ids.length >= 2 && ids;
        },
        30_000,
      );
      for (const id of jobIds) await waitFor(`the result of ${id}`, () => stdout.includes(`result for job ${id}: completed`), 40_000);
      assert.ok(!/\[(error|warn)\]/.test(stdout), stdout);

      child.kill('SIGINT');
      assert.equal(await exited, 0, stderr);
      assert.match(stdout, /Stopped\.\s*$/);
      // The key reached Node-RED as ${PLAYMENT_API_KEY}; the flow file holds only that reference.
      const flows = readFileSync(path.join(demoDir, 'userdir', 'flows.json'), 'utf8');
      assert.ok(flows.includes('playment-config'));
      assert.ok(!/apiKey/.test(flows), 'flows.json holds a key field');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(demoDir, { recursive: true, force: true });
    }
  });
});
