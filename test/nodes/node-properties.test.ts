/**
 * A node's own properties are parsed once when it starts: a bad stored value (a hand-edited or
 * imported flows.json) shows the red "not configured" ring at deploy, and each message ends once
 * with a NOT_CONFIGURED naming the property; nothing is sent.
 */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import { PROJECT, SUBMIT_NODE, assertEachEndedOnce, frames, helper, inject, loadFlow, useSandboxRuntime } from '../support/harness';

const BATCH = { id: 'n1', type: 'playment-create-batch', batchName: 'night-drive', batchNameType: 'str', wires: [['out']] };
const RESULT = { id: 'n1', type: 'playment-job-result', mode: 'once', wires: [['out']] };

/** The statuses node n1 showed since it started. */
function statuses(): unknown[] {
  const node = helper.getNode('n1');
  return node.status
    .getCalls()
    .filter((c: any) => c.thisValue === node)
    .map((c: any) => c.args[0]);
}

/** What each message sends: enough to reach the API were the node usable. */
const MESSAGES: Record<string, Record<string, unknown>> = {
  'playment-submit-video-job': { payload: frames(2, 'https://cdn.example.com/props') },
  'playment-create-batch': { payload: 'props-batch' },
  'playment-job-result': { job_id: 'job-1' },
};

describe('node properties: parsed once at start', () => {
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an unknown frame order', { ...SUBMIT_NODE, frameOrder: 'random' }, /frameOrder: must be one of "given", "natural"; got "random"/],
    [
      'an unknown "if the job exists" choice',
      { ...SUBMIT_NODE, existing: 'ignore' },
      /existing: must be one of "send", "error"; got "ignore"/,
    ],
    [
      'frames per job that is not a number',
      { ...SUBMIT_NODE, maxFramesPerJob: 'ten' },
      /maxFramesPerJob: must be a whole number from 0 to 100,000 \(frames\); got "ten"/,
    ],
    ['a negative overlap', { ...SUBMIT_NODE, overlap: -1 }, /overlap: must be a whole number from 0 to 100,000 \(frames\); got -1/],
    ['a dry-run flag that is not a boolean', { ...SUBMIT_NODE, dryRun: 'yes' }, /dryRun: must be true or false; got "yes"/],
    [
      'a literal priority that is not a number',
      { ...SUBMIT_NODE, priorityWeight: 'high', priorityWeightType: 'num' },
      /priorityWeight: priority_weight must be an integer from 1 to 10, got "high"/,
    ],
    [
      'a literal batch id that is not a UUID',
      { ...SUBMIT_NODE, batchId: 'drive-7', batchIdType: 'str' },
      /batchId: batch_id must be a UUID/,
    ],
    [
      'a TypedInput type the dialog does not offer',
      { ...SUBMIT_NODE, tagType: 'jsonata' },
      /tagType: must be one of "str", "msg", "flow", "global", "env"; got "jsonata"/,
    ],
    [
      'a create-batch reuse flag that is not a boolean',
      { ...BATCH, reuseExisting: 'false' },
      /reuseExisting: must be true or false; got "false"/,
    ],
    [
      'a literal batch name longer than 255 characters',
      { ...BATCH, batchName: 'x'.repeat(256) },
      /batchName: batch name is 256 characters long, more than 255/,
    ],
    ['an unknown job-result mode', { ...RESULT, mode: 'forever' }, /mode: must be one of "once", "wait", "batch"; got "forever"/],
    ['a job-result download flag that is not a boolean', { ...RESULT, download: 1 }, /download: must be true or false; got 1/],
    ['a literal job id ".."', { ...RESULT, jobId: '..', jobIdType: 'str' }, /jobId: job id "\.\." cannot be used in a request path/],
  ];
  for (const [name, props, message] of cases) {
    it(`${name}: a red ring at deploy, one NOT_CONFIGURED per message naming the property, nothing sent`, async () => {
      const type = String(props.type);
      const rec = await loadFlow(sandbox, [props]);
      assert.deepEqual(
        statuses(),
        [{ fill: 'red', shape: 'ring', text: `${type}.status.notConfigured` }],
        'the ring shows before any message',
      );
      inject({ _msgid: 'first', ...MESSAGES[type] });
      inject({ _msgid: 'second', ...MESSAGES[type] });
      await assertEachEndedOnce(rec, new Set(['first', 'second']), 15_000, 50);
      assert.equal(rec.outputs.length, 0);
      assert.equal(rec.completed.length, 0);
      for (const m of rec.caught) {
        assert.equal(m.error.code, 'NOT_CONFIGURED');
        assert.match(m.error.message, new RegExp(`the ${type} node is not usable: `));
        assert.match(m.error.message, message);
      }
      assert.equal(sandbox.state.requestCount, 0, 'no request was sent');
    });
  }

  it('the same properties in their valid forms: no ring, the message goes through', async () => {
    const rec = await loadFlow(sandbox, [
      {
        ...SUBMIT_NODE,
        frameOrder: 'natural',
        existing: 'error',
        maxFramesPerJob: '',
        overlap: '0',
        dryRun: false,
        priorityWeight: ' 7 ',
        priorityWeightType: 'num',
        batchId: '',
        batchIdType: '',
      },
    ]);
    assert.deepEqual(statuses(), []);
    inject({ payload: frames(2, 'https://cdn.example.com/props-ok') });
    await rec.settled(1);
    assert.equal(rec.caught.length, 0, JSON.stringify(rec.caught.map((m) => m.error)));
    assert.equal(sandbox.state.jobsByReferenceId(PROJECT, rec.outputs[0].reference_id)[0].priorityWeight, 7);
  });
});
