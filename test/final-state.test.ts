// Where a finished job's state is: its workflow's memo at every ending (src/workflows/job-workflow.ts), read with one
// describe; a state too big for the memo stays in the close event, and the API reads it from there.
import assert from 'node:assert/strict';
import type { Job } from '../src/contract/job.js';
import { finalJobMemoMaxChars } from '../src/workflows/final-state.js';
import { TestService, uniqueJobId } from './support/service.js';

describe("A finished job's final state", function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start();
  });
  after(async function () {
    await service?.teardown();
  });

  /** The `finalJob` of the job's workflow's memo, as a describe answers it. */
  async function memoFinalJob(jobId: string): Promise<Record<string, unknown> | undefined> {
    const description = await service.temporal.client.workflow.getHandle(jobId).describe();
    return description.memo?.['finalJob'] as Record<string, unknown> | undefined;
  }

  it('is in the memo of its workflow at every ending: succeeded, failed, timed out, cancelled', async function () {
    const ids = { succeeded: uniqueJobId('memo-ok'), failed: uniqueJobId('memo-failed') };
    const timedOut = uniqueJobId('memo-timeout');
    const cancelled = uniqueJobId('memo-cancel');
    const retry = { maxAttempts: 1 };
    const answers: Job[] = [
      (await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: ids.succeeded }, '?wait=10')).body,
      (
        await service.submit(
          { type: 'sleep', input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' }, jobId: ids.failed, retry },
          '?wait=10',
        )
      ).body,
      (
        await service.submit(
          { type: 'sleep', input: { seconds: 5 }, jobId: timedOut, timeoutSeconds: 1, retry },
          '?wait=15',
        )
      ).body,
    ];
    await service.submit({ type: 'sleep', input: { seconds: 30 }, jobId: cancelled });
    await service.cancel(cancelled);
    answers.push(await service.waitFor(cancelled, ['cancelled']));
    assert.deepEqual(
      answers.map((job) => job.status),
      ['succeeded', 'failed', 'timed_out', 'cancelled'],
    );
    for (const job of answers) {
      const memo = await memoFinalJob(job.jobId);
      assert.equal(memo?.['status'], job.status, `${job.jobId}'s memo has its final state`);
      assert.deepEqual(memo?.['result'], job.result);
      assert.deepEqual(memo?.['error'], job.error);
    }
  });

  it('too big for the memo stays in the close event, and reads the same', async function () {
    const jobId = uniqueJobId('memo-big');
    // The message is in the input and in the result: twice over the memo's budget.
    const message = 'm'.repeat(Math.ceil(finalJobMemoMaxChars / 2) + 100);
    const submitted = await service.submit({ type: 'sleep', input: { seconds: 0, message }, jobId }, '?wait=10');
    assert.equal(submitted.body.status, 'succeeded');
    assert.equal(await memoFinalJob(jobId), undefined);
    const polled = await service.getJob(jobId);
    assert.equal(polled.body.status, 'succeeded');
    assert.deepEqual(polled.body.result, { sleptSeconds: 0, message });
  });
});
