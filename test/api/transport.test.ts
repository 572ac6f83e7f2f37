/** One attempt over HTTP: answers over the size cap are refused without being read. */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { MAX_RESPONSE_BYTES, sendAttempt } from '../../src/api/transport';
import type { PlaymentError } from '../../src/api/errors';

describe('transport: answer size cap', () => {
  let server: Server;
  let agent: Agent;
  let baseUrl = '';
  const held: ServerResponse[] = [];

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      // Declares a body over the cap, sends its headers, and holds the body back.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(MAX_RESPONSE_BYTES + 1) });
      res.flushHeaders();
      held.push(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    agent = new Agent({ connections: 1 });
  });
  after(async () => {
    await agent.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses a declared length over the cap from the headers, without waiting for the body', async () => {
    // Read to the end, the held body would end the attempt with TIMEOUT instead.
    const attempt = sendAttempt({ method: 'GET', path: '/big' }, { dispatcher: agent, baseUrl, apiKey: 'k', signals: [], timeoutMs: 5000 });
    await assert.rejects(attempt, (e: PlaymentError) => {
      assert.equal(e.code, 'BAD_RESPONSE');
      assert.match(e.message, new RegExp(`answer larger than ${MAX_RESPONSE_BYTES} bytes \\(HTTP 200\\)`));
      return true;
    });
    assert.equal(held.length, 1);
  });
});
