/**
 * The shared input wrapper itself, in a real runtime: a test-only node registered through
 * registerActionNode whose handler each test sets. What users see is checked: Complete and Catch
 * events (once per message), the error's code, text and stack (no key, no cause), msg.statusCode,
 * the node's statuses in order, each output its own message, and how the node closes (the
 * grace from the config node, then abort, then a short cap).
 */
import assert from 'node:assert/strict';
import { mock } from 'node:test';
import { z } from 'zod';
import { PlaymentError } from '../../src/api/errors';
import { registerActionNode, type ActionContext, type ActionResult } from '../../src/nodes/common/action-node';
import { choice, defineContract } from '../../src/nodes/common/input-contract';
import type { Msg, RED } from '../../src/nodes/common/red';
import configNode from '../../src/nodes/playment-config';
import { API_KEY, helper, type TestNode } from '../support/harness';
import { waitFor } from '../support/wait';

/** registerActionNode upgrades saved properties by node type: the test node borrows a known one. */
const TYPE = 'playment-create-batch';
const CONTRACT = defineContract({ fields: {}, properties: z.object({ mode: choice(['a', 'b']) }) });
type Ctx = ActionContext<typeof CONTRACT>;

let behave: (msg: Msg, ctx: Ctx) => Promise<ActionResult>;
let startedWith: unknown[] = [];

/** Status texts with their values, as a catalogue would render them (the helper's `_` drops them). */
function render(key: string, vars?: Record<string, unknown>): string {
  return [key, ...Object.entries(vars ?? {}).map(([k, v]) => `${k}=${String(v)}`)].join(' ');
}

function testNodeModule(RED: RED): void {
  const red = Object.create(RED, { _: { value: render } }) as RED;
  registerActionNode(red, {
    type: TYPE,
    contract: CONTRACT,
    behaviour: () => ({
      handler: (msg, ctx) => behave(msg, ctx),
      sendsNothing: (msg) => msg.dry === true,
      started: (props) => startedWith.push(props),
    }),
  });
}

const status = (key: string, vars?: Record<string, unknown>) => ({
  fill: 'blue',
  shape: 'dot',
  text: render(`${TYPE}.status.${key}`, vars),
});
const QUEUED = status('queued', { queued: 1, inFlight: 0 });
const IN_FLIGHT = status('inFlight', { count: 1 });
const green = (text: string) => ({ fill: 'green', shape: 'dot', text });
const failed = (code: string) => ({ fill: 'red', shape: 'ring', text: render(`${TYPE}.status.failed`, { code }) });
const NOT_CONFIGURED = { fill: 'red', shape: 'ring', text: render(`${TYPE}.status.notConfigured`) };

interface Rec {
  node: TestNode;
  /** The node's status spy (the helper restores it when the flow stops). */
  status: TestNode['status'];
  outputs: any[];
  caught: any[];
  completed: any[];
  /** How each message ended on the node itself (the recorders stop with the flow). */
  ended: Array<{ id: string; code?: string; message?: string }>;
}

function flow(n1: Record<string, unknown>, withNode = true): any[] {
  return [
    { id: 'tab', type: 'tab', label: 'wrapper' },
    { id: 'cfg', type: 'playment-config', z: 'tab', baseUrl: 'http://127.0.0.1:9', projectId: 'p', apiVersion: 'v0' },
    ...(withNode ? [{ id: 'n1', type: TYPE, z: 'tab', config: 'cfg', x: 0, y: 0, wires: [['out']], ...n1 }] : []),
    { id: 'catch', type: 'catch', z: 'tab', x: 0, y: 0, scope: null, uncaught: false, wires: [['caught']] },
    { id: 'complete', type: 'complete', z: 'tab', x: 0, y: 0, scope: ['n1'], uncaught: false, wires: [['completed']] },
    { id: 'out', type: 'helper', z: 'tab', x: 0, y: 0 },
    { id: 'caught', type: 'helper', z: 'tab', x: 0, y: 0 },
    { id: 'completed', type: 'helper', z: 'tab', x: 0, y: 0 },
  ];
}

async function load(n1: Record<string, unknown> = {}, credentials: object = { cfg: { apiKey: API_KEY } }): Promise<Rec> {
  await helper.load([configNode, testNodeModule], flow(n1), credentials);
  const node = helper.getNode('n1');
  const spy = node.status;
  const rec: Rec = { node, status: spy, outputs: [], caught: [], completed: [], ended: [] };
  helper.getNode('out').on('input', (m: any) => rec.outputs.push(m));
  helper.getNode('caught').on('input', (m: any) => rec.caught.push(m));
  helper.getNode('completed').on('input', (m: any) => rec.completed.push(m));
  // Through the node itself, so the spy still records when the helper restores it as the flow stops.
  node.status = function (this: unknown, ...args: unknown[]) {
    return spy.apply(this, args);
  } as TestNode['status'];
  const complete = node._complete.bind(node);
  node._complete = (msg: { _msgid: string }, err?: { code?: string; message?: string }) => {
    rec.ended.push(err ? { id: msg._msgid, code: err.code, message: err.message } : { id: msg._msgid });
    complete(msg, err);
  };
  return rec;
}

function statuses(rec: Rec): unknown[] {
  return rec.status
    .getCalls()
    .filter((c: any) => c.thisValue === rec.node)
    .map((c: any) => c.args[0]);
}

async function ended(rec: Rec, count: number): Promise<void> {
  await waitFor(`${count} messages to end`, () => rec.completed.length + rec.caught.length >= count, 10_000, 5);
  // Late second endings would show in this time.
  await flush();
}

/** Lets pending callbacks run (setImmediate is not mocked when the tests mock setTimeout). */
async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

function until(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve())));
}

describe('action wrapper: a test node registered through registerActionNode', () => {
  before(() => new Promise<void>((resolve) => void helper.startServer(resolve)));
  after(async () => {
    await helper.unload();
    await new Promise<void>((resolve) => void helper.stopServer(resolve));
  });
  beforeEach(() => {
    startedWith = [];
  });
  afterEach(async () => {
    mock.timers.reset();
    await helper.unload();
  });

  describe('each message ends exactly once', () => {
    it('sends each output as its own message and calls done once; an empty result sends nothing', async () => {
      behave = async (msg) => ({
        messages:
          msg.kind === 'two'
            ? [
                { _msgid: 'out-1', payload: 1 },
                { _msgid: 'out-2', payload: 2 },
              ]
            : [],
        statusText: `sent ${String(msg.kind)}`,
      });
      const rec = await load();
      rec.node.receive({ _msgid: 'two', kind: 'two' });
      rec.node.receive({ _msgid: 'none', kind: 'none' });
      await ended(rec, 2);
      assert.deepEqual(
        rec.outputs.map((m) => m.payload),
        [1, 2],
      );
      assert.notEqual(rec.outputs[0], rec.outputs[1]);
      assert.deepEqual(rec.completed.map((m) => m._msgid).sort(), ['none', 'two']);
      assert.deepEqual(rec.caught, []);
      assert.equal(rec.node.send.getCalls().filter((c: any) => c.thisValue === rec.node).length, 1, 'nothing is sent for an empty result');
    });

    it('parts sent before an error go out, then the error ends the message (no Complete)', async () => {
      behave = async () => ({
        messages: [{ _msgid: 'part', payload: 'part' }],
        statusText: 'unused',
        error: new PlaymentError({ code: 'FS_0001', message: 'one of two failed' }),
      });
      const rec = await load();
      rec.node.receive({ _msgid: 'partial' });
      await ended(rec, 1);
      assert.deepEqual(
        rec.outputs.map((m) => m.payload),
        ['part'],
      );
      assert.deepEqual(
        rec.caught.map((m) => [m._msgid, m.error.code, m.error.message]),
        [['partial', 'FS_0001', 'PlaymentError: one of two failed']],
      );
      assert.deepEqual(rec.completed, []);
      assert.deepEqual(statuses(rec), [QUEUED, failed('FS_0001')]);
    });
  });

  describe('the status board', () => {
    it('queued, in flight once however often onStart is called, then green with the text', async () => {
      behave = async (msg, ctx) => {
        if (msg.start) {
          ctx.call.onStart?.();
          ctx.call.onStart?.();
        }
        return { messages: [], statusText: `done ${String(msg._msgid)}` };
      };
      const rec = await load();
      rec.node.receive({ _msgid: 'started', start: true });
      await ended(rec, 1);
      assert.deepEqual(statuses(rec), [QUEUED, IN_FLIGHT, green('done started')]);
      rec.status.resetHistory();
      rec.node.receive({ _msgid: 'queued-only' });
      await ended(rec, 2);
      assert.deepEqual(statuses(rec), [QUEUED, green('done queued-only')], 'a message that never started leaves the queue');
    });

    it('a failure shows its code: ours for a PlaymentError, ERROR for anything else', async () => {
      behave = async (msg) => {
        throw msg.plain ? new Error('boom') : new PlaymentError({ code: 'FS_0003', message: 'refused' });
      };
      const rec = await load();
      rec.node.receive({ _msgid: 'api' });
      await ended(rec, 1);
      rec.node.receive({ _msgid: 'plain', plain: true });
      await ended(rec, 2);
      assert.deepEqual(statuses(rec), [QUEUED, failed('FS_0003'), QUEUED, failed('ERROR')]);
    });
  });

  describe('errors as Catch nodes see them', () => {
    it('our code, the text without the key, a one-line stack, no cause, msg.statusCode only when the API answered', async () => {
      behave = async (msg) => {
        if (msg.kind === 'api') {
          throw new PlaymentError({
            code: 'FS_0003',
            message: `refused key ${API_KEY}`,
            statusCode: 403,
            cause: new Error('socket internals'),
          });
        }
        if (msg.kind === 'plain') throw new Error(`boom with ${API_KEY}`);
        throw 'just a string';
      };
      const rec = await load();
      rec.node.receive({ _msgid: 'api', kind: 'api' });
      rec.node.receive({ _msgid: 'plain', kind: 'plain', statusCode: 200 });
      rec.node.receive({ _msgid: 'string', kind: 'string' });
      await ended(rec, 3);
      const byId = Object.fromEntries(rec.caught.map((m) => [m._msgid, m]));
      assert.deepEqual(Object.keys(byId).sort(), ['api', 'plain', 'string']);
      assert.deepEqual(
        [byId.api.error.code, byId.api.error.message, byId.api.error.stack, byId.api.statusCode],
        ['FS_0003', 'PlaymentError: refused key ***', 'PlaymentError: refused key ***', 403],
      );
      assert.ok(!('cause' in byId.api.error), 'no cause');
      assert.deepEqual(
        [byId.plain.error.code, byId.plain.error.message, byId.plain.statusCode],
        ['INTERNAL', 'PlaymentError: boom with ***', 200],
        'an upstream statusCode is left alone when the API did not answer',
      );
      assert.deepEqual([byId.string.error.code, byId.string.error.message], ['INTERNAL', 'PlaymentError: just a string']);
      assert.ok(!('statusCode' in byId.string), 'no statusCode');
      assert.deepEqual(rec.completed, []);
    });

    it('a handler that breaks the result contract is logged as an internal error, and its message still ends once, with it', async () => {
      // A programming error in a node (no result): the message is not left without an ending.
      behave = async () => undefined as unknown as ActionResult;
      const rec = await load();
      rec.node.receive({ _msgid: 'broken' });
      await ended(rec, 1);
      const errors = rec.node.error.getCalls().filter((c: any) => c.thisValue === rec.node);
      assert.match(String(errors[0].args[0]), /^internal error while ending a message: TypeError: /);
      assert.deepEqual(
        rec.caught.map((m) => [m._msgid, m.error.code]),
        [['broken', 'INTERNAL']],
      );
      assert.deepEqual(rec.completed, []);
      assert.deepEqual(statuses(rec), [QUEUED, failed('INTERNAL')], 'the queued count goes back down');
    });

    it('ctx.reportable gives the error as the wrapper reports it, for a message the handler ends itself', async () => {
      behave = async (_msg, ctx) => {
        const out: Msg = { _msgid: 'own', payload: 'own' };
        const err = ctx.reportable(new PlaymentError({ code: 'FS_0003', message: `bad ${API_KEY}`, statusCode: 429 }), out);
        out.failure = { code: (err as PlaymentError).code, message: err.message };
        return { messages: [out], statusText: '' };
      };
      const rec = await load();
      rec.node.receive({ _msgid: 'in' });
      await ended(rec, 1);
      assert.deepEqual(
        rec.outputs.map((m) => [m.failure, m.statusCode]),
        [[{ code: 'FS_0003', message: 'bad ***' }, 429]],
      );
    });

    it('a config node without credentials: errors still end the message', async () => {
      behave = async () => {
        throw new PlaymentError({ code: 'FS_0003', message: 'refused' });
      };
      const rec = await load({}, {});
      rec.node.receive({ _msgid: 'no-key', dry: true });
      await ended(rec, 1);
      assert.deepEqual(
        rec.caught.map((m) => m.error.code),
        ['FS_0003'],
      );
    });
  });

  describe('the client and the node properties', () => {
    it('a message that sends nothing needs no client; reading ctx.client anyway is NOT_CONFIGURED', async () => {
      behave = async (msg, ctx) => {
        msg.payload = msg.read ? ctx.client === helper.getNode('cfg').client : 'untouched';
        return { messages: [msg], statusText: '' };
      };
      const rec = await load({}, { cfg: { apiKey: '' } });
      rec.node.receive({ _msgid: 'dry', dry: true });
      rec.node.receive({ _msgid: 'dry-read', dry: true, read: true });
      rec.node.receive({ _msgid: 'wet' });
      await ended(rec, 3);
      assert.deepEqual(
        rec.outputs.map((m) => [m._msgid, m.payload]),
        [['dry', 'untouched']],
      );
      assert.deepEqual(rec.caught.map((m) => [m._msgid, m.error.code]).sort(), [
        ['dry-read', 'NOT_CONFIGURED'],
        ['wet', 'NOT_CONFIGURED'],
      ]);
      await helper.unload();
      const usable = await load();
      usable.node.receive({ _msgid: 'read', read: true });
      await ended(usable, 1);
      assert.deepEqual(
        usable.outputs.map((m) => m.payload),
        [true],
        "ctx.client is the config node's client",
      );
    });

    it('started gets the parsed properties; a bad property: no started, a ring, NOT_CONFIGURED naming it', async () => {
      behave = async (msg) => ({ messages: [msg], statusText: '' });
      await load({ mode: '' });
      assert.deepEqual(startedWith, [{ mode: 'a' }]);
      await helper.unload();
      startedWith = [];
      const rec = await load({ mode: 'c' });
      assert.deepEqual(startedWith, []);
      rec.node.receive({ _msgid: 'bad' });
      await ended(rec, 1);
      assert.deepEqual(
        rec.caught.map((m) => [m.error.code, m.error.message]),
        [['NOT_CONFIGURED', `PlaymentError: the ${TYPE} node is not usable: mode: must be one of "a", "b"; got "c"`]],
      );
      assert.deepEqual(statuses(rec)[0], NOT_CONFIGURED);
    });

    it('no config node selected: messages end with NOT_CONFIGURED and the close still clears the status', async () => {
      behave = async (msg) => ({ messages: [msg], statusText: '' });
      const rec = await load({ config: '' });
      rec.node.receive({ _msgid: 'orphan' });
      await ended(rec, 1);
      assert.deepEqual(
        rec.caught.map((m) => m.error.code),
        ['NOT_CONFIGURED'],
      );
      await helper.unload();
      assert.deepEqual(statuses(rec).at(-1), {});
    });
  });

  describe('closing', () => {
    it('a redeploy: lifecycle says closing, not removed; waiting work ends with ABORTED at once', async () => {
      const seen: unknown[] = [];
      behave = async (_msg, ctx) => {
        seen.push({ ...ctx.lifecycle });
        await until(ctx.call.cancel!);
        seen.push({ ...ctx.lifecycle });
        throw ctx.call.cancel!.reason;
      };
      const rec = await load();
      rec.node.receive({ _msgid: 'waiting' });
      await waitFor('the handler to run', () => seen.length === 1, 10_000, 5);
      await helper.unload();
      assert.deepEqual(seen, [
        { closing: false, removed: false },
        { closing: true, removed: false },
      ]);
      assert.deepEqual(rec.ended, [{ id: 'waiting', code: 'ABORTED', message: 'the node was closed (redeploy or shutdown)' }]);
      assert.deepEqual(statuses(rec).at(-1), {}, 'the status is cleared');
    });

    it('a deletion: lifecycle says removed', async () => {
      const seen: unknown[] = [];
      behave = async (_msg, ctx) => {
        await until(ctx.call.cancel!);
        seen.push({ ...ctx.lifecycle });
        throw ctx.call.cancel!.reason;
      };
      const rec = await load();
      rec.node.receive({ _msgid: 'deleted' });
      await flush();
      await helper.setFlows(flow({}, false), 'nodes', { cfg: { apiKey: API_KEY } });
      await waitFor('the node to close', () => seen.length === 1, 10_000, 5);
      assert.deepEqual(seen, [{ closing: true, removed: true }]);
      assert.deepEqual(
        rec.ended.map((e) => e.code),
        ['ABORTED'],
      );
    });

    it('in-flight work gets the grace from the config node, then the abort; a message arriving meanwhile ends ABORTED unhandled', async () => {
      let handled = 0;
      let aborted = false;
      behave = async (_msg, ctx) => {
        handled++;
        await until(ctx.call.abort!);
        aborted = true;
        // An aborted exchange takes a moment to end: the close waits for it.
        await flush(5);
        throw ctx.call.abort!.reason;
      };
      const rec = await load();
      helper.getNode('cfg').closeGraceMs = 50;
      rec.node.receive({ _msgid: 'in-flight' });
      await waitFor('the handler to run', () => handled === 1, 10_000, 5);
      mock.timers.enable({ apis: ['setTimeout'] });
      let closed = false;
      const closing = helper.unload().then(() => (closed = true));
      await flush();
      rec.node.receive({ _msgid: 'late' });
      await flush();
      assert.deepEqual(rec.ended, [{ id: 'late', code: 'ABORTED', message: 'the node was closed (redeploy or shutdown)' }]);
      assert.equal(handled, 1, 'the handler did not run for it');
      mock.timers.tick(49);
      await flush();
      assert.equal(aborted, false, 'not before the grace is over');
      mock.timers.tick(1);
      await flush();
      assert.equal(aborted, true, 'aborted when the grace is over');
      await closing;
      assert.equal(closed, true);
      assert.deepEqual(rec.ended[1], { id: 'in-flight', code: 'ABORTED', message: 'the node was closed (redeploy or shutdown)' });
      assert.deepEqual(statuses(rec).at(-1), {}, 'cleared after the aborted message ended');
    });

    it('a message that ends within the grace is not aborted', async () => {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let abortedWhenDone: boolean | undefined;
      behave = async (msg, ctx) => {
        await released;
        abortedWhenDone = ctx.call.abort!.aborted;
        return { messages: [msg], statusText: '' };
      };
      const rec = await load();
      helper.getNode('cfg').closeGraceMs = 50;
      rec.node.receive({ _msgid: 'finishing' });
      await flush();
      mock.timers.enable({ apis: ['setTimeout'] });
      const closing = helper.unload();
      await flush();
      release();
      await closing;
      assert.equal(abortedWhenDone, false);
      assert.deepEqual(rec.ended, [{ id: 'finishing' }]);
    });

    it('a handler that ignores the abort holds the close no longer than the cap', async () => {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      behave = async (msg) => {
        await released;
        return { messages: [msg], statusText: '' };
      };
      const rec = await load();
      helper.getNode('cfg').closeGraceMs = 50;
      rec.node.receive({ _msgid: 'stuck' });
      await flush();
      mock.timers.enable({ apis: ['setTimeout'] });
      let closed = false;
      const closing = helper.unload().then(() => (closed = true));
      await flush();
      mock.timers.tick(50);
      await flush();
      mock.timers.tick(999);
      await flush();
      assert.equal(closed, false, 'the cap is not over');
      mock.timers.tick(1);
      await flush();
      assert.equal(closed, true, 'closed at the cap');
      await closing;
      release();
      await flush();
      assert.deepEqual(rec.ended, [{ id: 'stuck' }]);
    });
  });
});
