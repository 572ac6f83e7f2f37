/** How an action node finds its config node, its client and its dry-run target, and what it says when it cannot. */
import assert from 'node:assert/strict';
import { clientOf, dryRunTarget, lookupConfig, selectedConfig, type PlaymentConfigNode } from '../../../src/nodes/common/config-node';
import { PROFILES } from '../../../src/api/profiles';

const config = (fields: Partial<PlaymentConfigNode>) => ({ projectId: '', closeGraceMs: 0, ...fields }) as PlaymentConfigNode;
const red = (nodes: Record<string, unknown>) => ({ nodes: { getNode: (id: string) => nodes[id] ?? null } }) as any;

function notConfigured(fn: () => unknown): string {
  try {
    fn();
  } catch (err: any) {
    assert.equal(err.code, 'NOT_CONFIGURED');
    return err.message;
  }
  throw new Error('expected NOT_CONFIGURED');
}

describe('config node lookup', () => {
  const cfg = config({ projectId: 'p' });
  const runtime = red({ cfg });

  it('finds the selected config node, and nothing for no id or an unknown id', () => {
    assert.equal(lookupConfig(runtime, 'cfg'), cfg);
    assert.equal(lookupConfig(runtime, 'gone'), undefined);
    assert.equal(lookupConfig(runtime, ''), undefined);
    assert.equal(lookupConfig(runtime, undefined), undefined);
  });

  it('selectedConfig ends with NOT_CONFIGURED when none is selected', () => {
    assert.equal(selectedConfig(runtime, 'cfg'), cfg);
    assert.equal(
      notConfigured(() => selectedConfig(runtime, undefined)),
      'no playment-config node is selected in this node',
    );
    assert.equal(
      notConfigured(() => selectedConfig(runtime, 'gone')),
      'no playment-config node is selected in this node',
    );
  });

  it('clientOf gives the client, or says why there is none', () => {
    const client = {} as any;
    assert.equal(clientOf(config({ client })), client);
    assert.equal(
      notConfigured(() => clientOf(config({ configError: 'the API key is missing' }))),
      'the playment-config node is not usable: the API key is missing',
    );
    assert.equal(
      notConfigured(() => clientOf(config({}))),
      'the playment-config node is not usable: unknown reason',
    );
  });

  it('dryRunTarget needs a project id and a valid API profile, not a client', () => {
    assert.deepEqual(dryRunTarget(config({ projectId: 'p', apiVersion: 'v1' })), { projectId: 'p', profile: PROFILES.v1 });
    assert.equal(
      notConfigured(() => dryRunTarget(config({ apiVersion: 'v0' }))),
      'the playment-config node is not usable: a project id is required',
    );
    assert.equal(
      notConfigured(() => dryRunTarget(config({ projectId: 'p' }))),
      'the playment-config node is not usable: the API profile is not valid',
    );
  });
});
