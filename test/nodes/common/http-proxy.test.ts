/**
 * The core http proxy node a playment-config node selects, read in a real runtime: the proxy
 * the client takes from it, and the settings errors for a selection that cannot be used.
 */
import assert from 'node:assert/strict';
import { selectedProxy } from '../../../src/nodes/common/http-proxy';
import type { RED } from '../../../src/nodes/common/red';
import { helper } from '../../support/harness';

import tlsNode from '@node-red/nodes/core/network/05-tls.js';
import httpProxyNode from '@node-red/nodes/core/network/06-httpproxy.js';

/** The runtime API as our node modules receive it. */
let red!: RED;
const captureRuntime = (r: RED): void => {
  red = r;
};

/** Deploys core config nodes as the editor saves them, with their credentials. */
async function deploy(nodes: Array<Record<string, unknown>>, credentials: Record<string, unknown> = {}): Promise<void> {
  await helper.load(
    [httpProxyNode, tlsNode, captureRuntime as never],
    [{ id: 'tab', type: 'tab' }, ...nodes.map((n) => ({ z: 'tab', ...n }))] as never,
    credentials,
  );
}

const proxyNode = (props: Record<string, unknown>) => ({ id: 'proxy', type: 'http proxy', name: 'corporate', noproxy: [], ...props });

describe('selectedProxy (http proxy config node)', () => {
  afterEach(() => helper.unload());

  it('gives the http or https proxy URL, its ignored hosts and credentials', async () => {
    await deploy([proxyNode({ url: 'https://proxy.example.com:3128', noproxy: ['intranet.example.com', '.corp'] })], {
      proxy: { username: 'u', password: 'p' },
    });
    assert.deepEqual(selectedProxy(red, 'proxy'), {
      url: 'https://proxy.example.com:3128',
      noProxy: ['intranet.example.com', '.corp'],
      username: 'u',
      password: 'p',
    });
  });

  it('takes no proxy without a selection, and keeps only the text entries of the ignored hosts', async () => {
    await deploy([proxyNode({ url: 'http://proxy.example.com:3128', noproxy: ['a.example.com', 7, null] })]);
    assert.equal(selectedProxy(red, undefined), undefined);
    assert.equal(selectedProxy(red, ''), undefined);
    assert.deepEqual(selectedProxy(red, 'proxy')?.noProxy, ['a.example.com']);
  });

  it('refuses a selection that is another kind of node, or a URL that is not http(s), without quoting it', async () => {
    await deploy([
      { id: 'tls', type: 'tls-config', cert: '', key: '', ca: '', verifyservercert: true },
      proxyNode({ id: 'socks', url: 'socks5://user:secret@proxy.example.com' }),
      proxyNode({ id: 'blank' }),
    ]);
    assert.throws(() => selectedProxy(red, 'tls'), /^Error: proxy: the selected http proxy configuration node does not exist/);
    assert.throws(() => selectedProxy(red, 'gone'), /^Error: proxy: the selected http proxy configuration node does not exist/);
    for (const id of ['socks', 'blank']) {
      assert.throws(
        () => selectedProxy(red, id),
        (err: Error) => /is not an http:\/\/ or https:\/\/ URL/.test(err.message) && !err.message.includes('secret'),
      );
    }
  });
});
