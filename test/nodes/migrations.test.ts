/**
 * Saved-flow versions: `migrate` upgrades a node's saved properties step by step (version 0:
 * saved before nodes had a version), and flows saved that way run in a real runtime as before:
 * the examples as they are today, and a value today's ranges refuse.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Sandbox } from '../../src/sandbox/server';
import { NODE_TYPES, currentVersion, migrate, upgrade, type Step } from '../../src/nodes/common/migrations';
import { PROJECT, helper, inject, loadFlow, useSandboxRuntime } from '../support/harness';

const ROOT = path.resolve(__dirname, '../..');
const examples = readdirSync(path.join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, nodes: JSON.parse(readFileSync(path.join(ROOT, 'examples', f), 'utf8')) as any[] }));

describe('saved-flow versions', () => {
  describe('migrate', () => {
    it('the editor saves the version the runtime reads, for every node type', () => {
      for (const type of NODE_TYPES) {
        const html = readFileSync(path.join(ROOT, 'nodes', `${type}.html`), 'utf8');
        const saved = /^\s*version: \{ value: (\d+) \},$/m.exec(html);
        assert.ok(saved, `${type}.html has a version default`);
        assert.equal(Number(saved[1]), currentVersion(type), type);
      }
    });

    it('leaves every node of the examples (saved today, without a version) as it is, version added', () => {
      let count = 0;
      for (const { file, nodes } of examples) {
        for (const node of nodes.filter((n) => (NODE_TYPES as readonly string[]).includes(n.type))) {
          assert.deepEqual(migrate(node.type, node), { ...node, version: 1 }, `${file}: ${node.type}`);
          count++;
        }
      }
      assert.ok(count >= 10, `${count} nodes checked`);
    });

    it('runs the steps from the saved version on, in order, and stamps the last version', () => {
      const steps: Step[] = [0, 1, 2].map((n) => (p) => ({ ...p, ran: [...((p.ran as number[]) ?? []), n] }));
      assert.deepEqual(upgrade(steps, { a: 1 }), { a: 1, ran: [0, 1, 2], version: 3 });
      assert.deepEqual(upgrade(steps, { a: 1, version: 2 }), { a: 1, ran: [2], version: 3 });
      assert.deepEqual(upgrade(steps, { a: 1, version: '1' }), { a: 1, ran: [1, 2], version: 3 });
      // Not a whole number from 0: saved before versions existed.
      assert.deepEqual(upgrade(steps, { a: 1, version: 'x' }), { a: 1, ran: [0, 1, 2], version: 3 });
      assert.deepEqual(upgrade(steps, { a: 1, version: -1 }), { a: 1, ran: [0, 1, 2], version: 3 });
      assert.deepEqual(upgrade(steps, { a: 1, version: 1.5 }), { a: 1, ran: [0, 1, 2], version: 3 });
      assert.deepEqual(upgrade(steps, { a: 1, version: 3 }), { a: 1, version: 3 });
    });

    it('leaves properties saved at the current version, or a newer one, as they are', () => {
      const current = { pollInterval: 0.5, maxWait: '', version: 1 };
      assert.deepEqual(migrate('playment-job-result', current), current);
      const newer = { pollInterval: 0.5, somethingNew: true, version: 7 };
      assert.deepEqual(migrate('playment-job-result', newer), newer);
    });

    it('does not change its input', () => {
      const steps: Step[] = [(p) => Object.assign(p, { changed: true })];
      const saved = { id: 'r', pollInterval: 0.5 };
      assert.deepEqual(upgrade(steps, saved), { id: 'r', pollInterval: 0.5, changed: true, version: 1 });
      assert.deepEqual(saved, { id: 'r', pollInterval: 0.5 });
    });
  });

  describe('in a runtime', function () {
    this.timeout(30_000);
    let sandbox!: Sandbox;
    useSandboxRuntime({ completionDelayMs: 0 }, (s) => (sandbox = s));

    /** An example's nodes of `types`, on the test tab, using the test config node. */
    function fromExample(file: string, types: string[]): { config: Record<string, unknown>; nodes: any[] } {
      const nodes = examples.find((e) => e.file === file)!.nodes;
      const { id: _id, type: _type, baseUrl: _url, projectId: _project, ...config } = nodes.find((n) => n.type === 'playment-config');
      const kept = nodes
        .filter((n) => types.includes(n.type))
        .map(({ z: _z, config: _config, ...n }) => ({
          ...n,
          wires: n.wires.map((w: string[]) => w.filter((id) => nodes.some((m) => m.id === id && types.includes(m.type)))),
        }));
      return { config, nodes: kept };
    }

    it('runs the example "Wait for results and write annotations" as saved today: jobs created, waited for, annotations read', async () => {
      const file = 'Wait for results and write annotations.json';
      const { config, nodes } = fromExample(file, ['playment-create-batch', 'change', 'playment-submit-video-job', 'playment-job-result']);
      const result = nodes.find((n) => n.type === 'playment-job-result');
      result.wires = [['out']];
      const rec = await loadFlow(sandbox, nodes, { config, projectId: PROJECT });
      // The message its inject node sends.
      const start = examples.find((e) => e.file === file)!.nodes.find((n) => n.type === 'inject');
      const sequences = JSON.parse(start.props.find((p: any) => p.p === 'sequences').v);
      inject({ payload: start.payload, sequences }, nodes.find((n) => n.type === 'playment-create-batch').id);
      await rec.settled(2);
      assert.deepEqual(
        rec.caught.map((m) => m.error),
        [],
      );
      assert.deepEqual(
        rec.outputs.map((m) => m.payload.status),
        ['completed', 'completed'],
      );
      for (const out of rec.outputs) assert.ok(Array.isArray(out.payload.annotations), 'annotations read');
      assert.equal(sandbox.state.routeCounts['job.create'], 2);
    });

    it('loads every example without a node that is not usable', async () => {
      for (const { file } of examples) {
        const { config, nodes } = fromExample(file, ['playment-create-batch', 'playment-submit-video-job', 'playment-job-result']);
        await loadFlow(sandbox, nodes, { config, projectId: PROJECT });
        for (const n of nodes) {
          const rings = helper
            .getNode(n.id)
            .status.args.map((a: any[]) => a[0])
            .filter((s: any) => s.fill === 'red');
          assert.deepEqual(rings, [], `${file}: ${n.type}`);
        }
        await helper.unload();
      }
    });

    // 0.1.0 polled that fast; today such a node is not usable, with or without a version.
    for (const version of [undefined, 1]) {
      it(`refuses a poll interval below 1 s as before, in a node saved ${version ? 'with' : 'without'} a version`, async () => {
        const rec = await loadFlow(sandbox, [
          { id: 'n1', type: 'playment-job-result', mode: 'once', pollInterval: 0.5, version, wires: [['out']] },
        ]);
        const rings = helper
          .getNode('n1')
          .status.args.map((a: any[]) => a[0])
          .filter((s: any) => s.fill === 'red');
        assert.equal(rings.length, 1, 'a red ring from the start');
        inject({ job_id: 'any' });
        await rec.settled(1);
        assert.equal(rec.caught[0]?.error.code, 'NOT_CONFIGURED');
        assert.match(rec.caught[0].error.message, /pollInterval: must be a number from 1 to 86,400 \(seconds\); got 0\.5/);
      });
    }
  });
});
