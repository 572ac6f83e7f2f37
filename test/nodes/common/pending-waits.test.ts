/**
 * Waits kept in a node's context: in a real Node-RED runtime's context store, what is kept of a
 * message, and which instance resumes which waits.
 */
import assert from 'node:assert/strict';
import { helper } from '../../support/harness';
import { PendingWaits, SentJobs } from '../../../src/nodes/common/pending-waits';

describe('PendingWaits', () => {
  let node: any;

  before(() => new Promise<void>((resolve) => helper.startServer(resolve)));
  after(async () => {
    await helper.unload();
    await new Promise((resolve) => helper.stopServer(resolve));
  });
  beforeEach(async () => {
    await helper.load([], [{ id: 'h', type: 'helper' }]);
    node = helper.getNode('h');
  });
  afterEach(() => helper.unload());

  const keys = (): string[] => node.context().keys();

  it('keeps a JSON copy of the message, without its id, HTTP objects or unstorable fields', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const msg = {
      _msgid: 'm1',
      req: { a: 1 },
      res: { b: 2 },
      payload: { job_id: 'j1' },
      topic: 't',
      when: new Date(0),
      fn: () => 1,
      nothing: undefined,
      big: 1n,
      cyclic,
    };
    const before = Date.now();
    await new PendingWaits(node, true).save('w1', msg as any);
    assert.deepEqual(keys(), ['playment-wait:w1']);
    const [wait] = await new PendingWaits(node, true).takeAll();
    assert.deepEqual(wait.msg, { payload: { job_id: 'j1' }, topic: 't', when: '1970-01-01T00:00:00.000Z' });
    assert.ok(wait.savedAt >= before && wait.savedAt <= Date.now());
    assert.equal(typeof wait.owner, 'string');
  });

  it('resumes only waits of earlier instances, and removes what it resumes', async () => {
    const earlier = new PendingWaits(node, true);
    await earlier.save('a', { payload: 'a' } as any);
    await earlier.save('b', { payload: 'b' } as any);
    const current = new PendingWaits(node, true);
    await current.save('c', { payload: 'c' } as any);
    assert.deepEqual(
      (await earlier.takeAll()).map((w) => w.msg.payload),
      ['c'],
    );
    const resumed = await current.takeAll();
    assert.deepEqual(resumed.map((w) => w.msg.payload).sort(), ['a', 'b']);
    assert.deepEqual(keys(), []);
    assert.deepEqual(await new PendingWaits(node, true).takeAll(), []);
  });

  it('stores nothing when the context does not outlive the node', async () => {
    const waits = new PendingWaits(node, false);
    await waits.save('a', { payload: 1 } as any);
    assert.deepEqual(keys(), []);
    node.context().set('playment-wait:old', { msg: { payload: 0 }, savedAt: 0, owner: 'earlier' });
    await waits.forget('old');
    assert.deepEqual(await waits.takeAll(), []);
    assert.deepEqual(keys(), ['playment-wait:old']);
  });

  it('forgets a wait that ended', async () => {
    const waits = new PendingWaits(node, true);
    await waits.save('a', { payload: 1 } as any);
    await waits.save('b', { payload: 2 } as any);
    await waits.forget('a');
    assert.deepEqual(keys(), ['playment-wait:b']);
  });

  it('leaves other context keys alone and skips values that are no waits', async () => {
    const ctx = node.context();
    ctx.set('counter', { msg: 'not ours' });
    ctx.set('playment-wait:odd', 'text');
    ctx.set('playment-wait:empty', {});
    await new PendingWaits(node, true).save('ok', { payload: 'ok' } as any);
    const resumed = await new PendingWaits(node, true).takeAll();
    assert.deepEqual(
      resumed.map((w) => w.msg),
      [{ payload: 'ok' }],
    );
    assert.deepEqual(keys().sort(), ['counter', 'playment-wait:empty', 'playment-wait:odd']);
  });

  it('resumes nothing when the context store cannot be read', async () => {
    const failing = {
      keys: (cb: (err: Error | null, k?: string[]) => void) => cb(new Error('store down')),
      get: () => assert.fail('nothing to get'),
      set: () => assert.fail('nothing to set'),
    };
    assert.deepEqual(await new PendingWaits({ context: () => failing } as any, true).takeAll(), []);
    const unreadable = {
      keys: (cb: (err: Error | null, k?: string[]) => void) => cb(null, ['playment-wait:x']),
      get: (_key: string, cb: (err: Error | null, v?: unknown) => void) => cb(new Error('store down'), { msg: {}, owner: 'x' }),
      set: () => assert.fail('nothing to remove'),
    };
    assert.deepEqual(await new PendingWaits({ context: () => unreadable } as any, true).takeAll(), []);
  });
});

describe('SentJobs', () => {
  let node: any;

  before(() => new Promise<void>((resolve) => helper.startServer(resolve)));
  after(async () => {
    await helper.unload();
    await new Promise((resolve) => helper.stopServer(resolve));
  });
  beforeEach(async () => {
    await helper.load([], [{ id: 'h', type: 'helper' }]);
    node = helper.getNode('h');
  });
  afterEach(() => helper.unload());

  it('keeps the sent jobs of a batch in the context, for the next instance of the node', async () => {
    const sent = new SentJobs(node, true);
    assert.deepEqual([...(await sent.load('b1'))], []);
    await sent.add('b1', 'j1');
    await sent.add('b1', 'j2');
    await sent.add('b1', 'j1');
    assert.deepEqual(node.context().get('playment-sent:b1'), ['j1', 'j2']);
    assert.deepEqual([...(await new SentJobs(node, true).load('b1'))], ['j1', 'j2']);
  });

  it('reads only the job ids of what the context holds, and the store once per batch', async () => {
    const ctx = node.context();
    ctx.set('playment-sent:b1', ['j1', 7, null, 'j2', { id: 'j3' }]);
    ctx.set('playment-sent:b2', { j1: true });
    const reads: string[] = [];
    const counting = { ...ctx, get: (key: string, cb: (err: Error | null, v: unknown) => void) => (reads.push(key), ctx.get(key, cb)) };
    const sent = new SentJobs({ context: () => counting } as any, true);
    assert.deepEqual([...(await sent.load('b1'))], ['j1', 'j2']);
    assert.deepEqual([...(await sent.load('b2'))], []);
    assert.equal(await sent.load('b1'), await sent.load('b1'));
    assert.deepEqual(reads, ['playment-sent:b1', 'playment-sent:b2']);
  });

  it('without a store that outlives the node, keeps them in memory only', async () => {
    node.context().set('playment-sent:b1', ['old']);
    const sent = new SentJobs(node, false);
    assert.deepEqual([...(await sent.load('b1'))], []);
    await sent.add('b1', 'j1');
    assert.deepEqual([...(await sent.load('b1'))], ['j1']);
    assert.deepEqual(node.context().get('playment-sent:b1'), ['old']);
  });
});
