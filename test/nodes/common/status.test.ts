/**
 * The status board of the action nodes: the counts, progress and outcomes it shows, in the texts
 * of the nodes' own message catalogues.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { StatusBoard } from '../../../src/nodes/common/status';

type Shown = { fill?: string; shape?: string; text?: string };

/** A board for `type` whose texts come from the node's en-US catalogue, as the runtime fills them. */
function board(type: string): { board: StatusBoard; shown: Shown[] } {
  const catalogue = JSON.parse(readFileSync(require.resolve(`../../../nodes/locales/en-US/${type}.json`), 'utf8'));
  const red = {
    _: (key: string, vars: Record<string, unknown> = {}) => {
      let text: any = catalogue;
      for (const part of key.split('.')) text = text[part];
      assert.equal(typeof text, 'string', `no text for ${key}`);
      return (text as string).replace(/__(\w+)__/g, (_m, name: string) => String(vars[name]));
    },
  } as any;
  const shown: Shown[] = [];
  return { board: new StatusBoard(red, { status: (s: Shown) => shown.push(s) } as any, type), shown };
}

describe('StatusBoard', () => {
  it('shows the progress of a message, then the counts again when it ends', () => {
    const { board: b, shown } = board('playment-submit-video-job');
    b.enqueue();
    b.start();
    b.setProgress(3, 10);
    assert.deepEqual(shown.at(-1), { fill: 'blue', shape: 'dot', text: '3/10' });
    b.enqueue();
    b.finish(true, { ok: true, text: 'job j1' });
    assert.deepEqual(shown.at(-1), { fill: 'blue', shape: 'dot', text: '1 queued, 0 in flight' });
  });

  it('a message that ends before it left the queue leaves the others counted', () => {
    const { board: b, shown } = board('playment-create-batch');
    b.enqueue();
    b.enqueue();
    b.finish(false, { ok: false, code: 'QUEUE_FULL' });
    assert.equal(shown.at(-1)!.text, '1 queued, 0 in flight');
    b.start();
    assert.equal(shown.at(-1)!.text, '1 in flight');
    b.finish(true, { ok: true, text: 'batch b1' });
    assert.deepEqual(shown.at(-1), { fill: 'green', shape: 'dot', text: 'batch b1' });
  });

  it('a message started without being queued (a resumed wait) leaves the queue count alone', () => {
    const { board: b, shown } = board('playment-job-result');
    b.start();
    assert.equal(shown.at(-1)!.text, '1 in flight');
    b.enqueue();
    assert.equal(shown.at(-1)!.text, '1 queued, 1 in flight');
  });

  it('the last message failing shows its error code on a red ring', () => {
    const { board: b, shown } = board('playment-submit-video-job');
    b.enqueue();
    b.start();
    b.finish(true, { ok: false, code: 'INVALID_INPUT' });
    assert.deepEqual(shown.at(-1), { fill: 'red', shape: 'ring', text: 'INVALID_INPUT' });
  });

  it('a message that stops waiting takes its jobs out of the waiting count', () => {
    const { board: b, shown } = board('playment-job-result');
    for (let i = 0; i < 2; i++) {
      b.enqueue();
      b.start();
      b.beginWait(3);
    }
    assert.equal(shown.at(-1)!.text, '6 waiting');
    b.endWait(2);
    assert.equal(shown.at(-1)!.text, '4 waiting, 1 in flight');
    b.endWait(9);
    assert.equal(shown.at(-1)!.text, '2 in flight');
    b.clear();
    assert.deepEqual(shown.at(-1), {});
  });
});
