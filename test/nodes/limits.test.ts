/**
 * The editor dialogs and the runtime accept the same numeric settings and project ids: the
 * dialogs' validators, with the scripts each .html loads from resources/ as the package ships
 * them, run in a VM against edge values next to the runtime's checks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { EDITOR_SOURCE, resourceScripts, resourceText } from '../../src/build/editor-resources';
import { configPropertiesSchema } from '../../src/nodes/common/config-settings';
import { MAX_TIMER_DELAY_MS } from '../../src/api/timer-delay';
import { NUMERIC_SETTINGS, formatNumber, parseJobResultSettings, settingProblem, type NumericSetting } from '../../src/nodes/common/limits';

type Validate = (this: unknown, v: unknown, opt?: unknown) => true | string;
interface EditorDefinition {
  defaults: Record<string, { value: unknown; validate?: Validate }>;
}

/** The node definition a dialog registers, from its .html and the resources/ scripts it loads. */
function editorDefinition(type: string): EditorDefinition {
  const file = `${type}.html`;
  const html = readFileSync(path.join(EDITOR_SOURCE, file), 'utf8');
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(script, `${file} has an editor script`);
  let registered: EditorDefinition | undefined;
  const translations = { _: (key: string, args?: Record<string, unknown>) => `${key} ${JSON.stringify(args ?? {})}` };
  const RED = {
    nodes: {
      registerType: (name: string, def: EditorDefinition) => {
        if (name === type) registered = def;
      },
      getType: () => translations,
    },
    validators: { typedInput: () => () => true },
    utils: { validateTypedProperty: () => true },
  };
  const context = vm.createContext({ RED, $: () => ({ val: () => undefined }) });
  context.window = context;
  for (const name of resourceScripts(html, file)) vm.runInContext(resourceText(name), context, { filename: `resources/${name}` });
  vm.runInContext(script[1], context, { filename: file });
  assert.ok(registered, `${file} registers ${type}`);
  return registered;
}

/** Values around every edge of a setting, as numbers and as the strings a dialog stores. */
function edgeValues(s: NumericSetting): unknown[] {
  const numbers = [
    s.min,
    s.max,
    s.default,
    s.min - 0.001,
    s.min - 1,
    s.max + 0.001,
    s.max + 1,
    s.min + 0.5,
    s.max - 0.5,
    0,
    -1,
    0.01,
    1.5,
    2 ** 31,
    NaN,
    Infinity,
    -Infinity,
  ];
  if (s.off !== undefined) numbers.push(s.off, s.off + 0.001);
  const strings = ['', ' ', 'abc', '1e3', '0x10', ` ${s.max} `, `${s.max}abc`, '1,5', 'Infinity'];
  return [...numbers, ...numbers.map(String), ...strings, undefined, null, true, false, {}, []];
}

describe('numeric settings: one table for the editor and the runtime', () => {
  const config = editorDefinition('playment-config');
  const jobResult = editorDefinition('playment-job-result');

  const runtimeAccepts = {
    'playment-config': (name: string, v: unknown) => configPropertiesSchema.safeParse({ projectId: 'p', [name]: v }).success,
    'playment-job-result': (name: string, v: unknown) => {
      try {
        parseJobResultSettings({ [name]: v });
        return true;
      } catch {
        return false;
      }
    },
  };

  for (const [type, editor] of [
    ['playment-config', config],
    ['playment-job-result', jobResult],
  ] as const) {
    for (const [name, setting] of Object.entries(NUMERIC_SETTINGS[type]) as Array<[string, NumericSetting]>) {
      it(`${type} ${name}: the dialog and the runtime accept the same values`, () => {
        const field = editor.defaults[name];
        assert.equal(field.value, setting.default, 'the dialog default is the table default');
        for (const v of edgeValues(setting)) {
          const inEditor = field.validate!.call({}, v, {}) === true;
          assert.equal(
            inEditor,
            runtimeAccepts[type](name, v),
            `${name} = ${JSON.stringify(v)}: editor ${inEditor ? 'accepts' : 'refuses'}, runtime does not`,
          );
        }
        // The edges themselves, so a check that accepts or refuses everything cannot pass.
        for (const v of [setting.min, setting.max, String(setting.max)])
          assert.equal(field.validate!.call({}, v, {}), true, `${name} = ${v}`);
        for (const v of [setting.min - 0.001, setting.max + 0.001, setting.max + 1, '']) {
          assert.notEqual(field.validate!.call({}, v, {}), true, `${name} = ${v}`);
          assert.equal(runtimeAccepts[type](name, v), false, `${name} = ${v}`);
        }
        if (setting.integer) assert.equal(runtimeAccepts[type](name, setting.min + 0.5), false, 'whole numbers only');
      });
    }
  }

  it("the dialog's message gives the table's range", () => {
    const message = config.defaults.maxConcurrent.validate!.call({}, 257, {});
    assert.equal(message, 'playment-config.validation.maxConcurrent {"min":"1","max":"256"}');
    const queue = config.defaults.maxQueue.validate!.call({}, 0, {});
    assert.match(String(queue), /"max":"1,000,000"/);
  });

  it('the help and the dialog state the ranges the table sets', () => {
    const help = readFileSync(path.join(EDITOR_SOURCE, 'locales', 'en-US', 'playment-config.html'), 'utf8');
    const locale = JSON.parse(readFileSync(path.join(EDITOR_SOURCE, 'locales', 'en-US', 'playment-config.json'), 'utf8'))[
      'playment-config'
    ];
    for (const [name, s] of Object.entries(NUMERIC_SETTINGS['playment-config']) as Array<[string, NumericSetting]>) {
      const range = `${formatNumber(s.min)}–${formatNumber(s.max)}`;
      assert.ok(locale.unit[name].includes(range), `the dialog's unit for ${name} says ${range}: ${locale.unit[name]}`);
      assert.ok(help.includes(`${range}`), `the help gives ${name}'s range ${range}`);
      assert.ok(new RegExp(`\\(default ${s.default}[,)]`).test(help), `the help gives ${name}'s default ${s.default}`);
      assert.match(locale.validation[name], /__min__ to __max__/, `the validation message for ${name} gives the range`);
    }
  });

  it('every duration a setting allows fits in one timer', () => {
    for (const table of Object.values(NUMERIC_SETTINGS)) {
      for (const [name, s] of Object.entries(table) as Array<[string, NumericSetting]>) {
        if (s.msPerUnit !== undefined) assert.ok(s.max * s.msPerUnit <= MAX_TIMER_DELAY_MS, `${name}: ${s.max} ${s.unit}`);
      }
    }
    const longest = parseJobResultSettings({ pollInterval: 86_400, maxWait: 576 });
    assert.deepEqual(longest, { intervalMs: 86_400_000, maxWaitMs: 2_073_600_000, maxResultBytes: 16 * 1_048_576 });
  });

  it('parseJobResultSettings: defaults when missing, a clear NOT_CONFIGURED when out of range', () => {
    assert.deepEqual(parseJobResultSettings({}), { intervalMs: 30_000, maxWaitMs: 24 * 3_600_000, maxResultBytes: 16 * 1_048_576 });
    assert.deepEqual(parseJobResultSettings({ pollInterval: '1', maxWait: '0.5', maxResultSize: '256' }), {
      intervalMs: 1000,
      maxWaitMs: 1_800_000,
      maxResultBytes: 256 * 1_048_576,
    });
    assert.throws(() => parseJobResultSettings({ maxWait: 0 }), /maxWait: must be a number from 0\.0001 to 576/);
    assert.throws(
      () => parseJobResultSettings({ pollInterval: 0.01 }),
      (err: { code?: string; message: string }) =>
        err.code === 'NOT_CONFIGURED' && err.message.includes('pollInterval: must be a number from 1 to 86,400 (seconds); got 0.01'),
    );
    assert.throws(() => parseJobResultSettings({ maxWait: 721 }), /maxWait: must be a number from 0\.0001 to 576 \(hours\); got 721/);
  });

  it('a refused value is shown as given, a long one cut after 40 characters', () => {
    const interval = NUMERIC_SETTINGS['playment-job-result'].pollInterval;
    const problem = (v: unknown) => {
      try {
        parseJobResultSettings({ pollInterval: v });
      } catch (err) {
        return /; got (.*)$/.exec((err as Error).message)?.[1];
      }
      return assert.fail(`${String(v)} was accepted`);
    };
    // Strings quoted (40 characters with the quotes: whole; 41: cut), anything else as text.
    assert.equal(problem('x'.repeat(38)), `"${'x'.repeat(38)}"`);
    assert.equal(problem('x'.repeat(39)), `"${'x'.repeat(39)}…`);
    assert.equal(problem(NaN), 'NaN');
    assert.equal(problem({}), '[object Object]');
    assert.equal(problem(-1), '-1');
    assert.equal(settingProblem(interval, 30), undefined);
    assert.equal(settingProblem(interval, undefined), undefined);
    assert.equal(settingProblem(interval, 0), 'must be a number from 1 to 86,400 (seconds); got 0');
  });

  describe('project id', () => {
    const ids: Array<[unknown, boolean]> = [
      ['proj-cv-1', true],
      ['  proj-cv-1 ', true],
      ['...', true],
      ['.a', true],
      ['', false],
      ['   ', false],
      ['.', false],
      ['..', false],
      [' .. ', false],
      [undefined, false],
    ];
    it('the dialog and the runtime refuse the same ids, "." and ".." among them', () => {
      const validate = config.defaults.projectId.validate!;
      for (const [id, accepted] of ids) {
        assert.equal(validate.call({}, id, {}) === true, accepted, `editor: ${JSON.stringify(id)}`);
        assert.equal(configPropertiesSchema.safeParse({ projectId: id }).success, accepted, `runtime: ${JSON.stringify(id)}`);
      }
      assert.match(String(validate.call({}, '..', {})), /projectIdDots/);
    });
  });
});
