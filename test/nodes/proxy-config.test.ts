/**
 * A playment-config node that selects a core `http proxy` config node: requests to the API go
 * through that proxy (a real one on 127.0.0.1 that records them), with its credentials, before the
 * proxy of the environment; its "Ignore hosts" and loopback base URLs go direct; a selected proxy
 * node that is gone makes the config node unusable.
 */
import assert from 'node:assert/strict';
import type { Sandbox } from '../../src/sandbox/server';
import {
  SUBMIT_NODE,
  assertEachEndedOnce,
  everythingVisible,
  frames,
  inject,
  loadFlow,
  useSandboxRuntime,
  type FlowOptions,
} from '../support/harness';
import {
  PROXIED_HOST,
  PROXIED_HOST_CERT,
  basicAuthorization,
  replaceProxyEnvironment,
  startRecordingProxy,
  type RecordingProxy,
} from '../support/recording-proxy';

const PROXY_USER = 'corp-user';
const PROXY_PASSWORD = 'proxy-pw-7c2e91d4';

describe('playment-config with a core http proxy node', function () {
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));
  /** The proxy node's proxy: it reaches the sandbox as https://api.example.test. */
  let nodeProxy: RecordingProxy;
  /** The environment's proxy (HTTP_PROXY / HTTPS_PROXY): the proxy node must win over it. */
  let envProxy: RecordingProxy;
  let restoreEnv: () => void;

  before(async () => {
    nodeProxy = await startRecordingProxy();
    nodeProxy.tunnelToPort = Number(new URL(sandbox.url).port);
    envProxy = await startRecordingProxy();
    restoreEnv = replaceProxyEnvironment({ HTTP_PROXY: envProxy.url, HTTPS_PROXY: envProxy.url });
  });

  after(async () => {
    restoreEnv();
    await nodeProxy.close();
    await envProxy.close();
  });

  beforeEach(() => {
    nodeProxy.records.length = 0;
    nodeProxy.requireAuthorization = undefined;
    envProxy.records.length = 0;
  });

  /** The flow users build: the config node with "Use proxy" ticked, a TLS node trusting the host. */
  function proxiedFlow(
    proxy: Record<string, unknown> = {},
    credentials: Record<string, string> = { username: PROXY_USER, password: PROXY_PASSWORD },
  ): FlowOptions {
    return {
      baseUrl: `https://${PROXIED_HOST}`,
      config: { proxy: 'proxy', tls: 'tls', maxRetries: 0 },
      coreConfigNodes: [
        { id: 'proxy', type: 'http proxy', name: 'corporate', url: nodeProxy.url, noproxy: [], ...proxy },
        { id: 'tls', type: 'tls-config', cert: '', key: '', ca: '', verifyservercert: true, servername: '' },
      ],
      coreCredentials: { proxy: credentials, tls: { cadata: PROXIED_HOST_CERT } },
    };
  }

  async function submitOnce(opts: FlowOptions) {
    const rec = await loadFlow(sandbox, [SUBMIT_NODE], opts);
    inject({ _msgid: 'm-1', payload: frames(2) });
    await assertEachEndedOnce(rec, new Set(['m-1']), 15_000, 200);
    return rec;
  }

  it("requests go through the proxy node's proxy, not the environment's, with its credentials", async () => {
    const rec = await submitOnce(proxiedFlow());
    assert.equal(rec.caught.length, 0, rec.caught[0]?.error?.message);
    assert.equal(rec.outputs.length, 1);
    assert.equal(sandbox.state.requestCount, 1, 'the job reached the API through the tunnel');
    assert.deepEqual(nodeProxy.records, [
      { line: `CONNECT ${PROXIED_HOST}:443`, proxyAuthorization: basicAuthorization(PROXY_USER, PROXY_PASSWORD) },
    ]);
    assert.deepEqual(envProxy.records, []);
  });

  it('without credentials in the proxy node no Proxy-Authorization is sent', async () => {
    const rec = await submitOnce(proxiedFlow({}, {}));
    assert.equal(rec.outputs.length, 1, rec.caught[0]?.error?.message);
    assert.deepEqual(nodeProxy.records, [{ line: `CONNECT ${PROXIED_HOST}:443`, proxyAuthorization: undefined }]);
  });

  it('a proxy that refuses the credentials (407): the message ends with an error, the password shown nowhere', async () => {
    nodeProxy.requireAuthorization = basicAuthorization(PROXY_USER, 'the-right-one');
    const flow = proxiedFlow();
    // Retries allowed, yet one CONNECT: the same credentials would be refused again.
    const rec = await submitOnce({ ...flow, config: { ...flow.config, maxRetries: 2 } });
    assert.equal(rec.outputs.length, 0);
    assert.equal(rec.caught[0].error.code, 'NETWORK');
    assert.match(rec.caught[0].error.message, /the proxy refused its credentials \(HTTP 407 to CONNECT\)/);
    assert.equal(nodeProxy.records.length, 1);
    assert.equal(sandbox.state.requestCount, 0);
    const visible = everythingVisible(rec, ['n1', 'cfg']);
    for (const secret of [PROXY_PASSWORD, basicAuthorization(PROXY_USER, PROXY_PASSWORD).slice('Basic '.length)]) {
      assert.ok(!visible.includes(secret), 'the proxy password is visible');
    }
  });

  const ignoreLists: Array<[string[], boolean]> = [
    [[PROXIED_HOST], false],
    [['*.example.test'], false],
    [['other.test, .example.test'], false],
    [['*'], false],
    [[`${PROXIED_HOST}:8443`], true],
    [['example.test'], true],
  ];
  for (const [noproxy, proxied] of ignoreLists) {
    it(`"Ignore hosts" ${JSON.stringify(noproxy)}: ${PROXIED_HOST} goes ${proxied ? 'through the proxy' : 'direct'}`, async () => {
      const rec = await submitOnce(proxiedFlow({ noproxy }));
      assert.deepEqual(envProxy.records, []);
      if (proxied) {
        assert.equal(rec.outputs.length, 1, rec.caught[0]?.error?.message);
        assert.equal(nodeProxy.records.length, 1);
      } else {
        // Direct, the name does not resolve (.test is reserved): the message ends with an error.
        assert.equal(rec.caught.length, 1);
        assert.deepEqual(nodeProxy.records, []);
        assert.equal(sandbox.state.requestCount, 0);
      }
    });
  }

  it("a loopback base URL goes straight to the API, never to the proxy node's proxy", async () => {
    const { baseUrl: _https, ...flow } = proxiedFlow();
    const rec = await submitOnce(flow);
    assert.equal(rec.outputs.length, 1, rec.caught[0]?.error?.message);
    assert.equal(sandbox.state.requestCount, 1);
    assert.deepEqual(nodeProxy.records, []);
    assert.deepEqual(envProxy.records, []);
  });

  it('a selected proxy node that does not exist: NOT_CONFIGURED naming the proxy setting, nothing sent', async () => {
    const { coreConfigNodes, ...flow } = proxiedFlow();
    const rec = await submitOnce({ ...flow, coreConfigNodes: coreConfigNodes?.filter((n) => n.id !== 'proxy') });
    assert.equal(rec.caught[0].error.code, 'NOT_CONFIGURED');
    assert.match(
      rec.caught[0].error.message,
      /the playment-config node is not usable: proxy: the selected http proxy configuration node does not exist/,
    );
    assert.equal(sandbox.state.requestCount, 0);
    assert.deepEqual(nodeProxy.records, []);
    assert.deepEqual(envProxy.records, []);
  });

  it('a proxy node whose URL is not http(s): NOT_CONFIGURED, the URL (it may hold a password) not quoted', async () => {
    const rec = await submitOnce(proxiedFlow({ url: `socks5://${PROXY_USER}:${PROXY_PASSWORD}@127.0.0.1:1080` }));
    assert.equal(rec.caught[0].error.code, 'NOT_CONFIGURED');
    assert.match(
      rec.caught[0].error.message,
      /proxy: the URL of the selected http proxy configuration node is not an http:\/\/ or https:\/\/ URL/,
    );
    assert.ok(!everythingVisible(rec, ['n1', 'cfg']).includes(PROXY_PASSWORD));
    assert.deepEqual(envProxy.records, []);
  });
});
