import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { maxWaitSeconds } from '../../src/contract/job.js';
import { applyServerTimeouts } from '../../src/api/server-timeouts.js';

describe('The API server holds the longest wait', function () {
  it('lets a request take past the longest ?wait, with no socket inactivity limit', function () {
    const server = createServer();
    applyServerTimeouts(server);
    assert.ok(server.requestTimeout > maxWaitSeconds * 1000, `requestTimeout ${server.requestTimeout}`);
    assert.ok(server.headersTimeout <= server.requestTimeout, 'Node refuses headersTimeout above requestTimeout');
    assert.equal(server.timeout, 0, 'no socket inactivity limit');
  });
});
