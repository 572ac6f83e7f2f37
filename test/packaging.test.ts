// Packaging, end to end: `npm pack` the repository, install the tarball into a fresh Node-RED
// user directory, run a real Node-RED process on it, deploy the demo flow and the examples
// through the Admin API against an in-process sandbox, and check where the API key ends up.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CONFIG_TYPE,
  DEMO_EXAMPLE,
  NODE_TYPES,
  demoFlow,
  exampleTitles,
  isFlowNode,
  readExample,
  toDeployable,
  type FlowNode,
} from '../src/demo/flows';
import { DEFAULT_PROJECT_ID as PROJECT, startSandbox, type Sandbox } from '../src/sandbox/server';
import { assertOurNodesLoaded, logProblems, startNodeRed, waitForDemoRun, type NodeRedProcess } from './support/node-red-process';
import { PKG, ROOT, installIntoUserDir, packOnce, type Packed } from './support/npm';
import { waitFor } from './support/wait';

const EXPECTED_EXAMPLES = [
  'Create a batch and submit video jobs',
  'Dry run a submission',
  'GCS listing to one job per folder',
  'Local folder served over HTTPS to one job per folder',
  'S3 listing to one job per folder',
  'Scale out over MQTT',
  'Submit frame lists read from a file',
  'Wait for results and write annotations',
  'Watch a batch and show its progress',
  'Write YOLO labels and a CSV of rows',
];

/** Every string value anywhere in `value`. */
function containsKeyDeep(value: unknown, key: string): boolean {
  return JSON.stringify(value).includes(key);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function jsonString(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

describe('packaging: the npm tarball in a real Node-RED', function () {
  this.timeout(180_000);

  const apiKey = `pk-${randomBytes(16).toString('hex')}`;
  let tmp: string;
  let packed: Packed & { tarball: string };
  let userDir: string;
  let sandbox: Sandbox | undefined;
  let nodeRed: NodeRedProcess | undefined;

  before(async function () {
    tmp = mkdtempSync(path.join(tmpdir(), 'playment-pack-'));
    packed = await packOnce();
    userDir = await installIntoUserDir(path.join(tmp, 'userdir'), packed.tarball);
    sandbox = await startSandbox({ apiKeys: [apiKey], projectIds: [PROJECT], completionDelayMs: 1000 });
    nodeRed = await startNodeRed({ userDir, credentialSecret: randomBytes(16).toString('hex') });
  });

  after(async function () {
    await nodeRed?.stop();
    await sandbox?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('packs the built nodes with their editor files, icons, locales and examples, and no sources or tests', function () {
    const files = new Set(packed.files.map((f) => f.path.replace(/\\/g, '/')));
    assert.ok(files.has('package.json'));
    for (const [type, js] of Object.entries(PKG['node-red'].nodes)) {
      assert.ok(files.has(js), `${type}: ${js} is missing`);
      assert.ok(files.has(js.replace(/\.js$/, '.html')), `${type}: its .html is missing`);
    }
    for (const icon of readdirSync(path.join(ROOT, 'nodes', 'icons'))) {
      assert.ok(files.has(`dist/nodes/icons/${icon}`), `icon ${icon} is missing`);
    }
    for (const lang of readdirSync(path.join(ROOT, 'nodes', 'locales'))) {
      for (const f of readdirSync(path.join(ROOT, 'nodes', 'locales', lang))) {
        assert.ok(files.has(`dist/nodes/locales/${lang}/${f}`), `locale ${lang}/${f} is missing`);
      }
    }
    // Node-RED serves the package's top-level resources/ folder to the editor; limits.js is built.
    for (const f of new Set([...readdirSync(path.join(ROOT, 'resources')), 'editor.js', 'limits.js'])) {
      assert.ok(files.has(`resources/${f}`), `resources/${f} is missing`);
    }
    for (const title of EXPECTED_EXAMPLES) assert.ok(files.has(`examples/${title}.json`), `example "${title}" is missing`);
    const unwanted = [...files].filter(
      (f) =>
        /^(src|test|\.demo|node_modules|dist\/demo|dist\/build)\//.test(f) || (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)) || /\.tgz$/.test(f),
    );
    assert.deepEqual(unwanted, []);
  });

  it('ships valid example flows: core nodes and ours only, a comment, the sandbox config, no credentials', function () {
    assert.deepEqual(exampleTitles(), EXPECTED_EXAMPLES);
    const covered = new Set<string>();
    for (const title of EXPECTED_EXAMPLES) {
      const nodes = readExample(title);
      const where = `example "${title}"`;
      assert.ok(nodes.length > 0, `${where} is empty`);
      const ids = new Map(nodes.map((n) => [n.id, n]));
      assert.equal(ids.size, nodes.length, `${where} has duplicate ids`);
      assert.ok(!containsKeyDeep(nodes, '"credentials"'), `${where} holds credentials`);
      assert.ok(
        nodes.some((n) => n.type === 'comment' && String(n.info ?? '').length > 0),
        `${where} has no comment explaining it`,
      );
      const configs = nodes.filter((n) => n.type === CONFIG_TYPE);
      assert.equal(configs.length, 1, `${where} needs exactly one playment-config node`);
      const [config] = configs;
      assert.equal(config.baseUrl, 'http://127.0.0.1:4010');
      assert.equal(config.projectId, PROJECT);
      assert.equal(config.apiVersion, 'v0');
      assert.equal(config.z, undefined, `${where}: the config node must be global (no z)`);
      assert.equal(config.apiKey, undefined);
      const tabs = new Set<string>();
      for (const n of nodes) {
        assert.equal(typeof n.id, 'string');
        assert.equal(typeof n.type, 'string');
        covered.add(n.type);
        if (n.type === CONFIG_TYPE) continue;
        // The MQTT example's broker connection: a core config node, global like ours.
        if (n.type === 'mqtt-broker') {
          assert.equal(n.z, undefined, `${where}: the mqtt-broker config node must be global (no z)`);
          continue;
        }
        assert.ok(isFlowNode(n), `${where}: ${n.type} ${n.id} has no x/y`);
        assert.equal(typeof n.z, 'string', `${where}: ${n.type} ${n.id} has no z`);
        tabs.add(n.z!);
        assert.ok(Array.isArray(n.wires), `${where}: ${n.type} ${n.id} has no wires`);
        for (const target of n.wires!.flat()) assert.ok(ids.has(target), `${where}: ${n.id} is wired to missing ${target}`);
        if (n.type.startsWith('playment-')) assert.equal(n.config, config.id, `${where}: ${n.id} does not use the config node`);
      }
      assert.equal(tabs.size, 1, `${where}: nodes on more than one tab`);
    }
    // Flow Library scorecard N02: every non-config node appears in an example.
    for (const type of NODE_TYPES) assert.ok(covered.has(type), `no example uses ${type}`);
  });

  it('loads the four node types from the installed module, with its examples', async function () {
    const nr = nodeRed!;
    const sets = await assertOurNodesLoaded(nr);

    const mod = await nr.request('GET', `/nodes/${PKG.name}`, undefined, { accept: 'application/json' });
    assert.equal(mod.status, 200);
    assert.equal(mod.json.user, true, 'the module should be listed in the user directory package.json');
    assert.equal(path.resolve(mod.json.path), path.resolve(userDir, 'node_modules', PKG.name), 'loaded from the wrong place');

    // The editor gets each node's help from locales/en-US/<node>.html, and its scripts from resources/.
    const configs = await nr.request('GET', '/nodes', undefined, { accept: 'text/html' });
    assert.equal(configs.status, 200);
    for (const type of NODE_TYPES) {
      assert.ok(configs.text.includes(`data-help-name="${type}"`), `no help for ${type}`);
    }
    for (const file of ['editor.js', 'limits.js']) {
      const res = await nr.request('GET', `/resources/${PKG.name}/${file}`);
      assert.equal(res.status, 200, `resources/${file}`);
      assert.match(res.text, /PlaymentEditor/);
    }

    const examples = await nr.request('GET', `/library/examples/flows/${PKG.name}`);
    assert.equal(examples.status, 200);
    assert.deepEqual((examples.json as Array<{ fn: string }>).map((e) => e.fn).sort(), EXPECTED_EXAMPLES);

    // Every type an example uses is registered by Node-RED itself or by this package.
    const known = new Map<string, string>();
    for (const s of sets) for (const t of s.types) known.set(t, s.module);
    for (const title of EXPECTED_EXAMPLES) {
      for (const n of readExample(title)) {
        assert.ok(['node-red', PKG.name].includes(known.get(n.type) ?? ''), `example "${title}" uses ${n.type} (${known.get(n.type)})`);
      }
    }
  });

  it('runs the demo flow and every example against the sandbox', async function () {
    const nr = nodeRed!;
    const sb = sandbox!;
    const annotationsDir = path.join(tmp, 'annotations');
    const framesFile = path.join(tmp, 'frames.txt');
    const localFramesFile = path.join(tmp, 'local-frames.txt');
    const yoloDir = path.join(tmp, 'yolo');
    const rowsFile = path.join(tmp, 'rows.csv');

    // The demo flow holds the "Create a batch…" example unchanged; it runs once on deploy.
    const flow: FlowNode[] = demoFlow({ baseUrl: sb.url, apiKey, projectId: PROJECT, runOnce: true, pollInterval: 1 });
    const tabIds = new Set(flow.filter((n) => n.type === 'tab').map((n) => n.id));
    for (const [i, title] of EXPECTED_EXAMPLES.entries()) {
      if (title === DEMO_EXAMPLE) continue;
      // Files go to the test's temporary directory; debug output goes to the console, where the test reads it.
      const text = JSON.stringify(readExample(title))
        .replaceAll('/tmp/frames.txt', jsonString(framesFile))
        .replaceAll('/tmp/local-frames.txt', jsonString(localFramesFile))
        .replaceAll('/tmp/playment-annotations/', jsonString(`${annotationsDir}${path.sep}`))
        .replaceAll('/tmp/playment-yolo/', jsonString(`${yoloDir}${path.sep}`))
        .replaceAll('/tmp/playment-rows.csv', jsonString(rowsFile));
      const nodes = (JSON.parse(text) as FlowNode[]).map((n) => {
        if (n.type === 'debug') return { ...n, console: true };
        if (n.type === 'playment-job-result') return { ...n, pollInterval: 1 };
        return n;
      });
      for (const n of toDeployable(nodes, { baseUrl: sb.url, apiKey, tabId: `example-${i}`, tabLabel: title })) {
        if (n.type === 'tab') tabIds.add(n.id);
        // The examples share one config node: deploy it once.
        if (!flow.some((m) => m.id === n.id)) flow.push(n);
      }
    }
    assert.equal(tabIds.size, EXPECTED_EXAMPLES.length);
    await nr.deploy(flow);

    const byName = (title: string, name: string) => {
      const id = readExample(title).find((n) => n.name === name)?.id;
      assert.ok(id, `example "${title}" has no node named ${name}`);
      return id;
    };
    const inject = async (title: string, name: string) => {
      const res = await nr.request('POST', `/inject/${byName(title, name)}`);
      assert.equal(res.status, 200, `inject ${name}: HTTP ${res.status} ${res.text}`);
    };
    const batchNamed = (name: string) => sb.state.batches(PROJECT).find((b) => b.name === name);
    const jobsWithFramesFrom = (drive: string) => sb.state.jobs().filter((j) => j.frames[0]?.src.includes(`/${drive}/`));

    // "Create a batch and submit video jobs" (+ the demo's result polling).
    const { batch: demoBatch, jobs: demoJobs } = await waitForDemoRun(nr, sb, 'Drive 01 and 02 (example)');
    for (const job of demoJobs) {
      assert.equal(job.tag, 'track_bounding_boxes');
      assert.equal(job.frames.length, 6);
      assert.ok(nr.output().includes(`job ${job.jobId}  reference ${job.referenceId}  batch ${demoBatch.batchId}`));
    }

    // "Submit frame lists read from a file": write the sample, then its 25 lines are one sequence,
    // split into parts of 10, 10 and 5 frames, in file order, named <base>-part-1..3.
    await inject('Submit frame lists read from a file', '1. write sample');
    await waitFor('the sample frame list', () => existsSync(framesFile) && readFileSync(framesFile, 'utf8').split('\n').length > 25);
    await inject('Submit frame lists read from a file', '2. submit');
    const fileJobs = await waitFor(
      'three jobs from the file',
      () => jobsWithFramesFrom('drive-03').length >= 3 && jobsWithFramesFrom('drive-03'),
      15_000,
    );
    const fileParts = fileJobs.map((j) => [j.referenceId, j.frames.map((f) => f.frame_id)] as const).sort(([a], [b]) => a.localeCompare(b));
    const base = fileParts[0][0].replace(/-part-1$/, '');
    const sampleIds = Array.from({ length: 25 }, (_, i) => `frame_${String(i + 1).padStart(4, '0')}.jpg`);
    assert.deepEqual(fileParts, [
      [`${base}-part-1`, sampleIds.slice(0, 10)],
      [`${base}-part-2`, sampleIds.slice(10, 20)],
      [`${base}-part-3`, sampleIds.slice(20)],
    ]);
    const defaultBatch = sb.state.batches(PROJECT).find((b) => b.isDefault);
    for (const job of fileJobs) assert.equal(job.batchId, defaultBatch?.batchId);

    // "Wait for results and write annotations": one JSON file per job.
    await inject('Wait for results and write annotations', 'start');
    const resultJobs = await waitFor('two jobs for the results example', () => {
      const jobs = [...jobsWithFramesFrom('drive-04'), ...jobsWithFramesFrom('drive-05')];
      return jobs.length >= 2 && jobs;
    });
    assert.equal(resultJobs[0].batchId, batchNamed('Drive 04 and 05 (example)')?.batchId);
    for (const job of resultJobs) {
      const file = path.join(annotationsDir, `${job.jobId}.json`);
      const written = await waitFor(`${file}`, () => {
        try {
          return JSON.parse(readFileSync(file, 'utf8')) as { job_id: string; status: string; annotations: unknown[] };
        } catch {
          return undefined;
        }
      });
      assert.equal(written.job_id, job.jobId);
      assert.equal(written.status, 'completed');
      assert.ok(Array.isArray(written.annotations) && written.annotations.length > 0);
    }

    // "Dry run a submission": three requests shown, nothing sent.
    const before = sb.state.routeCounts['job.create'];
    await inject('Dry run a submission', '10 frames');
    await waitFor('three dry-run outputs', () => (nr.output().match(/\[debug:requests\]/g) ?? []).length >= 3);
    assert.ok(nr.output().includes('dry_run: true'));
    assert.equal(sb.state.routeCounts['job.create'], before);
    assert.deepEqual(jobsWithFramesFrom('drive-06'), []);

    // The three "one job per folder" examples: a job per camera folder, the folder as reference
    // id, image files only, in natural order.
    const folderJobs = async (title: string, ...injects: string[]) => {
      for (const name of injects) await inject(title, name);
      const jobs = await waitFor(
        `two folder jobs of "${title}"`,
        () => {
          const found = jobsWithFramesFrom(title.startsWith('S3') ? 'drive-07' : title.startsWith('GCS') ? 'drive-08' : 'drive-09');
          return found.length >= 2 && found;
        },
        15_000,
      );
      return jobs.map((j) => [j.referenceId, j.frames.map((f) => f.frame_id)] as const).sort(([a], [b]) => a.localeCompare(b));
    };
    assert.deepEqual(await folderJobs('S3 listing to one job per folder', 'sample S3 listing'), [
      ['s3://example-bucket/drives/drive-07/cam-front', ['frame_1.jpg', 'frame_2.jpg', 'frame_10.jpg']],
      ['s3://example-bucket/drives/drive-07/cam-rear', ['frame_1.jpg', 'frame_2.jpg']],
    ]);
    assert.deepEqual(await folderJobs('GCS listing to one job per folder', 'sample GCS listing'), [
      ['gs://example-gcs-bucket/runs/drive-08/cam-front', ['0001.png', '0002.png', '0010.png']],
      ['gs://example-gcs-bucket/runs/drive-08/cam-side', ['0001.png']],
    ]);
    await inject('Local folder served over HTTPS to one job per folder', '1. write sample');
    await waitFor(
      'the sample file list',
      () => existsSync(localFramesFile) && readFileSync(localFramesFile, 'utf8').includes('cam-rear/frame_0002.jpg'),
    );
    assert.deepEqual(await folderJobs('Local folder served over HTTPS to one job per folder', '2. submit'), [
      ['https://frames.example.com/drive-09/cam-front', ['frame_0001.jpg', 'frame_0002.jpg', 'frame_0003.jpg']],
      ['https://frames.example.com/drive-09/cam-rear', ['frame_0001.jpg', 'frame_0002.jpg']],
    ]);

    // "Write YOLO labels and a CSV of rows": per job a label file per frame and classes.txt, and
    // one CSV row per tracker per frame: as many rows as YOLO lines (the sandbox labels Car boxes).
    await inject('Write YOLO labels and a CSV of rows', 'start');
    const yoloJobs = await waitFor('two jobs for the YOLO example', () => {
      const jobs = [...jobsWithFramesFrom('drive-21'), ...jobsWithFramesFrom('drive-22')];
      return jobs.length >= 2 && jobs;
    });
    const readIfThere = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : undefined);
    const written = await waitFor(
      'the label files and the rows of both jobs',
      () => {
        const csv = readIfThere(rowsFile)?.split('\n').filter(Boolean);
        const perJob = yoloJobs.map((job) => {
          const texts = job.frames.map((f) => readIfThere(path.join(yoloDir, job.jobId, `${f.frame_id.replace(/\.[^.]*$/, '')}.txt`)));
          const rows = csv?.filter((row) => row.startsWith(`${job.jobId},`)) ?? [];
          const lines = texts.flatMap((t) => t?.split('\n').filter(Boolean) ?? []);
          const done = texts.every((t) => t !== undefined) && rows.length > 0 && rows.length === lines.length;
          return done && { job, lines, rows, classes: readIfThere(path.join(yoloDir, job.jobId, 'classes.txt')) };
        });
        return csv && perJob.every(Boolean) && { header: csv[0], rows: csv.length - 1, perJob: perJob.filter((j) => j !== false) };
      },
      30_000,
    );
    assert.equal(written.header, 'job_id,reference_id,frame_id,src,tracker_id,label,type,coordinates,attributes');
    assert.equal(
      written.rows,
      written.perJob.reduce((n, j) => n + j.rows.length, 0),
      'the header once, then rows',
    );
    for (const { job, lines, rows, classes } of written.perJob) {
      assert.equal(classes, 'Car\nPedestrian\nTruck\n');
      // Each frame has a box: the first Car spans the clip.
      assert.ok(lines.length >= job.frames.length);
      for (const line of lines) assert.match(line, /^0 [01]\.\d{6} [01]\.\d{6} [01]\.\d{6} [01]\.\d{6}$/);
      for (const row of rows) {
        assert.match(
          row,
          new RegExp(
            `^${job.jobId},${escapeRegExp(job.referenceId)},frame_\\d{4}\\.jpg,https://frames\\.example\\.com/drive-2[12]/frame_\\d{4}\\.jpg,[0-9a-f-]{36},Car,rectangle,"\\[\\{""x"":`,
          ),
        );
      }
    }

    assert.deepEqual(logProblems(nr), []);
    assert.ok(sb.state.jobs().length >= 15);
    assert.ok(sb.state.requests.every((r) => r.apiKeyPresent));
  });

  it('keeps the API key out of flows.json, flows_cred.json, the Admin API and the log', async function () {
    const nr = nodeRed!;
    const flowsFile = readFileSync(path.join(userDir, 'flows.json'), 'utf8');
    assert.ok(flowsFile.includes(CONFIG_TYPE), 'flows.json does not hold the deployed flow');
    assert.ok(!flowsFile.includes(apiKey), 'flows.json holds the API key');
    const credFile = readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8');
    assert.ok(!credFile.includes(apiKey), 'flows_cred.json holds the API key in plain text');
    assert.deepEqual(Object.keys(JSON.parse(credFile) as object), ['$'], 'flows_cred.json is not encrypted');

    const flows = await nr.request('GET', '/flows');
    assert.equal(flows.status, 200);
    assert.ok(!flows.text.includes(apiKey), 'GET /flows returns the API key');
    const configId = readExample(DEMO_EXAMPLE).find((n) => n.type === CONFIG_TYPE)!.id;
    const creds = await nr.request('GET', `/credentials/${CONFIG_TYPE}/${configId}`);
    assert.equal(creds.status, 200);
    assert.equal(creds.json.has_apiKey, true);
    assert.ok(!creds.text.includes(apiKey), 'GET /credentials returns the API key');
    assert.ok(!nr.output().includes(apiKey), 'Node-RED logged the API key');
  });
});
