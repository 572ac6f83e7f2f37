/**
 * The editor side as Node-RED loads it: each node's .html takes its shared scripts from
 * resources/ and its help from locales/en-US/, and the shared TypedInput validator is Node-RED's
 * own (with the 3.1.0 fallback).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { EDITOR_SOURCE, LIMITS_FILE, RESOURCES, limitsScript, resourceScripts, resourceText } from '../../src/build/editor-resources';
import { NUMERIC_SETTINGS } from '../../src/nodes/common/limits';

const ROOT = path.resolve(__dirname, '..', '..');
const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
const TYPES = Object.keys(PKG['node-red'].nodes);
const ERRORS_TABLE = 'https://github.com/labelops/node-red-playment#errors-all-nodes';

function editorHtml(type: string): string {
  return readFileSync(path.join(EDITOR_SOURCE, `${type}.html`), 'utf8');
}

function helpHtml(type: string): string {
  return readFileSync(path.join(EDITOR_SOURCE, 'locales', 'en-US', `${type}.html`), 'utf8');
}

/** The namespace resources/editor.js and limits.js build, with `RED` as given. */
function editorNamespace(RED: unknown): Record<string, any> {
  const context = vm.createContext({ RED });
  context.window = context;
  for (const name of ['editor.js', LIMITS_FILE]) vm.runInContext(resourceText(name), context);
  return context.PlaymentEditor;
}

describe('editor files: resources/, help in locales/', () => {
  it("every .html loads its shared scripts from this package's resources/, and they are there", () => {
    for (const type of TYPES) {
      const html = editorHtml(type);
      const scripts = resourceScripts(html, `${type}.html`);
      assert.ok(scripts.includes('editor.js'), `${type}.html loads editor.js`);
      for (const name of scripts)
        assert.ok(name === LIMITS_FILE || existsSync(path.join(RESOURCES, name)), `${type}.html: resources/${name}`);
      // The numeric settings come from limits.js, which must load where they are used.
      if (html.includes('numericSettings(')) assert.ok(scripts.includes(LIMITS_FILE), `${type}.html loads limits.js`);
      assert.doesNotMatch(html, /@include|@numeric-settings/, `${type}.html still has a build marker`);
    }
    assert.throws(
      () => resourceScripts('<script src="resources/other-package/x.js"></script>', 'x.html'),
      /not from @labelops\/node-red-playment\//,
    );
  });

  it("limits.js holds the runtime's table", () => {
    const context = vm.createContext({});
    context.window = context;
    vm.runInContext(limitsScript(), context);
    assert.deepEqual(JSON.parse(JSON.stringify(context.PlaymentEditor.NUMERIC_SETTINGS)), NUMERIC_SETTINGS);
  });

  it("help lives in locales/en-US/<node>.html, not in the node's .html", () => {
    for (const type of TYPES) {
      assert.doesNotMatch(editorHtml(type), /data-help-name/, `${type}.html has inline help`);
      const help = helpHtml(type);
      assert.match(help, new RegExp(`^<script type="text/html" data-help-name="${type}">`), type);
      assert.equal(help.match(/data-help-name=/g)?.length, 1, type);
    }
  });

  it('each help links the one table of errors, and that table is in the README', () => {
    for (const type of TYPES) assert.ok(helpHtml(type).includes(`href="${ERRORS_TABLE}" target="_blank"`), type);
    // GitHub's anchor for the heading "### Errors (all nodes)".
    assert.match(readFileSync(path.join(ROOT, 'README.md'), 'utf8'), /^### Errors \(all nodes\)$/m);
  });

  it("each action node's help lists its own codes: the submit node FS_0001, job result FS_0006, create batch BATCH_CREATION", () => {
    const own: Record<string, string[]> = {
      'playment-create-batch': ['BATCH_CREATION'],
      'playment-submit-video-job': ['FS_0001', 'DUPLICATE_UNRESOLVED'],
      'playment-job-result': ['FS_0006'],
    };
    for (const [type, codes] of Object.entries(own)) {
      for (const [other, theirs] of Object.entries(own)) {
        for (const code of theirs) assert.equal(helpHtml(type).includes(`<dt>${code}`), type === other, `${type} help and ${code}`);
      }
      for (const code of codes) assert.ok(helpHtml(type).includes(code));
    }
  });

  it('every node has its own icon, and each icon is used', () => {
    const icons = TYPES.map((type) => /^\s*icon: "([^"]+)",$/m.exec(editorHtml(type))?.[1]);
    assert.equal(new Set(icons).size, TYPES.length, `icons: ${icons.join(', ')}`);
    assert.deepEqual([...icons].sort(), readdirSync(path.join(EDITOR_SOURCE, 'icons')).sort());
  });

  it("Name uses Node-RED's own label", () => {
    for (const type of TYPES) {
      const html = editorHtml(type);
      assert.match(html, /<span data-i18n="node-red:common\.label\.name"><\/span>/, type);
      assert.match(html, /data-i18n="\[placeholder\]node-red:common\.label\.name"/, type);
    }
  });

  describe('typedValidator', () => {
    it("is Node-RED's RED.validators.typedInput({typeField, allowBlank}) from 3.1.1 on", () => {
      const calls: unknown[] = [];
      const validator = () => true;
      const ns = editorNamespace({
        utils: { validateTypedProperty: () => true },
        validators: { typedInput: (options: unknown) => (calls.push(options), validator) },
      });
      assert.equal(ns.typedValidator('tagType'), validator);
      // The options object comes from the VM's realm: compare its JSON.
      assert.deepEqual(JSON.parse(JSON.stringify(calls)), [{ typeField: 'tagType', allowBlank: true }]);
    });

    it('on Node-RED 3.1.0 (type field name only) lets a blank value pass and hands the rest to it', () => {
      const seen: unknown[][] = [];
      const ns = editorNamespace({
        utils: {},
        validators: {
          typedInput: (typeField: unknown) => {
            assert.equal(typeField, 'tagType', 'the 3.1.0 form takes the name');
            return function (this: unknown, v: unknown, opt: unknown) {
              seen.push([this, v, opt]);
              return v === 'ok' ? true : 'refused';
            };
          },
        },
      });
      const validate = ns.typedValidator('tagType');
      const node = { tagType: 'msg' };
      assert.equal(validate.call(node, '', {}), true);
      assert.equal(validate.call(node, 'ok', {}), true);
      assert.equal(validate.call(node, 'bad[', { label: 'Tag' }), 'refused');
      assert.deepEqual(seen, [
        [node, 'ok', {}],
        [node, 'bad[', { label: 'Tag' }],
      ]);
    });
  });
});
