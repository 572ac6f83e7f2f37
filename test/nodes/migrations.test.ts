/**
 * Saved-flow versions: `migrate` upgrades a node's saved properties (version 0: saved before
 * nodes had a version, by 0.1.0 or since), and flows saved that way run in a real runtime: the
 * examples as they are today work as before, and 0.1.0's values today's ranges refuse are upgraded.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Sandbox } from '../../src/sandbox/server';
import { NODE_TYPES, currentVersion, migrate } from '../../src/nodes/common/migrations';
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

    it('reads a blank number of the config node as its default, as 0.1.0 did', () => {
      const saved = { id: 'c', projectId: 'p', requestTimeout: '', connectTimeout: ' ', maxRetries: 2, maxQueue: 1000, rateLimit: '' };
      assert.deepEqual(migrate('playment-config', saved), { id: 'c', projectId: 'p', maxRetries: 2, maxQueue: 1000, version: 1 });
    });

    it("upgrades the job-result node's poll interval and maximum wait as 0.1.0 read them", () => {
      const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
        // Below 1 s: 0.1.0 polled that fast; now the interval is at least 1 s.
        [{ pollInterval: 0.5 }, { pollInterval: 1 }],
        [{ pollInterval: '0.25' }, { pollInterval: 1 }],
        // Blank, not a number, 0 or less: 0.1.0 used the default.
        [{ pollInterval: '', maxWait: '' }, {}],
        [{ pollInterval: 'often', maxWait: 0 }, {}],
        [{ pollInterval: -3, maxWait: '-1' }, {}],
        // Values 0.1.0 read as they are stay, also when today's ranges refuse them (a clear error then).
        [{ pollInterval: '10', maxWait: 1000 }, { pollInterval: '10', maxWait: 1000 }],
        // maxResultSize came later: not touched.
        [{ maxResultSize: '' }, { maxResultSize: '' }],
      ];
      for (const [saved, upgraded] of cases) {
        assert.deepEqual(migrate('playment-job-result', { mode: 'wait', ...saved }), { mode: 'wait', ...upgraded, version: 1 }, JSON.stringify(saved));
      }
    });

    it('leaves properties saved at the current version, or a newer one, as they are', () => {
      const current = { pollInterval: 0.5, maxWait: '', version: 1 };
      assert.deepEqual(migrate('playment-job-result', current), current);
      assert.deepEqual(migrate('playment-config', { requestTimeout: '', version: '1' }), { requestTimeout: '', version: 1 });
      const newer = { pollInterval: 0.5, somethingNew: true, version: 7 };
      assert.deepEqual(migrate('playment-job-result', newer), newer);
    });

    it('does not change its input, and gives the same properties when run again without the version', () => {
      const saved = { id: 'r', pollInterval: 0.5, maxWait: '' };
      const copy = structuredClone(saved);
      const once = migrate('playment-job-result', saved);
      assert.deepEqual(saved, copy);
      const { version: _v, ...withoutVersion } = once;
      assert.deepEqual(migrate('playment-job-result', withoutVersion), once);
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
        .map(({ z: _z, config: _config, ...n }) => ({ ...n, wires: n.wires.map((w: string[]) => w.filter((id) => nodes.some((m) => m.id === id && types.includes(m.type)))) }));
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
      assert.deepEqual(rec.caught.map((m) => m.error), []);
      assert.deepEqual(rec.outputs.map((m) => m.payload.status), ['completed', 'completed']);
      for (const out of rec.outputs) assert.ok(Array.isArray(out.payload.annotations), 'annotations read');
      assert.equal(sandbox.state.routeCounts['job.create'], 2);
    });

    it('loads every example without a node that is not usable', async () => {
      for (const { file } of examples) {
        const { config, nodes } = fromExample(file, ['playment-create-batch', 'playment-submit-video-job', 'playment-job-result']);
        await loadFlow(sandbox, nodes, { config, projectId: PROJECT });
        for (const n of nodes) {
          const rings = helper.getNode(n.id).status.args.map((a: any[]) => a[0]).filter((s: any) => s.fill === 'red');
          assert.deepEqual(rings, [], `${file}: ${n.type}`);
        }
        await helper.unload();
      }
    });

    it('runs a flow 0.1.0 saved with a blank timeout and a poll interval below 1 s, as 0.1.0 did', async () => {
      const rec = await loadFlow(
        sandbox,
        [
          { id: 'n1', type: 'playment-submit-video-job', tag: 'track_bounding_boxes', tagType: 'str', wires: [['r']] },
          { id: 'r', type: 'playment-job-result', jobId: '', jobIdType: 'str', mode: 'wait', pollInterval: 0.5, maxWait: '', download: false, wires: [['out']] },
        ],
        { config: { requestTimeout: '', maxQueue: 1000 } },
      );
      inject({ payload: ['https://cdn.example.com/old/f1.jpg', 'https://cdn.example.com/old/f2.jpg'] });
      await rec.settled(1);
      assert.deepEqual(rec.caught.map((m) => m.error), []);
      assert.equal(rec.outputs[0].payload.status, 'completed');
    });

    it('still refuses those values in a node saved with a version', async () => {
      const rec = await loadFlow(sandbox, [{ id: 'n1', type: 'playment-job-result', mode: 'once', pollInterval: 0.5, version: 1, wires: [['out']] }]);
      const rings = helper.getNode('n1').status.args.map((a: any[]) => a[0]).filter((s: any) => s.fill === 'red');
      assert.equal(rings.length, 1, 'a red ring from the start');
      inject({ job_id: 'any' });
      await rec.settled(1);
      assert.equal(rec.caught[0]?.error.code, 'NOT_CONFIGURED');
      assert.match(rec.caught[0].error.message, /pollInterval: must be a number from 1 to 86,400 \(seconds\); got 0\.5/);
    });
  });
});
