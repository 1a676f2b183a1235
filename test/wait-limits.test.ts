// Submits that wait (`?wait`): each holds a long poll of Temporal, so a tenant's are capped per API process
// (JOBS_MAX_WAITS_PER_TENANT), and a wait ends when its client goes away.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { ErrorBody } from '../src/contract/errors.js';
import { TestService, uniqueJobId } from './support/service.js';

const maxWaits = 3;
const keys = { acme: 'acme-key-0123456789abcdef', globex: 'globex-key-0123456789abcdef' };

describe('Submits waiting with ?wait, per tenant', function () {
  this.timeout(60_000);
  let service: TestService;
  const held: AbortController[] = [];
  before(async function () {
    service = await TestService.start({
      env: {
        API_KEYS: `acme:${keys.acme},globex:${keys.globex}`,
        JOBS_MAX_WAITS_PER_TENANT: String(maxWaits),
      },
    });
  });
  after(async function () {
    for (const controller of held) controller.abort();
    // The ended waits' last reads, before the client they read through is closed.
    await delay(500);
    await service?.teardown();
  });

  /** A submit of `body` with `?wait=30` as `key`, left waiting: aborting its controller closes the connection. */
  function holdWait(key: string, body: unknown): Promise<Response | undefined> {
    const controller = new AbortController();
    held.push(controller);
    return fetch(`${service.baseUrl}/api/v1/jobs?wait=30`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: controller.signal,
    }).catch(() => undefined);
  }

  it('refuses the next with 429 while the tenant holds its cap, having made nothing; other tenants and plain submits go on; a client gone gives its place back', async function () {
    const long = { type: 'sleep', input: { seconds: 60 }, jobId: uniqueJobId('held') };
    service.apiKey = keys.acme;
    assert.equal((await service.submit(long)).status, 202);
    // The same request again, each a wait on the running job: they make nothing, and hold a long poll each.
    for (let i = 0; i < maxWaits; i += 1) void holdWait(keys.acme, long);
    await delay(500);

    const refusedId = uniqueJobId('refused');
    const refused = await service.request<ErrorBody>('POST', '/api/v1/jobs?wait=5', {
      type: 'sleep',
      input: { seconds: 0 },
      jobId: refusedId,
    });
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'rate_limited');
    assert.match(refused.body.error.message, /the most JOBS_MAX_WAITS_PER_TENANT allows; nothing was submitted/);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal((await service.getJob(refusedId)).status, 404, 'a refused submit made no job');

    const plain = await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: uniqueJobId('plain') });
    assert.equal(plain.status, 202, 'a submit without ?wait is not held back');
    service.apiKey = keys.globex;
    const other = await service.submit({ type: 'sleep', input: { seconds: 0 } }, '?wait=10');
    assert.equal(other.status, 200, "another tenant's wait is its own");

    // A client that goes away ends its wait, and its place is the tenant's again.
    held[0]!.abort();
    service.apiKey = keys.acme;
    const deadline = Date.now() + 5000;
    let again = await service.submit({ type: 'sleep', input: { seconds: 0 } }, '?wait=10');
    while (again.status === 429 && Date.now() < deadline) {
      await delay(100);
      again = await service.submit({ type: 'sleep', input: { seconds: 0 } }, '?wait=10');
    }
    assert.equal(again.status, 200, JSON.stringify(again.body));
  });
});
