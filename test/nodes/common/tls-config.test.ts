/** The core tls-config node a playment-config node selects, read in a real runtime as TLS options. */
import assert from 'node:assert/strict';
import { selectedTls } from '../../../src/nodes/common/tls-config';
import type { RED } from '../../../src/nodes/common/red';
import { helper } from '../../support/harness';

import tlsNode from '@node-red/nodes/core/network/05-tls.js';
import httpProxyNode from '@node-red/nodes/core/network/06-httpproxy.js';

let red!: RED;
const captureRuntime = (r: RED): void => {
  red = r;
};

describe('selectedTls (tls-config node)', () => {
  afterEach(() => helper.unload());

  it("gives the node's CA and checks as TLS options, none without a selection, and refuses any other node", async () => {
    const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    await helper.load(
      [httpProxyNode, tlsNode, captureRuntime as never],
      [
        { id: 'tab', type: 'tab' },
        { id: 'tls', z: 'tab', type: 'tls-config', cert: '', key: '', ca: '', verifyservercert: true, servername: 'api.example.test' },
        { id: 'proxy', z: 'tab', type: 'http proxy', url: 'http://proxy.example.com:3128', noproxy: [] },
      ] as never,
      { tls: { cadata: CA } },
    );
    const opts = selectedTls(red, 'tls');
    assert.equal(opts?.ca, CA);
    assert.equal(opts?.rejectUnauthorized, true);
    assert.equal(opts?.servername, 'api.example.test');
    assert.equal(selectedTls(red, undefined), undefined);
    assert.throws(() => selectedTls(red, 'proxy'), /^Error: the selected TLS configuration node does not exist$/);
    assert.throws(() => selectedTls(red, 'gone'), /^Error: the selected TLS configuration node does not exist$/);
  });
});
