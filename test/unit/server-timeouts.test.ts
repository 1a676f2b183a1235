import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { maxWaitSeconds } from '../../src/contract/job.js';
import { applyServerTimeouts, serverTimeouts } from '../../src/api/server-timeouts.js';

describe('The API server holds the longest wait', function () {
  it('sets timeouts past the longest ?wait and keeps idle connections past a proxy idle timeout', function () {
    const server = createServer();
    applyServerTimeouts(server);
    assert.ok(server.requestTimeout > maxWaitSeconds * 1000, `requestTimeout ${server.requestTimeout}`);
    assert.ok(server.keepAliveTimeout > 60_000, 'past the 60 s idle timeout of common proxies');
    assert.ok(server.headersTimeout > server.keepAliveTimeout, 'headersTimeout above keepAliveTimeout');
    assert.ok(server.headersTimeout <= server.requestTimeout, 'Node refuses headersTimeout above requestTimeout');
    assert.equal(server.timeout, 0, 'no socket inactivity limit');
    assert.equal(serverTimeouts.requestTimeout, server.requestTimeout);
  });
});
