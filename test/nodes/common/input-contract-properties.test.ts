/**
 * The input contract at its edges, in a real runtime: node properties parsed at start (the
 * NOT_CONFIGURED text names the property, or `properties`), `choice` and `flag` defaults and
 * texts, literal node values trimmed, typed values that are blank or missing leaving the field to
 * the message, an evaluation error ending the message, and the sources before precedence.
 */
import assert from 'node:assert/strict';
import { z } from 'zod';
import { setupActionNode, type ActionNodeDef } from '../../../src/nodes/common/action-node';
import { NUMBER_TYPES, STRING_TYPES, choice, defineContract, flag } from '../../../src/nodes/common/input-contract';
import type { Node, RED } from '../../../src/nodes/common/red';
import { helper } from '../../support/harness';
import { waitFor } from '../../support/wait';
import configNode from '../../../src/nodes/playment-config';

const FIELDS = {
  label: { property: 'label', typeProperty: 'labelType', types: STRING_TYPES, msg: ['label'], default: 'from-default' },
  count: {
    property: 'count',
    typeProperty: 'countType',
    types: NUMBER_TYPES,
    msg: ['count'],
    default: 1,
    schema: z.coerce.number().int('must be a whole number'),
  },
  /** No TypedInput type: the value is a literal string. */
  note: { property: 'note', msg: ['note'], schema: z.string().max(5, 'at most 5 characters').optional() },
};

const CONTRACTS = {
  main: defineContract({
    fields: FIELDS,
    properties: z.object({ mode: choice(['fast', 'slow']), strict: flag(true), lenient: flag(false) }),
  }),
  /** A rule over two properties: its issue has no path. */
  either: defineContract({
    fields: {},
    properties: z.object({ a: z.string().optional(), b: z.string().optional() }).refine((p) => !(p.a && p.b), 'set a or b, not both'),
  }),
  /** A list property: an issue's path goes into it. */
  list: defineContract({ fields: {}, properties: z.object({ tags: z.array(z.string()).optional() }) }),
};

const TYPE = 'playment-props-probe';

/** Sends on the message's values (or, with msg.sources, the sources before precedence, and its props). */
function probeModule(RED: RED): void {
  function Probe(this: Node, def: ActionNodeDef & { contract: keyof typeof CONTRACTS }) {
    RED.nodes.createNode(this, def);
    setupActionNode({
      red: RED,
      node: this,
      def,
      type: TYPE,
      contract: CONTRACTS[def.contract] as typeof CONTRACTS.main,
      sendsNothing: () => true,
      configCheck: () => undefined,
      handler: async (msg, ctx) => {
        if (msg.sources) {
          const s = await ctx.inputSources(['label', 'count', 'note']);
          msg.payload = { node: s.node, nodeKeys: Object.keys(s.node), msg: s.msg, msgKeys: Object.keys(s.msg), props: ctx.props };
        } else {
          msg.payload = await ctx.input('label', 'count', 'note');
        }
        return { messages: [msg], statusText: '' };
      },
    });
  }
  RED.nodes.registerType(TYPE, Probe as never);
}

describe('input contract: node properties at start, blank and typed node values', () => {
  const outputs: any[] = [];
  const caught: any[] = [];
  const probes: Record<string, Record<string, unknown>> = {
    plain: { contract: 'main', label: '  from-node  ', labelType: 'str', note: ' short ' },
    defaults: { contract: 'main', mode: '', strict: null },
    chosen: { contract: 'main', mode: 'slow', strict: false, lenient: true },
    blankPath: { contract: 'main', label: '   ', labelType: 'msg' },
    missingPath: { contract: 'main', labelType: 'msg', countType: 'flow' },
    badPath: { contract: 'main', label: 'custom[', labelType: 'msg' },
    badMode: { contract: 'main', mode: 'medium' },
    badFlag: { contract: 'main', strict: 'yes' },
    numberType: { contract: 'main', count: '3', countType: 5 },
    longNote: { contract: 'main', note: '  too long for it  ' },
    both: { contract: 'either', a: 'x', b: 'y' },
    badTag: { contract: 'list', tags: ['ok', 5] },
  };

  before(() => new Promise((resolve) => helper.startServer(resolve)));
  // Each test starts the nodes itself: their properties are parsed when they start.
  beforeEach(async () => {
    const flow = [
      { id: 'tab', type: 'tab', label: 'properties' },
      { id: 'cfg', type: 'playment-config', z: 'tab', projectId: 'p' },
      ...Object.entries(probes).map(([id, props]) => ({ id, type: TYPE, z: 'tab', config: 'cfg', x: 0, y: 0, wires: [['out']], ...props })),
      { id: 'catch', type: 'catch', z: 'tab', x: 0, y: 0, scope: null, uncaught: false, wires: [['caught']] },
      { id: 'out', type: 'helper', z: 'tab', x: 0, y: 0 },
      { id: 'caught', type: 'helper', z: 'tab', x: 0, y: 0 },
    ];
    await helper.load([configNode, probeModule], flow, { cfg: { apiKey: '' } });
    helper.getNode('out').on('input', (m: any) => outputs.push(m));
    helper.getNode('caught').on('input', (m: any) => caught.push(m));
  });

  afterEach(() => helper.unload());
  after(async () => {
    await helper.unload();
    await new Promise((resolve) => helper.stopServer(resolve));
  });

  /** What probe `id` resolves `msg` to, or the error it ends with. */
  async function resolve(id: string, msg: Record<string, unknown> = {}): Promise<any> {
    const _msgid = `${id}-${outputs.length + caught.length}`;
    helper.getNode(id).receive({ _msgid, ...msg });
    await waitFor(`${_msgid} to end`, () => [...outputs, ...caught].some((m) => m._msgid === _msgid), 10_000, 5);
    const out = outputs.find((m) => m._msgid === _msgid);
    return out ? out.payload : { error: caught.find((m) => m._msgid === _msgid).error };
  }

  /** The NOT_CONFIGURED text a probe ends every message with. */
  async function problem(id: string): Promise<string> {
    const { error } = await resolve(id);
    assert.equal(error?.code, 'NOT_CONFIGURED', `${id}: ${JSON.stringify(error)}`);
    return error.message.replace(`PlaymentError: the ${TYPE} node is not usable: `, '');
  }

  it('literal node values are trimmed, whether typed or not, and win over the message', async () => {
    assert.deepEqual(await resolve('plain', { label: 'from-msg', note: 'msg' }), { label: 'from-node', count: 1, note: 'short' });
  });

  it('a select property blank is its first choice, a checkbox missing or null its default', async () => {
    const { props } = await resolve('defaults', { sources: true });
    assert.deepEqual(props, { mode: 'fast', strict: true, lenient: false });
    assert.deepEqual((await resolve('chosen', { sources: true })).props, { mode: 'slow', strict: false, lenient: true });
  });

  it('the sources leave out blank places: a blank node value, a message without the field', async () => {
    const s = await resolve('plain', { sources: true, count: 7 });
    assert.deepEqual([s.nodeKeys, s.node], [['label', 'note'], { label: 'from-node', note: 'short' }]);
    assert.deepEqual([s.msgKeys, s.msg], [['count'], { count: 7 }]);
  });

  it('a typed value that is blank or missing leaves the field to the message', async () => {
    assert.deepEqual(await resolve('blankPath', { label: 'from-msg', '   ': 'a key of spaces' }), {
      label: 'from-msg',
      count: 1,
      note: undefined,
    });
    assert.deepEqual(await resolve('missingPath', { label: 'from-msg', count: 2 }), { label: 'from-msg', count: 2, note: undefined });
  });

  it("a typed value Node-RED cannot evaluate ends the message with Node-RED's error", async () => {
    const { error } = await resolve('badPath', { label: 'from-msg' });
    assert.equal(error.code, 'INTERNAL');
    assert.equal(error.message, 'PlaymentError: Invalid property expression: unterminated expression');
  });

  it('a bad node property makes the node not usable, naming the property', async () => {
    assert.equal(await problem('badMode'), 'mode: must be one of "fast", "slow"; got "medium"');
    assert.equal(await problem('badFlag'), 'strict: must be true or false; got "yes"');
    assert.equal(await problem('numberType'), 'countType: must be one of "num", "msg", "flow", "global", "env"; got "5"');
    assert.equal(await problem('longNote'), 'note: at most 5 characters', 'an untyped value is a literal, checked at start');
  });

  it('a problem of the properties as a whole names `properties`; one inside a list names its place', async () => {
    assert.equal(await problem('both'), 'properties: set a or b, not both');
    assert.match(await problem('badTag'), /^tags\.1: /);
  });
});
