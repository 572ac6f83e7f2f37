/**
 * The input contract's one resolver, in a real runtime: a probe node declares a table and sends
 * on what each message resolves to. Precedence node > message > default; a blank (missing, null,
 * '') place leaves the field to the next; TypedInputs read msg, flow, global and env.
 */
import assert from 'node:assert/strict';
import { z } from 'zod';
import { setupActionNode, type ActionNodeDef } from '../../../src/nodes/common/action-node';
import { NUMBER_TYPES, STRING_TYPES, defineContract } from '../../../src/nodes/common/input-contract';
import type { Node, RED } from '../../../src/nodes/common/red';
import { helper } from '../../support/harness';
import { waitFor } from '../../support/wait';

import configNode from '../../../src/nodes/playment-config';
import changeNode from '@node-red/nodes/core/function/15-change.js';
import functionNode from '@node-red/nodes/core/function/10-function.js';

const PROBE = defineContract({
  fields: {
    label: { property: 'label', typeProperty: 'labelType', types: STRING_TYPES, msg: ['label', 'payload.label'], default: 'from-default' },
    count: {
      property: 'count',
      typeProperty: 'countType',
      types: NUMBER_TYPES,
      msg: ['payload.count'],
      default: 1,
      schema: z.coerce.number().int('count must be a whole number'),
    },
  },
  properties: z.object({}),
});

/** A node that resolves its contract and sends the values on; it sends nothing to any API. */
function probeModule(RED: RED): void {
  function Probe(this: Node, def: ActionNodeDef) {
    RED.nodes.createNode(this, def);
    setupActionNode({
      red: RED,
      node: this,
      def,
      type: 'playment-probe',
      contract: PROBE,
      sendsNothing: () => true,
      configCheck: () => undefined,
      handler: async (msg, ctx) => {
        msg.payload = await ctx.input('label', 'count');
        return { messages: [msg], statusText: '' };
      },
    });
  }
  RED.nodes.registerType('playment-probe', Probe as never);
}

const ENV = 'PLAYMENT_PROBE_LABEL';

describe('input contract: one resolver for every table', () => {
  const outputs: any[] = [];
  const caught: any[] = [];
  const probes: Record<string, Record<string, unknown>> = {
    literal: { label: 'from-node', labelType: 'str', count: '3', countType: 'num' },
    blank: { label: '  ', labelType: 'str', count: '', countType: 'num' },
    untyped: { label: 'from-node' },
    msg: { label: 'custom.label', labelType: 'msg', count: 'custom.count', countType: 'msg' },
    flow: { label: 'probe', labelType: 'flow' },
    global: { label: 'probe', labelType: 'global' },
    env: { label: ENV, labelType: 'env' },
  };

  before(async () => {
    process.env[ENV] = 'from-env';
    await new Promise((resolve) => helper.startServer(resolve));
    const flow = [
      { id: 'tab', type: 'tab', label: 'contract' },
      { id: 'cfg', type: 'playment-config', z: 'tab', projectId: 'p' },
      ...Object.entries(probes).map(([id, props]) => ({
        id,
        type: 'playment-probe',
        z: 'tab',
        config: 'cfg',
        x: 0,
        y: 0,
        wires: [['out']],
        ...props,
      })),
      {
        id: 'context',
        type: 'change',
        z: 'tab',
        x: 0,
        y: 0,
        rules: [
          { t: 'set', p: 'probe', pt: 'flow', to: 'from-flow', tot: 'str' },
          { t: 'set', p: 'probe', pt: 'global', to: 'from-global', tot: 'str' },
        ],
        wires: [['ready']],
      },
      // Objects built in a Function node come from another realm: still plain objects.
      {
        id: 'fn',
        type: 'function',
        z: 'tab',
        x: 0,
        y: 0,
        func: "msg.payload = { label: 'from-function', count: 6 }; return msg;",
        outputs: 1,
        wires: [['blank']],
      },
      { id: 'catch', type: 'catch', z: 'tab', x: 0, y: 0, scope: null, uncaught: false, wires: [['caught']] },
      { id: 'out', type: 'helper', z: 'tab', x: 0, y: 0 },
      { id: 'caught', type: 'helper', z: 'tab', x: 0, y: 0 },
      { id: 'ready', type: 'helper', z: 'tab', x: 0, y: 0 },
    ];
    await helper.load([configNode, changeNode, functionNode, probeModule], flow, { cfg: { apiKey: '' } });
    helper.getNode('out').on('input', (m: any) => outputs.push(m));
    helper.getNode('caught').on('input', (m: any) => caught.push(m));
    // Flow and global context set by a change node, as a user's flow would.
    const ready = new Promise((resolve) => helper.getNode('ready').once('input', resolve));
    helper.getNode('context').receive({ payload: '' });
    await ready;
  });

  after(async () => {
    delete process.env[ENV];
    await helper.unload();
    await new Promise((resolve) => helper.stopServer(resolve));
  });

  /** What probe `id` resolves `msg` to, or the error it ends with. */
  async function resolve(id: string, msg: Record<string, unknown>, via = id): Promise<any> {
    const _msgid = `${id}-${outputs.length + caught.length}`;
    helper.getNode(via).receive({ _msgid, ...msg });
    await waitFor(`${_msgid} to end`, () => [...outputs, ...caught].some((m) => m._msgid === _msgid), 10_000, 5);
    const out = outputs.find((m) => m._msgid === _msgid);
    return out ? out.payload : { error: caught.find((m) => m._msgid === _msgid).error };
  }

  it("the node's value wins over the message's", async () => {
    assert.deepEqual(await resolve('literal', { label: 'from-msg', payload: { count: 9 } }), { label: 'from-node', count: 3 });
    assert.deepEqual(await resolve('untyped', { label: 'from-msg' }), { label: 'from-node', count: 1 }, 'no type property: a literal');
  });

  it('a blank node field is filled from the message paths in order, then the default', async () => {
    assert.deepEqual(await resolve('blank', { label: 'from-msg', payload: { label: 'from-payload', count: '4' } }), {
      label: 'from-msg',
      count: 4,
    });
    assert.deepEqual(await resolve('blank', { label: '', payload: { label: 'from-payload' } }), { label: 'from-payload', count: 1 });
    assert.deepEqual(await resolve('blank', { label: null, payload: 'a string has no fields' }), { label: 'from-default', count: 1 });
    assert.deepEqual(await resolve('blank', {}, 'fn'), { label: 'from-function', count: 6 }, 'a payload built in a Function node');
  });

  it('a TypedInput reads msg, flow, global and env; a blank result leaves the field to the message', async () => {
    assert.deepEqual(await resolve('msg', { custom: { label: 'from-msg-path', count: 5 }, label: 'from-msg' }), {
      label: 'from-msg-path',
      count: 5,
    });
    assert.deepEqual(await resolve('msg', { custom: { label: '' }, label: 'from-msg' }), { label: 'from-msg', count: 1 });
    assert.deepEqual(await resolve('flow', { label: 'from-msg' }), { label: 'from-flow', count: 1 });
    assert.deepEqual(await resolve('global', { label: 'from-msg' }), { label: 'from-global', count: 1 });
    assert.deepEqual(await resolve('env', { label: 'from-msg' }), { label: 'from-env', count: 1 });
  });

  it("a value the field's schema refuses ends the message with INVALID_INPUT and the schema's text", async () => {
    const { error } = await resolve('blank', { payload: { count: 2.5 } });
    assert.equal(error.code, 'INVALID_INPUT');
    assert.match(error.message, /count must be a whole number/);
    const fromNode = await resolve('msg', { custom: { count: 'many' } });
    assert.equal(fromNode.error.code, 'INVALID_INPUT');
  });
});
