// The Node-RED Flow Library scorecard: `node-red-dev validate` on the packed tarball, as the
// Flow Library runs it. The catalogue look-ups (P08, N01) are answered with an empty catalogue,
// because catalogue.nodered.org cannot be reached offline; the README says so.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ACTION_TYPES } from '../../src/demo/flows';
import { PKG, QUIET_INSTALL, ROOT, npm, packOnce, run } from '../support/npm';

const NODE_RED_DEV = 'node-red-dev@0.1.6';

interface Check {
  test: boolean;
  packages?: string[];
  nodes?: string[];
}
type Scorecard = Record<string, Check>;

describe('node-red-dev validate (the Flow Library scorecard)', function () {
  let tmp: string;
  let scorecard: Scorecard;
  let output: string;
  /** semver as node-red-dev uses it. */
  let semver: { satisfies(version: string, range: string): boolean };

  before(async function () {
    tmp = mkdtempSync(path.join(tmpdir(), 'playment-validate-'));
    const { tarball } = await packOnce();
    const packageDir = path.join(tmp, 'package');
    const untar = await run('tar', ['-xzf', tarball, '-C', tmp], tmp);
    assert.equal(untar.code, 0, untar.stderr);

    const toolDir = path.join(tmp, 'tool');
    mkdirSync(toolDir);
    await npm(['install', NODE_RED_DEV, '--no-save', '--ignore-scripts', ...QUIET_INSTALL], toolDir);
    semver = createRequire(path.join(toolDir, 'node_modules', 'node-red-dev', 'package.json'))('semver') as typeof semver;
    const scoreFile = path.join(tmp, 'scorecard.json');
    const res = await run(path.join(toolDir, 'node_modules', '.bin', 'node-red-dev'), ['validate', '-o', scoreFile], packageDir, {
      NODE_OPTIONS: `--require ${path.join(__dirname, 'catalogue-stand-in.cjs')}`,
    });
    output = `${res.stdout}\n${res.stderr}`;
    assert.equal(res.code, 0, output);
    scorecard = JSON.parse(readFileSync(scoreFile, 'utf8')) as Scorecard;
  });

  after(function () {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('reads every node definition from the editor files', function () {
    assert.ok(!/Unable to parse/.test(output), output);
    // N02 lists the non-config nodes it found in the editor files and in the examples.
    assert.deepEqual([...(scorecard.N02?.nodes ?? [])].sort(), [...ACTION_TYPES].sort());
  });

  it('passes the package and node checks', function () {
    for (const id of ['P01', 'P03', 'P04', 'P05', 'P06', 'P07', 'P08', 'N01', 'N02']) {
      assert.equal(scorecard[id]?.test, true, `${id} failed:\n${output}`);
    }
  });

  it('passes the dependency checks, except a newer major that drops Node.js 20', async function () {
    assert.equal(scorecard.D01?.test, true, `D01 (at most 6 dependencies) failed:\n${output}`);
    assert.equal(scorecard.D02?.test, true, `D02 (no incompatible packages) failed:\n${output}`);
    // D03 wants the latest version of every dependency. One whose latest release no longer runs on
    // the oldest Node.js we support is kept back on purpose; any other is a real failure.
    const minimum = PKG.engines.node.replace(/^>=\s*/, '');
    for (const dep of scorecard.D03?.packages ?? []) {
      const engines = JSON.parse(await npm(['view', `${dep}@latest`, 'engines', '--json'], ROOT)) as { node?: string };
      assert.ok(engines.node, `${dep}: not at its latest version, and the latest does not restrict Node.js`);
      assert.ok(!semver.satisfies(minimum, engines.node), `${dep}@latest supports Node.js ${minimum}; update it`);
    }
  });
});
