import assert from 'node:assert/strict';
import type { ErrorBody } from '../src/contract/errors.js';
import { TestService, uniqueJobId } from './support/service.js';

describe('When Temporal is unreachable', function () {
  let service: TestService;
  let jobId: string;
  before(async function () {
    service = await TestService.start();
    jobId = uniqueJobId('before-outage');
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId }, '?wait=10');
    await service.stopTemporal();
  });
  after(async function () {
    await service.teardown();
  });

  const timed = async <T>(call: () => Promise<T>): Promise<{ value: T; ms: number }> => {
    const started = performance.now();
    const value = await call();
    return { value, ms: performance.now() - started };
  };

  it('answers a submit with 503 unavailable within a few seconds', async function () {
    const { value, ms } = await timed(() =>
      service.request<ErrorBody>('POST', '/api/v1/jobs', { type: 'sleep', input: { seconds: 1 } }),
    );
    assert.equal(value.status, 503);
    assert.equal(value.body.error.code, 'unavailable');
    assert.ok(ms < 7000, `answered after ${Math.round(ms)} ms`);
  });

  it('answers a poll and a cancel with 503 unavailable', async function () {
    for (const call of [() => service.getJob(jobId), () => service.cancel(jobId)]) {
      const { value, ms } = await timed(call);
      assert.equal(value.status, 503);
      assert.equal((value.body as unknown as ErrorBody).error.code, 'unavailable');
      assert.ok(ms < 7000, `answered after ${Math.round(ms)} ms`);
    }
  });

  it('is not ready, with the reason, but still alive', async function () {
    const ready = await service.request<ErrorBody>('GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.match(ready.body.error.message, /unreachable/);
    assert.equal((await service.request('GET', '/healthz')).status, 200);
  });
});
