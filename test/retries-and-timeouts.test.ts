import assert from 'node:assert/strict';
import { TestService, uniqueJobId } from './support/service.js';

describe('Retries and timeouts', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start();
  });
  after(async function () {
    await service.teardown();
  });

  it('retries a retryable failure with backoff and counts the attempts', async function () {
    const jobId = uniqueJobId('retry');
    await service.submit({
      type: 'sleep',
      input: { seconds: 0, failAttempts: 2 },
      retry: { maxAttempts: 3, initialIntervalSeconds: 0.2, backoffCoefficient: 2 },
      jobId,
    });
    const done = await service.waitFor(jobId, ['succeeded', 'failed']);
    assert.equal(done.status, 'succeeded');
    assert.equal(done.attempt, 3);
  });

  it('ends failed with the last error once the attempts run out', async function () {
    const jobId = uniqueJobId('exhausted');
    await service.submit({
      type: 'sleep',
      input: { seconds: 0, failAttempts: 5 },
      retry: { maxAttempts: 2, initialIntervalSeconds: 0.1 },
      jobId,
    });
    const done = await service.waitFor(jobId, ['succeeded', 'failed']);
    assert.equal(done.status, 'failed');
    assert.equal(done.attempt, 2);
    assert.equal(done.error?.type, 'TransientError');
    assert.match(done.error?.message ?? '', /attempt 2/);
    assert.equal(done.result, null);
  });

  it('ends failed at once on a non-retryable error', async function () {
    const jobId = uniqueJobId('unrecoverable');
    await service.submit({ type: 'sleep', input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' }, jobId });
    const done = await service.waitFor(jobId, ['succeeded', 'failed']);
    assert.equal(done.status, 'failed');
    assert.equal(done.attempt, 1);
    assert.equal(done.maxAttempts, 3);
    assert.equal(done.error?.type, 'UnrecoverableError');
  });

  it('ends timed_out when the last attempt runs past timeoutSeconds', async function () {
    const jobId = uniqueJobId('timeout');
    await service.submit({
      type: 'sleep',
      input: { seconds: 30 },
      timeoutSeconds: 1,
      retry: { maxAttempts: 2, initialIntervalSeconds: 0.1 },
      jobId,
    });
    const done = await service.waitFor(jobId, ['succeeded', 'failed', 'timed_out'], 15_000);
    assert.equal(done.status, 'timed_out');
    assert.equal(done.attempt, 2);
    assert.equal(done.error?.type, 'Timeout');
  });

  it('kills a command that runs past its timeout', async function () {
    const jobId = uniqueJobId('command-timeout');
    await service.submit({
      type: 'command',
      input: { command: 'wait-forever', env: { PID_FILE: '/dev/null' } },
      timeoutSeconds: 1,
      jobId,
    });
    const done = await service.waitFor(jobId, ['succeeded', 'failed', 'timed_out'], 15_000);
    assert.equal(done.status, 'timed_out');
  });
});
