// The editor, in a real browser: the package is packed and installed from its tarball into a real
// Node-RED, the Playment sandbox stands in for the API, and headless Chromium drives the Node-RED
// editor the way a user does: palette, Import → Examples, edit dialogs, Test connection, Deploy,
// the inject button and the debug sidebar. It also checks that the API key, once entered, never
// comes back to the browser, and writes the README screenshots.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ACTION_TYPES, DEMO_EXAMPLE } from '../../src/demo/flows';
import { freePort } from '../support/node-red-process';
import { waitFor } from '../support/wait';
import { launchEditorBrowser, type EditorBrowser } from './browser';
import {
  closeConfigDialog,
  closeNodeDialog,
  deploy,
  dragFromPalette,
  flowNodes,
  importExample,
  nodeLocator,
  openConfigDialogFrom,
  openEditor,
  openNodeDialog,
  selectAndDelete,
  showDebugSidebar,
  workspaceOrigin,
} from './editor';
import { PROJECT, startStack, type Stack } from './stack';

declare const RED: any;
declare const $: any;

const SCREENSHOTS = path.join(__dirname, 'screenshots');
/** Node-RED's palette manager asks its catalogue for updates; the page may not leave 127.0.0.1, so it is blocked. */
const NODE_RED_CATALOGUE = /^https:\/\/catalogue\.nodered\.org\//;

/** The text of everything inside the open trays, with the [data-i18n] elements that stayed empty. */
async function trayText(page: Page): Promise<{ text: string; untranslated: string[] }> {
  return page.evaluate(() => {
    const trays = Array.from(document.querySelectorAll('.red-ui-tray'));
    const untranslated: string[] = [];
    for (const tray of trays) {
      for (const el of Array.from(tray.querySelectorAll('[data-i18n*="playment-"]'))) {
        const spec = el.getAttribute('data-i18n') || '';
        if (spec.startsWith('[placeholder]')) {
          if (!(el.getAttribute('placeholder') || '').trim()) untranslated.push(spec);
        } else if (!(el.textContent || '').trim()) {
          untranslated.push(spec);
        }
      }
    }
    return { text: trays.map((t) => (t as HTMLElement).innerText).join('\n'), untranslated };
  });
}

/** Cancels whatever dialogs are open, so a failed test leaves the workspace usable for the next one. */
async function closeAnyDialogs(page: Page): Promise<void> {
  for (let i = 0; i < 4; i++) {
    const cancel = page
      .locator('#node-config-dialog-cancel:visible, #node-dialog-cancel:visible, #red-ui-clipboard-dialog-cancel:visible')
      .first();
    if ((await cancel.count()) === 0) return;
    await cancel.click({ timeout: 5000 }).catch(() => undefined);
    await page
      .waitForFunction(() => document.querySelectorAll('.red-ui-tray').length < 3, undefined, { timeout: 5000 })
      .catch(() => undefined);
  }
}

/** Checks an open dialog of ours: every label translated, no raw message key, no field marked invalid. */
async function assertCleanDialog(page: Page, type: string): Promise<void> {
  const { text, untranslated } = await trayText(page);
  assert.deepEqual(untranslated, [], `${type}: labels without text`);
  assert.ok(!new RegExp(`${type}\\.(label|placeholder|tip|unit)\\.`).test(text), `${type}: a message key shows untranslated:\n${text}`);
  const invalid = await page.locator('.red-ui-tray .input-error:visible').evaluateAll((els) => els.map((e) => e.id || e.className));
  assert.deepEqual(invalid, [], `${type}: fields marked invalid`);
}

/** The TypedInput around #<id>: visible, with the given type and value. */
async function assertTypedInput(page: Page, id: string, type: string, value: string): Promise<void> {
  // The TypedInput hides the input and puts its own control right after it.
  await page.locator(`#${id} + .red-ui-typedInput-container`).waitFor({ state: 'visible' });
  const actual = await page.evaluate((sel) => ({ type: $(sel).typedInput('type'), value: $(sel).typedInput('value') }), `#${id}`);
  assert.deepEqual(actual, { type, value }, `TypedInput #${id}`);
}

/** Types a value into a field the way the editor notices it: a change event, as when the field loses focus. */
async function setField(page: Page, selector: string, value: string): Promise<void> {
  await page.fill(selector, value);
  await page.locator(selector).dispatchEvent('change');
}

async function inputValue(page: Page, selector: string): Promise<string> {
  return page.locator(selector).inputValue();
}

/** A README screenshot, once the editor's pop-up notifications have gone. */
async function screenshot(page: Page, name: string): Promise<void> {
  await page.waitForFunction(() => document.querySelectorAll('.red-ui-notification').length === 0, undefined, { timeout: 20_000 });
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, name) });
}

async function testConnection(page: Page): Promise<string> {
  const result = page.locator('#node-config-playment-test-result');
  const answered = page.waitForResponse((res) => res.url().endsWith('/playment-config/test'));
  await page.click('#node-config-playment-test');
  await answered;
  await page.waitForSelector('#node-config-playment-test:not([disabled])');
  return (await result.textContent())?.trim() ?? '';
}

describe('editor (browser): the packed package in a real Node-RED, driven by Chromium', function () {
  this.timeout(120_000);

  let stack: Stack;
  let eb: EditorBrowser;
  let page: Page;
  let ids: Record<string, string> = {};
  let configId = '';

  before(async function () {
    this.timeout(180_000);
    stack = await startStack();
    eb = await launchEditorBrowser();
    page = eb.page;
    page.setDefaultTimeout(15_000);
    await openEditor(page, stack.nodeRed.url);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) {
      const file = path.join(tmpdir(), `playment-browser-${this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
      await page.screenshot({ path: file }).catch(() => undefined);
      console.log(`    screenshot of the failure: ${file}`);
      await closeAnyDialogs(page);
    }
  });

  after(async function () {
    this.timeout(30_000);
    await eb?.close();
    await stack?.close();
  });

  it('shows the three action nodes under a "Playment" category in the palette', async function () {
    const category = page.locator('#red-ui-palette-container-Playment');
    await category.waitFor({ state: 'visible' });
    assert.equal((await page.locator('#red-ui-palette-header-Playment').innerText()).trim(), 'Playment');
    const types = await category.locator('.red-ui-palette-node').evaluateAll((els) => els.map((e) => e.getAttribute('data-palette-type')));
    assert.deepEqual(types, ACTION_TYPES);
    const labels = await category
      .locator('.red-ui-palette-node')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-palette-label')));
    assert.deepEqual(labels, ['create batch', 'submit video', 'job result']);
    // The palette breaks a label too wide for one line with <br>.
    const breaks = await category.locator('.red-ui-palette-label').evaluateAll((els) => els.map((e) => e.querySelectorAll('br').length));
    assert.deepEqual(breaks, [0, 0, 0], 'every palette label fits on one line');
    // Each node has its own icon, loaded from the installed module.
    const icons: string[] = await page.evaluate(() =>
      ['playment-config', 'playment-create-batch', 'playment-submit-video-job', 'playment-job-result'].map(
        (t) => RED.nodes.getType(t).icon,
      ),
    );
    assert.deepEqual(icons, ['playment-account.svg', 'playment-batch.svg', 'playment-submit.svg', 'playment-result.svg']);
    for (const icon of icons) {
      const res = await page.request.get(`${stack.nodeRed.url}/icons/@labelops/node-red-playment/${icon}`);
      assert.equal(res.status(), 200, icon);
      assert.match(res.headers()['content-type'] ?? '', /svg/);
    }
    // The shared editor script and the limits table come from the package's resources/ folder.
    const limits = await page.request.get(`${stack.nodeRed.url}/resources/@labelops/node-red-playment/limits.js`);
    assert.equal(limits.status(), 200);
    assert.match(await limits.text(), /NUMERIC_SETTINGS = \{"playment-config"/);
    assert.equal(await page.evaluate(() => typeof (window as any).PlaymentEditor.typedValidator), 'function');
    // The config node is not in the palette.
    assert.equal(await page.locator('.red-ui-palette-node[data-palette-type="playment-config"]').count(), 0);
  });

  it('imports the example flow through Menu → Import → Examples', async function () {
    await importExample(page, DEMO_EXAMPLE);
    const nodes = await flowNodes(page);
    const byType = (t: string) => nodes.filter((n) => n.type === t);
    assert.deepEqual(nodes.map((n) => n.type).sort(), ['comment', 'debug', 'inject', 'playment-create-batch', 'playment-submit-video-job']);
    ids = Object.fromEntries(nodes.map((n) => [n.type, n.id]));
    assert.equal(byType('playment-submit-video-job')[0].name, 'submit video jobs');
    configId = await page.evaluate(() => {
      const found: string[] = [];
      RED.nodes.eachConfig((n: any) => {
        if (n.type === 'playment-config') found.push(n.id);
      });
      return found.join(',');
    });
    assert.match(configId, /^[0-9a-f]+$/, 'exactly one playment-config node');
    for (const n of nodes) {
      await nodeLocator(page, n.id).waitFor({ state: 'visible' });
    }
    // No node of the example is flagged invalid (red triangle) or unknown.
    const flagged = await page.evaluate(() =>
      RED.nodes
        .filterNodes({ z: RED.workspaces.active() })
        .filter((n: any) => n.valid === false || n._def.category === undefined)
        .map((n: any) => n.type),
    );
    assert.deepEqual(flagged, []);
    assert.equal(await page.locator('#red-ui-workspace-chart .red-ui-flow-node-error:visible').count(), 0);
  });

  it("shows each node's help in the help sidebar", async function () {
    // The help tab follows the selection in the workspace.
    await page.click('#red-ui-tab-help-link-button');
    await nodeLocator(page, ids['playment-create-batch']).locator('rect.red-ui-flow-node').first().click();
    await page.waitForFunction(() => document.querySelector('.red-ui-help-title')?.textContent === 'create batch');
    const expected: Record<string, [string, RegExp]> = {
      'playment-create-batch': ['create batch', /^Creates a batch \(a named group of jobs\)/],
      'playment-submit-video-job': ['submit video', /^Submits an image sequence/],
      'playment-job-result': ['job result', /^Fetches the status and result of a Playment job/],
      'playment-config': ['playment account', /^Connection to one Playment/],
    };
    for (const [type, [title, intro]] of Object.entries(expected)) {
      await page.evaluate((t) => RED.sidebar.help.show(t), type);
      await page.waitForFunction((t) => document.querySelector('.red-ui-help-title')?.textContent === t, title);
      const help = page.locator('.red-ui-help-title + .red-ui-help');
      const text = await help.innerText();
      assert.match(text.trim(), intro, type);
      if (type !== 'playment-config') {
        for (const section of ['Inputs', 'Outputs', 'Details', 'References']) {
          assert.ok(text.includes(section), `${type}: the help has no "${section}" section`);
        }
      }
      // Links to other sites open in a new tab, not in the editor.
      const links = await help.locator('a[href^="http"]').evaluateAll((as) => as.map((a) => a.getAttribute('target')));
      assert.ok(links.length > 0 && links.every((t) => t === '_blank'), `${type}: reference links`);
      // One table of all error codes, linked from every node's help.
      assert.equal(await help.locator('a[href$="#errors-all-nodes"]').count(), 1, `${type}: link to the table of errors`);
    }
    // Clear the selection again.
    const origin = await workspaceOrigin(page);
    await page.mouse.click(origin.x + 600, origin.y + 500);
  });

  it("opens every node's edit dialog with its fields", async function () {
    // Core nodes: the dialog opens and Cancel closes it.
    for (const type of ['comment', 'inject', 'debug']) {
      await openNodeDialog(page, ids[type]);
      await page.locator('#node-input-name').waitFor({ state: 'visible' });
      await closeNodeDialog(page, 'cancel');
    }

    // create batch
    await openNodeDialog(page, ids['playment-create-batch']);
    await page.locator('#node-input-config').waitFor({ state: 'visible' });
    assert.equal(await inputValue(page, '#node-input-config'), configId);
    assert.match(await page.locator('#node-input-config option:checked').innerText(), /Playment sandbox/);
    await assertTypedInput(page, 'node-input-batchName', 'str', 'Drive 01 and 02 (example)');
    await assertTypedInput(page, 'node-input-batchDescription', 'str', 'Created by the Node-RED example flow');
    assert.equal(await page.locator('#node-input-reuseExisting').isChecked(), true);
    assert.equal(await page.locator('#node-input-keepPayload').isChecked(), true);
    assert.equal(await inputValue(page, '#node-input-name'), 'create batch');
    // Node-RED's own "Name" label.
    assert.equal((await page.locator('label[for="node-input-name"]').innerText()).trim(), 'Name');
    await assertCleanDialog(page, 'playment-create-batch');
    await closeNodeDialog(page, 'ok');

    // submit video job
    await openNodeDialog(page, ids['playment-submit-video-job']);
    await page.locator('#node-input-config').waitFor({ state: 'visible' });
    assert.equal(await inputValue(page, '#node-input-config'), configId);
    await assertTypedInput(page, 'node-input-tag', 'str', 'track_bounding_boxes');
    await assertTypedInput(page, 'node-input-workFlowId', 'str', '');
    await assertTypedInput(page, 'node-input-batchId', 'str', '');
    await assertTypedInput(page, 'node-input-priorityWeight', 'num', '');
    await assertTypedInput(page, 'node-input-referenceId', 'str', '');
    assert.equal(await inputValue(page, '#node-input-frameOrder'), 'given');
    assert.equal(await inputValue(page, '#node-input-maxFramesPerJob'), '0');
    assert.equal(await page.locator('.node-input-playment-overlap-row').isVisible(), false, 'overlap hidden without a split');
    assert.equal(await page.locator('#node-input-dryRun').isChecked(), false);
    await assertCleanDialog(page, 'playment-submit-video-job');
    await screenshot(page, 'submit-dialog.png');
    // Splitting shows the overlap row, and an overlap not below the part size is refused.
    await setField(page, '#node-input-maxFramesPerJob', '5');
    await page.locator('.node-input-playment-overlap-row').first().waitFor({ state: 'visible' });
    await setField(page, '#node-input-overlap', '5');
    await page.waitForSelector('#node-input-overlap.input-error');
    await setField(page, '#node-input-overlap', '2');
    await page.waitForSelector('#node-input-overlap:not(.input-error)');
    // A msg property that is not a property expression is refused.
    await page.evaluate(() => $('#node-input-tag').typedInput('type', 'msg'));
    await page.evaluate(() => $('#node-input-tag').typedInput('value', 'not a property['));
    await page.waitForSelector('#node-input-tag + .red-ui-typedInput-container.input-error');
    // A blank msg property is valid: the runtime then takes the tag from the message.
    await page.evaluate(() => $('#node-input-tag').typedInput('value', ''));
    await page.waitForSelector('#node-input-tag + .red-ui-typedInput-container:not(.input-error)');
    // Cancel keeps the node as it was.
    await closeNodeDialog(page, 'cancel');
    const kept = await page.evaluate((id) => {
      const n = RED.nodes.node(id);
      return { maxFramesPerJob: n.maxFramesPerJob, overlap: n.overlap, tag: n.tag, tagType: n.tagType };
    }, ids['playment-submit-video-job']);
    assert.deepEqual(kept, { maxFramesPerJob: 0, overlap: 0, tag: 'track_bounding_boxes', tagType: 'str' });
  });

  it('gives nodes dragged from the palette valid defaults (job result included)', async function () {
    for (const type of ACTION_TYPES) {
      const id = await dragFromPalette(page, type, { x: 300, y: 320 });
      try {
        assert.equal(await page.evaluate((nid) => RED.nodes.node(nid).valid, id), false, `${type} without an account is invalid`);
        await openNodeDialog(page, id);
        await page.locator('#node-input-config').waitFor({ state: 'visible' });
        // Node-RED leaves a new node's account unset; pick the one from the example.
        await page.selectOption('#node-input-config', configId);
        await assertCleanDialog(page, type);
        if (type === 'playment-create-batch') {
          await assertTypedInput(page, 'node-input-batchName', 'str', '');
          assert.equal(await page.locator('#node-input-reuseExisting').isChecked(), true);
        }
        if (type === 'playment-submit-video-job') {
          await assertTypedInput(page, 'node-input-tag', 'str', '');
          await assertTypedInput(page, 'node-input-priorityWeight', 'num', '');
          assert.equal(await inputValue(page, '#node-input-frameOrder'), 'given');
          assert.equal(await inputValue(page, '#node-input-maxFramesPerJob'), '0');
        }
        if (type === 'playment-job-result') {
          await assertTypedInput(page, 'node-input-jobId', 'str', '');
          assert.equal(await inputValue(page, '#node-input-mode'), 'once');
          assert.equal(await page.locator('.node-input-playment-wait-row').first().isVisible(), false);
          await page.selectOption('#node-input-mode', 'wait');
          await page.locator('.node-input-playment-wait-row').first().waitFor({ state: 'visible' });
          assert.equal(await inputValue(page, '#node-input-pollInterval'), '30');
          assert.equal(await inputValue(page, '#node-input-maxWait'), '24');
          assert.equal(await page.locator('#node-input-download').isChecked(), false);
          await assertCleanDialog(page, type);
        }
        await closeNodeDialog(page, 'ok');
        const state = await page.evaluate((nid) => {
          const n = RED.nodes.node(nid);
          return { valid: n.valid, config: n.config };
        }, id);
        assert.deepEqual(state, { valid: true, config: configId }, `${type} is valid with its defaults`);
      } finally {
        await closeAnyDialogs(page);
        await selectAndDelete(page, id);
      }
    }
    assert.equal((await flowNodes(page)).length, 5);
  });

  it('tests the connection from the config dialog: connected, wrong key, then the right key again', async function () {
    await openNodeDialog(page, ids['playment-submit-video-job']);
    await openConfigDialogFrom(page);
    assert.equal(await inputValue(page, '#node-config-input-name'), 'Playment sandbox');
    assert.equal(await inputValue(page, '#node-config-input-baseUrl'), 'http://127.0.0.1:4010');
    assert.equal(await inputValue(page, '#node-config-input-apiVersion'), 'v0');
    assert.equal(await inputValue(page, '#node-config-input-projectId'), PROJECT);
    assert.equal(await page.locator('#node-config-input-apiKey').getAttribute('type'), 'password');
    assert.equal(await inputValue(page, '#node-config-input-apiKey'), '', 'the example has no key');
    assert.equal(await page.locator('#node-config-playment-limits').isVisible(), false, 'limits at their defaults stay folded');
    await page.click('#node-config-playment-limits-toggle');
    await page.locator('#node-config-playment-limits').waitFor({ state: 'visible' });
    assert.equal(await inputValue(page, '#node-config-input-maxQueue'), '10000');
    await page.click('#node-config-playment-limits-toggle');
    await page.locator('#node-config-playment-limits').waitFor({ state: 'hidden' });
    await assertCleanDialog(page, 'playment-config');

    // Plain http to a host that is not loopback is refused by the dialog.
    await setField(page, '#node-config-input-baseUrl', 'http://example.com');
    await page.waitForSelector('#node-config-input-baseUrl.input-error');

    await setField(page, '#node-config-input-baseUrl', stack.sandbox.url);
    await page.waitForSelector('#node-config-input-baseUrl:not(.input-error)');
    await setField(page, '#node-config-input-apiKey', stack.apiKey);
    const before = stack.sandbox.state.requestCount;
    assert.equal(await testConnection(page), 'Connected');
    assert.ok(stack.sandbox.state.requestCount > before, 'the test reached the sandbox');

    await setField(page, '#node-config-input-apiKey', `${stack.apiKey}-wrong`);
    assert.equal(await page.locator('#node-config-playment-test-result').innerText(), '', 'a changed key clears the result');
    assert.equal(await testConnection(page), 'API key rejected');

    await setField(page, '#node-config-input-projectId', 'no-such-project');
    await setField(page, '#node-config-input-apiKey', stack.apiKey);
    assert.equal(await testConnection(page), 'Project not found, or the key has no access to it');
    await setField(page, '#node-config-input-projectId', '');
    assert.equal(await testConnection(page), 'Settings incomplete or invalid');
    await setField(page, '#node-config-input-projectId', PROJECT);

    // Nothing listens on this port.
    await setField(page, '#node-config-input-baseUrl', `http://127.0.0.1:${await freePort()}`);
    assert.equal(await testConnection(page), 'API not reachable');

    await setField(page, '#node-config-input-baseUrl', stack.sandbox.url);
    assert.equal(await testConnection(page), 'Connected');

    await closeConfigDialog(page, 'ok');
    await closeNodeDialog(page, 'ok');
    const cfg = await page.evaluate((id) => {
      const n = RED.nodes.node(id);
      return { baseUrl: n.baseUrl, projectId: n.projectId, valid: n.valid };
    }, configId);
    assert.deepEqual(cfg, { baseUrl: stack.sandbox.url, projectId: PROJECT, valid: true });
  });

  it('deploys; the inject button submits two jobs and the debug sidebar shows their job_id', async function () {
    await deploy(page);
    const messages = await showDebugSidebar(page);
    const button = nodeLocator(page, ids.inject).locator('.red-ui-flow-node-button');
    await page.waitForFunction(
      (id) => !document.querySelector(`g[id="${id}"] .red-ui-flow-node-button`)?.classList.contains('red-ui-flow-node-button-disabled'),
      ids.inject,
    );
    await button.locator('rect.red-ui-flow-node-button-button').click();

    await waitFor('two jobs in the sandbox', () => stack.sandbox.state.jobs().length === 2, 30_000);
    await page.waitForFunction(() => document.querySelectorAll('.red-ui-debug-msg').length >= 2);
    const texts = await messages.allInnerTexts();
    assert.equal(texts.length, 2, texts.join('\n---\n'));
    const jobs = stack.sandbox.state.jobs();
    for (const [i, job] of jobs.entries()) {
      assert.equal(job.tag, 'track_bounding_boxes');
      assert.equal(job.frames.length, 6);
      // The sidebar shortens long strings in its one-line preview.
      const text = texts.find((t) => t.includes(`job_id: "${job.jobId.slice(0, 24)}`));
      assert.ok(text, `job ${i + 1} (${job.jobId}) is not in the debug sidebar:\n${texts.join('\n---\n')}`);
      assert.match(text, /job_id/);
      assert.match(text, /job ids/, 'the message names its debug node');
    }
    // Both jobs went into the one batch the flow created.
    assert.equal(new Set(jobs.map((j) => j.batchId)).size, 1);
    const batch = stack.sandbox.state.batches(PROJECT).find((b) => b.batchId === jobs[0].batchId);
    assert.equal(batch?.name, 'Drive 01 and 02 (example)');

    // The node statuses show the results.
    await page.waitForFunction(
      (id) => /job/.test(document.querySelector(`g[id="${id}"] .red-ui-flow-node-status-label`)?.textContent ?? ''),
      ids['playment-submit-video-job'],
    );
    // Click an empty spot of the workspace to clear the selection, and show our palette category.
    const origin = await workspaceOrigin(page);
    await page.mouse.click(origin.x + 600, origin.y + 500);
    await page.locator('#red-ui-palette-container-Playment').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await screenshot(page, 'example-flow.png');
  });

  it('never gives the API key back: dialog, credentials API, editor state and flow file', async function () {
    // The dialog shows the placeholder only; the editor asks the runtime for the credentials.
    await openNodeDialog(page, ids['playment-submit-video-job']);
    const credsAnswer = page.waitForResponse((res) => res.url().includes(`/credentials/playment-config/${configId}`));
    await openConfigDialogFrom(page);
    const creds = await (await credsAnswer).json();
    assert.deepEqual(creds, { has_apiKey: true });
    assert.equal(await inputValue(page, '#node-config-input-apiKey'), '__PWRD__');
    // Test connection with the field untouched uses the stored key.
    assert.equal(await testConnection(page), 'Connected');
    // A server that does not serve the chosen profile's route: the dialog says which one to use.
    stack.sandbox.injectFault({ route: 'project.details', mode: 'status', status: 404, count: 1 });
    assert.equal(await testConnection(page), 'Wrong API profile: use v1');
    // The stored key goes only to the deployed base URL.
    const requests = stack.sandbox.state.requestCount;
    await setField(page, '#node-config-input-baseUrl', `http://127.0.0.1:${await freePort()}`);
    assert.equal(await testConnection(page), 'Enter the API key: the stored key is only sent to the deployed base URL');
    assert.equal(stack.sandbox.state.requestCount, requests);
    await setField(page, '#node-config-input-baseUrl', stack.sandbox.url);
    // Done without a change leaves nothing to deploy.
    await closeConfigDialog(page, 'ok');
    await closeNodeDialog(page, 'ok');
    await openNodeDialog(page, ids['playment-create-batch']);
    await page.locator('#node-input-batchName + .red-ui-typedInput-container').waitFor({ state: 'visible' });
    await closeNodeDialog(page, 'ok');
    assert.equal(await page.evaluate(() => RED.nodes.dirty()), false, 'Done without changes made the flow dirty');
    assert.equal(await page.locator('#red-ui-header-button-deploy.disabled').count(), 1);

    const direct = await stack.nodeRed.request('GET', `/credentials/playment-config/${configId}`);
    assert.equal(direct.status, 200);
    assert.deepEqual(direct.json, { has_apiKey: true });

    const key = stack.apiKey;
    const editorState = await page.evaluate((id) => {
      const node = RED.nodes.node(id);
      // The node object links to editor internals and to the nodes that use it; its own data is what matters.
      const own = Object.fromEntries(
        Object.entries(node).filter(
          ([k, v]) => !k.startsWith('_') && k !== 'users' && (v === null || typeof v !== 'object' || k === 'credentials'),
        ),
      );
      return JSON.stringify({
        plain: RED.nodes.createCompleteNodeSet(),
        withCredentials: RED.nodes.createCompleteNodeSet({ credentials: true }),
        config: own,
        credentials: node.credentials ?? null,
        localStorage: { ...localStorage },
        sessionStorage: { ...sessionStorage },
      });
    }, configId);
    assert.ok(editorState.includes(configId), 'the editor state was read');
    assert.ok(!editorState.includes(key), 'the editor state holds the API key');
    assert.ok(!(await page.content()).includes(key), 'the page HTML holds the API key');
    const flows = await stack.nodeRed.request('GET', '/flows');
    assert.ok(!flows.text.includes(key), 'GET /flows returns the API key');
    assert.ok(!readFileSync(path.join(stack.userDir, 'flows.json'), 'utf8').includes(key), 'flows.json holds the API key');
    assert.ok(!readFileSync(path.join(stack.userDir, 'flows_cred.json'), 'utf8').includes(key), 'flows_cred.json is not encrypted');
  });

  it('Test connection resolves a key given as ${PLAYMENT_API_KEY}', async function () {
    await openNodeDialog(page, ids['playment-submit-video-job']);
    await openConfigDialogFrom(page);
    await setField(page, '#node-config-input-apiKey', '${PLAYMENT_API_KEY}');
    assert.equal(await testConnection(page), 'Connected');
    await closeConfigDialog(page, 'cancel');
    await closeNodeDialog(page, 'cancel');
  });

  it('loaded nothing from outside 127.0.0.1, and nothing failed to load or threw in the page', function () {
    const outside = eb.blockedRequests.filter((u) => !NODE_RED_CATALOGUE.test(u));
    assert.deepEqual(outside, []);
    assert.deepEqual(eb.pageErrors, []);
    // A missing icon, locale or editor file shows up as a failed request or a console error.
    assert.deepEqual(eb.failedResponses, []);
    assert.deepEqual(
      eb.consoleErrors.filter((m) => !/ERR_BLOCKED_BY_CLIENT/.test(m)),
      [],
    );
  });
});
