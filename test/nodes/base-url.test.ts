/** Which base URLs may use plain http: loopback hosts only, in the runtime and in the config dialog. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkBaseUrl, isLoopbackHost } from '../../src/nodes/common/base-url';
import type { Sandbox } from '../../src/sandbox/server';
import { SUBMIT_NODE, frames, helper, inject, loadFlow, useSandboxRuntime } from '../support/harness';

/** The config dialog's own copy of the check, taken from the editor file. */
function editorIsLoopbackHost(): (hostname: string) => boolean {
  const html = readFileSync(join(__dirname, '..', '..', 'nodes', 'playment-config.html'), 'utf8');
  const source = /function isLoopbackHost\(hostname\) \{[\s\S]*?\n {4}\}/.exec(html);
  assert.ok(source, 'isLoopbackHost in playment-config.html');
  return new Function(`${source[0]}\nreturn isLoopbackHost;`)() as (h: string) => boolean;
}

describe('plain http base URLs', () => {
  // Names that merely start (or end) like a loopback address resolve through DNS to any host:
  // accepting them would send the key unencrypted to wherever the name points.
  const lookalikes = [
    '127.0.0.1.nip.io',
    '127.0.0.1.example',
    '127.1.2.3.attacker.example',
    'localhost.attacker.example',
    'localhost.',
    'sandbox.localhost',
  ];
  const loopback = ['localhost', '127.0.0.1', '127.255.0.9', '127.1', '[::1]', '[0:0:0:0:0:0:0:1]'];

  it('refuses names that only start like a loopback host, in the runtime and the dialog', () => {
    const editor = editorIsLoopbackHost();
    for (const host of lookalikes) {
      const url = `http://${host}:4010`;
      assert.throws(() => checkBaseUrl(url), /must use https/, url);
      const hostname = new URL(url).hostname;
      assert.equal(isLoopbackHost(hostname), false, `runtime: ${hostname}`);
      assert.equal(editor(hostname), false, `editor: ${hostname}`);
    }
    // Hostnames as a caller might pass them directly, [::1] included.
    for (const hostname of [
      'x127.0.0.1',
      '[::1].attacker.example',
      '::1.attacker.example',
      '[::1]x',
      '127.0.0.1 ',
      ' localhost',
      '127.0.0.1\n.attacker',
    ]) {
      assert.equal(isLoopbackHost(hostname), false, JSON.stringify(hostname));
      assert.equal(editor(hostname), false, `editor: ${JSON.stringify(hostname)}`);
    }
  });

  it('accepts the loopback hosts themselves, and https for any host', () => {
    for (const host of loopback) {
      const url = `http://${host}:4010`;
      assert.equal(checkBaseUrl(`${url}/`), new URL(url).origin, url);
    }
    for (const host of lookalikes.filter((h) => h !== 'localhost.')) {
      assert.equal(checkBaseUrl(`https://${host}`), `https://${host}`);
    }
  });

  it('says what is wrong with a base URL it refuses', () => {
    const refusal = (raw: string) => {
      try {
        checkBaseUrl(raw);
      } catch (err) {
        return (err as Error).message;
      }
      return assert.fail(`${raw} was accepted`);
    };
    assert.equal(refusal('api.playment.io'), 'base URL "api.playment.io" is not a URL');
    assert.equal(refusal('ftp://api.playment.io'), 'base URL must use https, not ftp');
    for (const raw of ['https://user@api.playment.io', 'https://:secret@api.playment.io', 'https://user:secret@api.playment.io']) {
      assert.equal(refusal(raw), 'base URL must not contain a user name or password', raw);
    }
    for (const raw of ['https://api.playment.io/?x=1', 'https://api.playment.io/#top']) {
      assert.equal(refusal(raw), 'base URL must not contain a query string or fragment', raw);
    }
    assert.equal(checkBaseUrl('https://api.playment.io/v2//'), 'https://api.playment.io/v2');
  });
});

describe('profiles and base URLs', () => {
  it('accept https anywhere and plain http only on loopback', () => {
    assert.equal(checkBaseUrl('https://api.playment.io/'), 'https://api.playment.io');
    assert.equal(checkBaseUrl('http://127.0.0.1:4010'), 'http://127.0.0.1:4010');
    assert.equal(checkBaseUrl('http://localhost:4010/base/'), 'http://localhost:4010/base');
    assert.throws(() => checkBaseUrl('http://api.playment.io'), /must use https/);
    assert.throws(() => checkBaseUrl('ftp://x'), /must use https/);
    assert.throws(() => checkBaseUrl('https://u:p@x'), /user name/);
  });
});

const SUBMIT = SUBMIT_NODE;

describe('core nodes against the sandbox', function () {
  let sandbox!: Sandbox;
  useSandboxRuntime({}, (s) => (sandbox = s));

  describe('plain http base URLs: loopback hosts only, the same rule in the runtime and the editor', () => {
    // Hosts as typed into the config dialog; `true` = plain http is accepted.
    const hosts: Array<[string, boolean]> = [
      ['localhost', true],
      ['LOCALHOST', true],
      ['127.0.0.1', true],
      ['127.45.6.7', true],
      ['[::1]', true],
      ['[0:0:0:0:0:0:0:1]', true],
      ['sandbox.localhost', false],
      ['a.b.localhost', false],
      ['localhost.example.com', false],
      ['128.0.0.1', false],
      ['10.0.0.1', false],
      ['[::ffff:127.0.0.1]', false],
      ['api.example.com', false],
    ];

    it('the runtime config node accepts exactly the loopback hosts', async () => {
      const port = new URL(sandbox.url).port;
      for (const [host, accepted] of hosts) {
        await loadFlow(sandbox, [SUBMIT], { baseUrl: `http://${host}:${port}` });
        const cfg = helper.getNode('cfg');
        assert.equal(cfg.client !== undefined, accepted, `http://${host}: ${cfg.configError}`);
        if (!accepted) assert.match(cfg.configError, /must use https.*loopback/);
        await helper.unload();
      }
      // A refused one ends messages with NOT_CONFIGURED; nothing is sent.
      const rec = await loadFlow(sandbox, [SUBMIT], { baseUrl: `http://sandbox.localhost:${port}` });
      inject({ payload: frames(1) });
      await rec.settled(1);
      assert.equal(rec.caught[0].error.code, 'NOT_CONFIGURED');
      assert.match(rec.caught[0].error.message, /must use https/);
      assert.equal(sandbox.state.requestCount, 0);
    });

    it("the config dialog's check agrees with the runtime's", () => {
      const html = readFileSync(join(__dirname, '..', '..', 'nodes', 'playment-config.html'), 'utf8');
      const source = /function isLoopbackHost\(hostname\) \{[\s\S]*?\n {4}\}/.exec(html);
      assert.ok(source, 'isLoopbackHost in playment-config.html');
      const editorIsLoopback = new Function(`${source[0]}\nreturn isLoopbackHost;`)() as (h: string) => boolean;
      for (const [host, accepted] of hosts) {
        // Both sides see the hostname as the browser's and Node's URL parser give it.
        const hostname = new URL(`http://${host}:4010/`).hostname;
        assert.equal(isLoopbackHost(hostname), accepted, `runtime: ${host}`);
        assert.equal(editorIsLoopback(hostname), accepted, `editor: ${host}`);
      }
    });
  });
});
