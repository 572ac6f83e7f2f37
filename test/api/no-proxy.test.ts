/**
 * "Ignore hosts" of an http proxy node means what it means in Node-RED's http request node: every
 * case is checked against the core node's own proxy helper.
 */
import assert from 'node:assert/strict';
import { bypassesProxy } from '../../src/api/no-proxy';

// The helper the core http request node decides with (no types shipped).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { getProxyForUrl } = require('@node-red/nodes/core/network/lib/proxyHelper.js') as {
  getProxyForUrl(url: string, options: { env: Record<string, string> }): string;
};

function coreBypasses(noProxy: string[], url: string): boolean {
  const proxyUrl = 'http://proxy.corp:3128';
  const env = { http_proxy: proxyUrl, https_proxy: proxyUrl, no_proxy: noProxy.join(',') };
  return getProxyForUrl(url, { env }) === '';
}

const CASES: Array<[string[], string, boolean]> = [
  [[], 'https://api.playment.io', false],
  [['api.playment.io'], 'https://api.playment.io', true],
  [['API.Playment.IO'], 'https://api.playment.io/v0', true],
  [['playment.io'], 'https://api.playment.io', false],
  [['.playment.io'], 'https://api.playment.io', true],
  [['*.playment.io'], 'https://api.playment.io', true],
  [['*playment.io'], 'https://api.playment.io', true],
  [['.playment.io'], 'https://playment.io', false],
  [['*'], 'https://api.playment.io', true],
  [['other.example', '*'], 'https://api.playment.io', true],
  [['other.example api.playment.io'], 'https://api.playment.io', true],
  [['other.example,api.playment.io'], 'https://api.playment.io', true],
  [['api.playment.io:443'], 'https://api.playment.io', true],
  [['api.playment.io:8443'], 'https://api.playment.io', false],
  [['api.playment.io:8443'], 'https://api.playment.io:8443', true],
  [['api.playment.io:0'], 'https://api.playment.io:8443', true],
  [['api.playment.io:80'], 'http://api.playment.io', true],
  [['10.1.2.3'], 'https://10.1.2.3:9000', true],
  [['[fd00::1]'], 'https://[fd00::1]', true],
  [['fd00::1'], 'https://[fd00::1]', false],
  [['', ' '], 'https://api.playment.io', false],
];

describe('bypassesProxy: an http proxy node\'s "Ignore hosts", as core matches it', () => {
  for (const [noProxy, url, expected] of CASES) {
    it(`${JSON.stringify(noProxy)} ${expected ? 'exempts' : 'does not exempt'} ${url}`, () => {
      assert.equal(coreBypasses(noProxy, url), expected, "the expectation is core's");
      assert.equal(bypassesProxy(noProxy, new URL(url)), expected);
    });
  }
});
