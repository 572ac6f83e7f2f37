/**
 * The config dialog's Test connection route in a real Node-RED runtime: the attacks it must refuse
 * (form posts, the stored key sent elsewhere, env values read back) and the answers it must tell
 * apart against the sandbox.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sandbox } from '../../src/sandbox/server';
import { API_KEY, PROJECT, helper, loadFlow, useSandboxRuntime, type FlowOptions } from '../support/harness';
import {
  PROXIED_HOST,
  PROXIED_HOST_CERT,
  basicAuthorization,
  replaceProxyEnvironment,
  startRecordingProxy,
  type RecordingProxy,
} from '../support/recording-proxy';
import { waitFor } from '../support/wait';
import configNode from '../../src/nodes/playment-config';

const SECRET_VAR = 'PLAYMENT_TEST_CONNECTION_SECRET';
const SECRET = 'env-secret-4b1d9e0a77c3';
const BASE_URL_VAR = 'PLAYMENT_TEST_CONNECTION_BASE_URL';
const NOT_A_URL_VAR = 'PLAYMENT_TEST_CONNECTION_NOT_A_URL';
const NOT_A_URL = 'not-a-url-secret-93f1c2';
const EMPTY_VAR = 'PLAYMENT_TEST_CONNECTION_EMPTY';
const UNSET_VAR = 'PLAYMENT_TEST_CONNECTION_UNSET';
const ROUTE = '/playment-config/test';
const PROXY_USER = 'corp-user';
const PROXY_PASSWORD = 'proxy-pw-5e8a03b6';

interface Recorded {
  url: string;
  headers: IncomingHttpHeaders;
}

/**
 * Another HTTP server on 127.0.0.1, standing for a host the attacker chose. It records every
 * request and answers as `reply` says; by default it reflects the x-api-key header it received.
 */
class Recorder {
  requests: Recorded[] = [];
  reply: (req: Recorded) => { status: number; body: unknown } = (req) => ({
    status: 200,
    body: { success: true, data: { name: `reflected ${String(req.headers['x-api-key'])}`, base: 'IMAGE', batches: [] } },
  });
  url = '';
  private server!: Server;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      req.resume();
      const recorded = { url: req.url ?? '', headers: req.headers };
      this.requests.push(recorded);
      const { status, body } = this.reply(recorded);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    // Idle connections stay open until the client closes them.
    this.server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  openConnections(): Promise<number> {
    return new Promise((resolve, reject) => this.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('Test connection route (config dialog)', function () {
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));
  const recorder = new Recorder();
  /** Every answer body of the suite, checked for the env values at the end of each test. */
  let answers: string[] = [];

  before(async () => {
    await recorder.start();
    process.env[SECRET_VAR] = SECRET;
    process.env[NOT_A_URL_VAR] = NOT_A_URL;
    process.env[EMPTY_VAR] = '';
    delete process.env[UNSET_VAR];
  });
  after(async () => {
    delete process.env[SECRET_VAR];
    delete process.env[NOT_A_URL_VAR];
    delete process.env[BASE_URL_VAR];
    delete process.env[EMPTY_VAR];
    await recorder.stop();
  });
  beforeEach(async () => {
    recorder.requests = [];
    answers = [];
    // The deployed config node 'cfg': the sandbox's URL, profile v0, the project, the right key.
    await loadFlow(sandbox, []);
  });
  afterEach(() => {
    for (const text of answers) {
      assert.ok(!text.includes(SECRET), `an answer holds the env value: ${text}`);
      assert.ok(!text.includes(NOT_A_URL), `an answer holds the env value: ${text}`);
      assert.ok(!text.includes(API_KEY), `an answer holds the stored key: ${text}`);
    }
  });

  async function post(body: Record<string, unknown>): Promise<{ status: number; body: any }> {
    const res = await helper.request().post(ROUTE).send(body);
    answers.push(res.text);
    return { status: res.status, body: res.body };
  }

  const dialog = (over: Record<string, unknown> = {}) => ({
    id: 'cfg',
    baseUrl: sandbox.url,
    apiVersion: 'v0',
    projectId: PROJECT,
    ...over,
  });

  describe('what it refuses before sending anything', () => {
    it('refuses a form-encoded body (a plain web form can send one) with 415', async () => {
      const before = sandbox.state.requestCount;
      // The attack from the issue: an env variable as key, a base URL of the attacker's choosing.
      const form = `apiKey=\${${SECRET_VAR}}&baseUrl=${encodeURIComponent(recorder.url)}&projectId=p&apiVersion=v0`;
      const res = await helper.request().post(ROUTE).type('form').send(form);
      answers.push(res.text);
      assert.equal(res.status, 415);
      // The stored key to another base URL, as a form.
      const stored = await helper
        .request()
        .post(ROUTE)
        .type('form')
        .send(`id=cfg&baseUrl=${encodeURIComponent(recorder.url)}&projectId=p&apiVersion=v0`);
      answers.push(stored.text);
      assert.equal(stored.status, 415);
      assert.deepEqual(recorder.requests, [], 'a request reached the attacker host');
      assert.equal(sandbox.state.requestCount, before, 'a request reached the sandbox');
    });

    it('refuses text/plain (another body a form can send) and a body without a type with 415', async () => {
      const json = JSON.stringify({ apiKey: `\${${SECRET_VAR}}`, baseUrl: recorder.url, apiVersion: 'v0', projectId: 'p' });
      const plain = await helper.request().post(ROUTE).set('content-type', 'text/plain').send(json);
      answers.push(plain.text);
      assert.equal(plain.status, 415);
      const none = await helper.request().post(ROUTE);
      answers.push(none.text);
      assert.equal(none.status, 415);
      assert.deepEqual(recorder.requests, []);
    });

    it('refuses a typed key an HTTP header cannot carry, as the config node does, without sending it', async () => {
      const before = sandbox.state.requestCount;
      const res = await post(dialog({ apiKey: `${API_KEY}\r\nx-injected: 1` }));
      assert.equal(res.status, 200);
      assert.equal(res.body.result, 'invalid');
      assert.match(res.body.message, /line break/);
      assert.equal(sandbox.state.requestCount, before, 'a request reached the sandbox');
    });

    it('refuses a project id of . or .. as the config node does, without sending', async () => {
      const before = sandbox.state.requestCount;
      for (const projectId of ['..', ' . ']) {
        const res = await post(dialog({ apiKey: API_KEY, projectId }));
        assert.equal(res.body.result, 'invalid', projectId);
      }
      assert.equal(sandbox.state.requestCount, before, 'a request reached the sandbox');
    });

    it('sends the stored key only to the base URL the config node was deployed with', async () => {
      const before = sandbox.state.requestCount;
      for (const apiKey of [undefined, '', '__PWRD__']) {
        const elsewhere = await post(dialog({ baseUrl: recorder.url, apiKey }));
        assert.equal(elsewhere.status, 200);
        assert.equal(elsewhere.body.result, 'key_needed');
      }
      // A base URL from the environment is compared after it is resolved.
      process.env[BASE_URL_VAR] = recorder.url;
      assert.equal((await post(dialog({ baseUrl: `\${${BASE_URL_VAR}}` }))).body.result, 'key_needed');
      // Another path on the deployed host is another base URL too.
      assert.equal((await post(dialog({ baseUrl: `${sandbox.url}/other` }))).body.result, 'key_needed');
      // No config node of that id: there is no stored key at all.
      assert.equal((await post(dialog({ id: 'no-such-node', baseUrl: recorder.url }))).body.result, 'invalid');
      assert.deepEqual(recorder.requests, [], 'the stored key reached another host');
      assert.equal(sandbox.state.requestCount, before);

      // The deployed base URL, typed or from the environment, normalised: the stored key is used.
      assert.equal((await post(dialog())).body.result, 'connected');
      assert.equal((await post(dialog({ baseUrl: `${sandbox.url}/` }))).body.result, 'connected');
      process.env[BASE_URL_VAR] = sandbox.url;
      assert.equal((await post(dialog({ baseUrl: `\${${BASE_URL_VAR}}` }))).body.result, 'connected');
    });

    it('resolves the deployed base URL as the runtime did when it is given as ${NAME}', async () => {
      process.env[BASE_URL_VAR] = sandbox.url;
      await helper.unload();
      await loadFlow(sandbox, [], { baseUrl: `\${${BASE_URL_VAR}}` });
      assert.equal((await post(dialog())).body.result, 'connected');
      assert.equal((await post(dialog({ baseUrl: `\${${BASE_URL_VAR}}` }))).body.result, 'connected');
      assert.equal((await post(dialog({ baseUrl: recorder.url }))).body.result, 'key_needed');
      assert.equal(recorder.requests.length, 0);
    });

    it('never echoes an env value: a base URL from a variable that is not a URL is refused with a fixed text', async () => {
      const res = await post(dialog({ baseUrl: `\${${NOT_A_URL_VAR}}`, apiKey: 'typed' }));
      assert.deepEqual(res.body.result, 'invalid');
      assert.match(res.body.message, /base URL must be an https URL/);
      assert.equal(recorder.requests.length, 0);
      // A reference inside a longer value is not replaced (the runtime does not replace it either),
      // so it cannot put a value into a host name or path.
      await post(dialog({ baseUrl: `${recorder.url}/\${${SECRET_VAR}}`, apiKey: 'typed', projectId: `x\${${SECRET_VAR}}` }));
      assert.equal(recorder.requests.length, 1);
      assert.ok(!recorder.requests[0].url.includes(SECRET), recorder.requests[0].url);
      assert.ok(recorder.requests[0].url.includes(encodeURIComponent(`x\${${SECRET_VAR}}`)), recorder.requests[0].url);
    });
  });

  describe('a key typed in the dialog, sent as JSON', () => {
    it('resolves a whole-value ${NAME} for this one test; the answer holds no env value, not even one the host reflects', async () => {
      const res = await post(dialog({ baseUrl: recorder.url, apiKey: `\${${SECRET_VAR}}`, projectId: `\${${SECRET_VAR}}` }));
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { result: 'connected', message: 'connected: the key has access to the project' });
      // The dialog's own test may use the typed reference (only a JSON request, which a form on
      // another site cannot send, gets here); the recorder reflected it, the answer did not.
      assert.equal(recorder.requests.length, 1);
      assert.equal(recorder.requests[0].headers['x-api-key'], SECRET);
    });

    it('a host that echoes the key in its error text: the answer stays the fixed one', async () => {
      recorder.reply = (req) => ({
        status: 500,
        body: { success: false, error: { code: 'FS_0000', message: `bad ${String(req.headers['x-api-key'])}` } },
      });
      try {
        const res = await post(dialog({ baseUrl: recorder.url, apiKey: `\${${SECRET_VAR}}` }));
        assert.deepEqual(res.body, {
          result: 'unreachable',
          message: 'the API could not be reached, or did not answer as the Playment API does',
        });
        // A server error is no sign of another API profile: that is only tried after a 404.
        assert.equal(recorder.requests.length, 1);
      } finally {
        recorder.reply = new Recorder().reply;
      }
    });

    it("resolves ${NAME} as the deployed config node would: its flow's values, or the process environment without a config node", async () => {
      const sentKey = async (body: Record<string, unknown>) => {
        recorder.requests = [];
        assert.equal((await post(dialog({ baseUrl: recorder.url, ...body }))).body.result, 'connected');
        assert.equal(recorder.requests.length, 1);
        return recorder.requests[0].headers['x-api-key'];
      };
      // The flow's own settings (NR_FLOW_NAME: the tab's label) apply for the deployed config node only.
      assert.equal(await sentKey({ apiKey: '${NR_FLOW_NAME}' }), 'test');
      assert.equal(await sentKey({ id: 'catch', apiKey: '${NR_FLOW_NAME}' }), '${NR_FLOW_NAME}');
      assert.equal(await sentKey({ id: undefined, apiKey: '${NR_FLOW_NAME}' }), '${NR_FLOW_NAME}');
      assert.equal(await sentKey({ id: undefined, apiKey: `\${${SECRET_VAR}}` }), SECRET);
      // A name that is not set leaves the value as typed.
      assert.equal(await sentKey({ apiKey: `\${${UNSET_VAR}}` }), `\${${UNSET_VAR}}`);
      assert.equal(await sentKey({ id: undefined, apiKey: `$(${UNSET_VAR})` }), `$(${UNSET_VAR})`);
    });

    it('a typed ${NAME} that is set but empty is no key: refused, nothing sent', async () => {
      for (const id of ['cfg', undefined]) {
        const res = await post(dialog({ id, baseUrl: recorder.url, apiKey: `\${${EMPTY_VAR}}` }));
        assert.deepEqual(res.body, { result: 'invalid', message: 'an API key is required' });
      }
      assert.equal(recorder.requests.length, 0);
    });

    it('closes its connection once it has the answer', async () => {
      assert.equal((await post(dialog({ baseUrl: recorder.url, apiKey: 'typed-key' }))).body.result, 'connected');
      await waitFor('the test connection to be closed', async () => (await recorder.openConnections()) === 0, 10_000, 20);
    });
  });

  describe('a deployed config node without a stored key', () => {
    it('asks for a key instead of sending none', async () => {
      await helper.unload();
      await helper.load(configNode, [
        { id: 'tab', type: 'tab', label: 'test' },
        { id: 'cfg', type: 'playment-config', z: 'tab', baseUrl: sandbox.url, apiVersion: 'v0', projectId: PROJECT },
      ] as unknown as Parameters<typeof helper.load>[1]);
      const before = sandbox.state.requestCount;
      const res = await post(dialog());
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { result: 'invalid', message: 'an API key is required' });
      assert.equal(sandbox.state.requestCount, before);
    });
  });

  describe('answers told apart against the sandbox', () => {
    it('connected, wrong key, unknown project', async () => {
      assert.equal((await post(dialog({ apiKey: API_KEY }))).body.result, 'connected');
      assert.deepEqual((await post(dialog({ apiKey: `${API_KEY}-wrong` }))).body, {
        result: 'wrong_key',
        message: 'the API key was refused',
      });
      const project = await post(dialog({ projectId: 'no-such-project' }));
      assert.equal(project.body.result, 'unknown_project');
      assert.ok(!project.body.message.includes('no-such-project'), 'the answer echoes the request');
    });

    it('a wrong API profile (HTTP 404 for its route) says which profile to use', async () => {
      // The sandbox serves both profiles; a 404 for the first route stands for a server that only
      // serves the other one.
      for (const [chosen, use] of [
        ['v0', 'v1'],
        ['v1', 'v0'],
      ]) {
        sandbox.injectFault({ route: 'project.details', mode: 'status', status: 404, count: 1 });
        const res = await post(dialog({ apiVersion: chosen }));
        assert.equal(res.body.result, 'wrong_profile', JSON.stringify(res.body));
        assert.equal(res.body.useVersion, use);
        assert.equal(res.body.message, `this base URL does not serve the ${chosen} API profile but serves ${use}: use ${use}`);
      }
      // Neither profile has the route: not Playment's API at this base URL.
      sandbox.injectFault({ route: 'project.details', mode: 'status', status: 404, count: 2 });
      const neither = await post(dialog());
      assert.equal(neither.body.result, 'unreachable');
      assert.match(neither.body.message, /neither API profile/);
    });

    it("Playment's documented auth codes at HTTP 400 (typed key, another host): wrong key, unknown project", async () => {
      const cases: Array<[string, string]> = [
        ['auth-failure', 'wrong_key'],
        ['core.webutil.token_auth', 'wrong_key'],
        ['unauthorized', 'unknown_project'],
        ['core.webutil.auther', 'unknown_project'],
        // A project id Playment cannot parse.
        ['GE_0001', 'unknown_project'],
      ];
      try {
        for (const [code, result] of cases) {
          recorder.reply = () => ({ status: 400, body: { success: false, error: { code, message: 'refused' } } });
          const res = await post(dialog({ baseUrl: recorder.url, apiKey: 'typed-key' }));
          assert.equal(res.body.result, result, code);
        }
      } finally {
        recorder.reply = new Recorder().reply;
      }
      // One request each: an auth failure is not a reason to try the other profile.
      assert.equal(recorder.requests.length, cases.length);
    });
  });
  describe('the way the deployed node takes: its http proxy and tls-config nodes', () => {
    /** The deployed config node's proxy (with credentials): reaches the sandbox as https://api.example.test. */
    let deployedProxy: RecordingProxy;
    /** Another http proxy node of the flow, which a request may name. */
    let otherProxy: RecordingProxy;
    let restoreEnv: () => void;
    const proxiedUrl = `https://${PROXIED_HOST}`;
    const secrets = () => [PROXY_PASSWORD, basicAuthorization(PROXY_USER, PROXY_PASSWORD).slice('Basic '.length)];

    before(async () => {
      deployedProxy = await startRecordingProxy();
      otherProxy = await startRecordingProxy();
      deployedProxy.tunnelToPort = otherProxy.tunnelToPort = Number(new URL(sandbox.url).port);
      // No proxy from the environment: a request that goes direct does not reach a proxy at all.
      restoreEnv = replaceProxyEnvironment();
    });
    after(async () => {
      restoreEnv();
      await deployedProxy.close();
      await otherProxy.close();
    });
    beforeEach(async () => {
      deployedProxy.records.length = 0;
      otherProxy.records.length = 0;
      deployedProxy.requireAuthorization = undefined;
      // The flow users build: "Use proxy" ticked, a TLS node trusting the host, deployed.
      await helper.unload();
      await loadFlow(sandbox, [], proxiedFlow());
    });
    afterEach(() => {
      for (const text of answers) {
        for (const secret of secrets()) assert.ok(!text.includes(secret), `an answer holds the proxy credentials: ${text}`);
      }
    });

    function proxiedFlow(proxy: Record<string, unknown> = {}): FlowOptions {
      return {
        baseUrl: proxiedUrl,
        config: { proxy: 'deployed-proxy', tls: 'tls' },
        coreConfigNodes: [
          { id: 'deployed-proxy', type: 'http proxy', name: 'corporate', url: deployedProxy.url, noproxy: [], ...proxy },
          { id: 'other-proxy', type: 'http proxy', name: 'other', url: otherProxy.url, noproxy: [] },
          { id: 'tls', type: 'tls-config', cert: '', key: '', ca: '', verifyservercert: true, servername: '' },
        ],
        coreCredentials: { 'deployed-proxy': { username: PROXY_USER, password: PROXY_PASSWORD }, tls: { cadata: PROXIED_HOST_CERT } },
      };
    }

    it("a typed key goes through the dialog's proxy and TLS nodes: recorded at that proxy, connected", async () => {
      const res = await post(dialog({ baseUrl: proxiedUrl, apiKey: API_KEY, proxy: 'other-proxy', tls: 'tls' }));
      assert.deepEqual(res.body, { result: 'connected', message: 'connected: the key has access to the project' });
      assert.deepEqual(otherProxy.records, [{ line: `CONNECT ${PROXIED_HOST}:443`, proxyAuthorization: undefined }]);
      assert.deepEqual(deployedProxy.records, []);
      // Without the dialog's TLS node the proxy's certificate is not trusted: the TLS id is used too.
      assert.equal((await post(dialog({ baseUrl: proxiedUrl, apiKey: API_KEY, proxy: 'other-proxy' }))).body.result, 'unreachable');
      assert.equal(otherProxy.records.length, 2);
      // The deployed proxy, with its credentials.
      assert.equal(
        (await post(dialog({ baseUrl: proxiedUrl, apiKey: API_KEY, proxy: 'deployed-proxy', tls: 'tls' }))).body.result,
        'connected',
      );
      assert.deepEqual(deployedProxy.records, [
        { line: `CONNECT ${PROXIED_HOST}:443`, proxyAuthorization: basicAuthorization(PROXY_USER, PROXY_PASSWORD) },
      ]);
    });

    it("the stored key takes the deployed node's proxy and TLS, whatever proxy or TLS ids the request names", async () => {
      for (const named of [
        {},
        { proxy: 'other-proxy' },
        { proxy: 'other-proxy', tls: 'other-proxy' },
        { proxy: 'cfg', tls: 'no-such-node' },
      ]) {
        const res = await post(dialog({ baseUrl: proxiedUrl, ...named }));
        assert.equal(res.body.result, 'connected', JSON.stringify(named));
      }
      assert.equal(deployedProxy.records.length, 4);
      for (const record of deployedProxy.records) {
        assert.deepEqual(record, {
          line: `CONNECT ${PROXIED_HOST}:443`,
          proxyAuthorization: basicAuthorization(PROXY_USER, PROXY_PASSWORD),
        });
      }
      assert.deepEqual(otherProxy.records, []);
    });

    it('a typed key with a proxy or TLS id that is not a deployed node of that type: invalid, nothing sent', async () => {
      const before = sandbox.state.requestCount;
      const named: Array<Record<string, unknown>> = [
        { proxy: 'tls' },
        { proxy: 'cfg' },
        { proxy: 'out' },
        { proxy: 'no-such-node' },
        { proxy: `\${${SECRET_VAR}}` },
        { proxy: 'other-proxy', tls: 'other-proxy' },
        { proxy: 'other-proxy', tls: 'cfg' },
        { tls: 'no-such-node' },
      ];
      for (const ids of named) {
        const res = await post(dialog({ baseUrl: proxiedUrl, apiKey: API_KEY, ...ids }));
        assert.equal(res.body.result, 'invalid', JSON.stringify(ids));
        assert.match(res.body.message, /deployed http proxy node/);
      }
      assert.deepEqual(deployedProxy.records, []);
      assert.deepEqual(otherProxy.records, []);
      assert.equal(sandbox.state.requestCount, before);
    });

    it('a loopback base URL never goes through the proxy, with a typed key or the stored one', async () => {
      // The same proxy node carries a test of the https host: it is in force.
      assert.equal(
        (await post(dialog({ baseUrl: proxiedUrl, apiKey: API_KEY, proxy: 'deployed-proxy', tls: 'tls' }))).body.result,
        'connected',
      );
      assert.equal(deployedProxy.records.length, 1);
      assert.equal((await post(dialog({ apiKey: API_KEY, proxy: 'deployed-proxy', tls: 'tls' }))).body.result, 'connected');
      await helper.unload();
      const { baseUrl: _https, ...loopbackFlow } = proxiedFlow();
      await loadFlow(sandbox, [], loopbackFlow);
      assert.equal((await post(dialog())).body.result, 'connected');
      assert.equal(deployedProxy.records.length, 1, 'a loopback test reached the proxy');
    });

    it('a proxy that refuses the credentials (407), or one whose URL is not http(s): fixed answers, the credentials in none', async () => {
      deployedProxy.requireAuthorization = basicAuthorization(PROXY_USER, 'the-right-one');
      for (const body of [
        dialog({ baseUrl: proxiedUrl }),
        dialog({ baseUrl: proxiedUrl, apiKey: API_KEY, proxy: 'deployed-proxy', tls: 'tls' }),
      ]) {
        const res = await post(body);
        assert.deepEqual(res.body, {
          result: 'unreachable',
          message: 'the API could not be reached, or did not answer as the Playment API does',
        });
      }
      // The proxy saw (and refused) both tests: they went its way.
      assert.equal(deployedProxy.records.length, 2);
      assert.equal(sandbox.state.requestCount, 0);

      // A proxy URL holding the credentials, not http(s): refused with a fixed text.
      await helper.unload();
      await loadFlow(sandbox, [], proxiedFlow({ url: `socks5://${PROXY_USER}:${PROXY_PASSWORD}@127.0.0.1:1080` }));
      for (const body of [dialog({ baseUrl: proxiedUrl }), dialog({ baseUrl: proxiedUrl, apiKey: API_KEY, proxy: 'deployed-proxy' })]) {
        const res = await post(body);
        assert.equal(res.body.result, 'invalid');
      }
      assert.equal(sandbox.state.requestCount, 0);
    });
  });
});
