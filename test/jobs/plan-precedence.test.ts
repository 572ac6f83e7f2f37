/**
 * Where a bulk job's settings come from, as the submit node's help states it: the node's value
 * wins, then the sequence object's, then the message's; a sequence's own reference id is used as
 * given, and a node or message reference id is numbered for the sequences without one.
 */
import assert from 'node:assert/strict';
import { planJobs } from '../../src/jobs/plan';

const opts = { projectId: 'p', frameOrder: 'given' as const, maxFramesPerJob: 0, overlap: 0 };

describe('planning bulk jobs: precedence of node, sequence and message values', () => {
  it('takes the node value, then the sequence, then the message', () => {
    const jobs = planJobs(
      [{ frames: ['https://h/1.jpg'], tag: 'seq-tag', work_flow_id: 'seq-wf', priority_weight: 2 }, { frames: ['https://h/2.jpg'] }],
      { tag: 'node-tag' },
      { tag: 'msg-tag', work_flow_id: 'msg-wf', priority_weight: 7 },
      opts,
    );
    assert.deepEqual(
      jobs.map((j) => [j.body.tag, j.body.work_flow_id, j.body.priority_weight]),
      [
        ['node-tag', 'seq-wf', 2],
        ['node-tag', 'msg-wf', 7],
      ],
    );
  });

  it("keeps a sequence's own reference id and numbers the node's for the others", () => {
    const jobs = planJobs(
      [{ frames: ['https://h/1.jpg'] }, { frames: ['https://h/2.jpg'], reference_id: 'own' }, { frames: ['https://h/3.jpg'] }],
      { tag: 't', reference_id: 'node' },
      { reference_id: 'msg' },
      opts,
    );
    assert.deepEqual(
      jobs.map((j) => j.body.reference_id),
      ['node-1', 'own', 'node-3'],
    );
  });
});
