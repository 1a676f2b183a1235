import assert from 'node:assert/strict';
import type { ErrorBody } from '../src/contract/errors.js';
import type { Job } from '../src/contract/job.js';
import { TestService, uniqueJobId } from './support/service.js';

describe('Deleting a job', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start();
  });
  after(async function () {
    await service.teardown();
  });

  it('removes a finished job at once: 204, then 404 here, and its jobId makes a new job', async function () {
    const jobId = uniqueJobId('deleted');
    const first = await service.submit({ type: 'sleep', input: { seconds: 0, message: 'first' }, jobId }, '?wait=10');
    assert.equal(first.body.status, 'succeeded');
    // Polled, so this API process holds the job in its caches.
    assert.equal((await service.getJob(jobId)).status, 200);

    const deleted = await service.request('DELETE', `/api/v1/jobs/${jobId}`);
    assert.equal(deleted.status, 204, JSON.stringify(deleted.body));
    const gone = await service.request<ErrorBody>('GET', `/api/v1/jobs/${jobId}`);
    assert.equal(gone.status, 404, 'not answered from the read caches');
    assert.match(gone.body.error.message, /deleted/);
    // Visibility forgets deleted runs in the background: the delete waits for the run, not for visibility.
    const deadline = Date.now() + 10_000;
    while ((await service.countWorkflows(`WorkflowId = '${jobId}'`)) > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await service.countWorkflows(`WorkflowId = '${jobId}'`), 0, 'no run left in visibility');
    assert.equal((await service.request('DELETE', `/api/v1/jobs/${jobId}`)).status, 404, 'a second delete');

    const again = await service.submit(
      { type: 'sleep', input: { seconds: 0, message: 'second' }, jobId, tags: ['reused:id'] },
      '?wait=10',
    );
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'succeeded');
    assert.deepEqual(again.body.input, { seconds: 0, message: 'second' }, 'a new job, not the deleted one');
    assert.deepEqual(again.body.tags, ['reused:id']);
    assert.equal(again.body.run, 1);
  });

  it('removes every run of a retried job', async function () {
    const jobId = uniqueJobId('deleted-retried');
    await service.submit(
      { type: 'sleep', input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' }, jobId },
      '?wait=10',
    );
    assert.equal((await service.request('POST', `/api/v1/jobs/${jobId}/retry`)).status, 202);
    await service.waitFor(jobId, (job) => job.run === 2 && job.status === 'failed');
    assert.equal((await service.request('DELETE', `/api/v1/jobs/${jobId}`)).status, 204);
    assert.equal((await service.getJob(jobId)).status, 404);
    // Visibility forgets deleted runs in the background too.
    const deadline = Date.now() + 10_000;
    while ((await service.countWorkflows(`WorkflowId = '${jobId}'`)) > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await service.countWorkflows(`WorkflowId = '${jobId}'`), 0, 'both runs are gone');
    const listed = await service.request<{ jobs: Job[] }>('GET', '/api/v1/jobs?status=failed&include=');
    assert.ok(!listed.body.jobs.some((job) => job.jobId === jobId), 'not listed');
  });

  it('refuses a job that has not finished (cancel it first) and an unknown one', async function () {
    const jobId = uniqueJobId('not-finished');
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId, delaySeconds: 3600 });
    const refused = await service.request<ErrorBody>('DELETE', `/api/v1/jobs/${jobId}`);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'conflict');
    assert.match(refused.body.error.message, /queued.*cancel it first/);
    assert.equal((await service.getJob(jobId)).body.status, 'queued', 'still there');
    await service.cancel(jobId);
    await service.waitFor(jobId, ['cancelled']);
    await service.client.delete(jobId);
    assert.equal((await service.getJob(jobId)).status, 404, 'deleted through the TypeScript client');

    const unknown = await service.request<ErrorBody>('DELETE', '/api/v1/jobs/no-such-job');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');
    assert.equal((await service.request('DELETE', '/api/v1/jobs/bad%20id')).status, 400);
  });
});
