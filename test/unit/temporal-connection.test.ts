// The API's client of Temporal (src/temporal/connection.ts) against a real port with no server behind it.
import assert from 'node:assert/strict';
import { freePort } from '../../dev/parts.js';
import { createLazyClient } from '../../src/temporal/connection.js';

describe('A call to Temporal still retrying when its connection is closed', function () {
  it('fails, rather than throw from its retry timer once the connection is gone (an API stopping during an outage)', async function () {
    const client = createLazyClient(`127.0.0.1:${await freePort()}`, 'default');
    const call = client.workflowService.getSystemInfo({}).then(
      () => assert.fail('answered with no server'),
      (err: unknown) => err,
    );
    // The first attempt is refused at once, and its retry waits 80 to 120 ms: close the connection meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 40));
    await client.connection.close();
    assert.ok((await call) instanceof Error);
    // The retry's timer has fired by now: had it thrown, mocha would fail this test with the uncaught error.
    await new Promise((resolve) => setTimeout(resolve, 1500));
  });
});
