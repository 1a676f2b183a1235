// The API server's timeouts (src/api/server-timeouts.ts) on a real node:http server and real sockets.
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { applyServerTimeouts } from '../../src/api/server-timeouts.js';
import { maxWaitSeconds } from '../../src/contract/job.js';

/** A server with the API's timeouts, its request limit scaled down to `requestTimeoutMs` to be seen in a test. */
async function serverAnsweringAfter(answerAfterMs: number, requestTimeoutMs: number): Promise<Server> {
  const server = createServer({ connectionsCheckingInterval: 50 }, (req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.end('answered'), answerAfterMs));
  });
  applyServerTimeouts(server);
  server.requestTimeout = requestTimeoutMs;
  server.headersTimeout = requestTimeoutMs;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** POSTs `body` a byte every `everyMs`: the answer's status, or the error that ended the request. */
function post(server: Server, body: string, everyMs: number): Promise<number | string> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve) => {
    const sent = request({ port, method: 'POST', headers: { 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    sent.on('error', (err) => resolve(err.message));
    void (async () => {
      for (const byte of body) {
        if (sent.destroyed) return;
        sent.write(byte);
        await delay(everyMs);
      }
      sent.end();
    })();
  });
}

describe('The API server holds its longest wait, but not a request that is slow to arrive', function () {
  it('has no socket inactivity limit, and gives a request a minute to arrive', function () {
    const server = createServer();
    applyServerTimeouts(server);
    assert.equal(server.timeout, 0, 'no socket inactivity limit: a wait sends nothing');
    assert.equal(server.requestTimeout, 60_000);
    assert.ok(server.requestTimeout < maxWaitSeconds * 1000, 'the wait is not what this limit covers');
  });

  it('answers a request read in time even when the answer comes after the request limit (as a ?wait does)', async function () {
    const server = await serverAnsweringAfter(900, 300);
    try {
      assert.equal(await post(server, 'abc', 0), 200);
    } finally {
      server.close();
    }
  });

  it('cuts off a body still trickling in past the request limit with 408', async function () {
    const server = await serverAnsweringAfter(0, 300);
    try {
      const started = Date.now();
      const ended = await post(server, 'x'.repeat(40), 50);
      assert.ok(ended === 408 || typeof ended === 'string', `ended with ${ended}`);
      assert.ok(Date.now() - started < 1500, `cut off after ${Date.now() - started} ms, where the body takes 2 s`);
    } finally {
      server.close();
    }
  });
});
