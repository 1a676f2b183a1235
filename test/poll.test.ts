import assert from 'node:assert/strict';
import { TestService, uniqueJobId } from './support/service.js';

describe('Polling a job', function () {
  let service: TestService;
  before(async function () {
    // Only high-priority attempts are served at first, so a normal job stays queued until a worker appears.
    service = await TestService.start({ workers: { high: 2 } });
  });
  after(async function () {
    await service.teardown();
  });

  it('says queued while no worker runs its attempt, then running with attempt 1 and progress once one does', async function () {
    const jobId = uniqueJobId('queued');
    await service.submit({ type: 'sleep', input: { seconds: 3 }, jobId });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const queries = await service.temporalReads('query');
    const queued = await service.getJob(jobId);
    assert.equal(queued.status, 200);
    assert.equal(queued.body.status, 'queued');
    assert.equal(queued.body.attempt, 0);
    assert.equal(queued.body.startedAt, null);
    // A job that has only been queued is read from its request: no worker replays its workflow to answer a query.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await service.getJob(jobId)).body.status, 'queued');
    assert.equal(await service.temporalReads('query'), queries, 'a queued job was read with a query');

    const normalWorkers = await service.startWorkers({ normal: 2 });
    try {
      const running = await service.waitFor(
        jobId,
        (job) => job.status === 'running' && (job.progress?.percent ?? 0) > 0,
      );
      assert.equal(running.attempt, 1);
      assert.ok(running.startedAt);
      assert.match(running.progress?.message ?? '', /^slept \d of 3 s$/);
      const done = await service.waitFor(jobId, ['succeeded']);
      assert.deepEqual(done.progress, { percent: 100, message: 'slept 3 of 3 s' });
    } finally {
      await normalWorkers.stop();
    }
  });

  it("shows a running job's progress as it advances, polled every 100 ms", async function () {
    const jobId = uniqueJobId('progress');
    // A heartbeat reaches Temporal at most every 0.8 × heartbeatTimeoutSeconds: 1 s lets a 4 s job report several.
    await service.submit({ type: 'sleep', priority: 'high', input: { seconds: 4 }, heartbeatTimeoutSeconds: 1, jobId });
    const messages = new Set<string>();
    for (;;) {
      const { body } = await service.getJob(jobId);
      if (body.status === 'running' && body.progress?.message) messages.add(body.progress.message);
      if (body.status === 'succeeded') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(messages.size >= 3, `polls saw ${[...messages].join(', ')}`);
  });

  it("answers 404 not_found once a polled job's workflow is deleted from Temporal", async function () {
    const jobId = uniqueJobId('deleted');
    await service.submit({
      type: 'sleep',
      priority: 'high',
      input: { seconds: 60 },
      heartbeatTimeoutSeconds: 1,
      jobId,
    });
    await service.waitFor(jobId, ['running']);
    // Polled for a while first, so that the API's reads of the job renew in the background.
    for (let i = 0; i < 10; i++) {
      assert.equal((await service.getJob(jobId)).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await service.temporal.client.workflowService.deleteWorkflowExecution({
      namespace: service.config.TEMPORAL_NAMESPACE,
      workflowExecution: { workflowId: jobId },
    });
    const statuses: number[] = [];
    while (statuses.at(-1) !== 404 && statuses.length < 50) {
      statuses.push((await service.getJob(jobId)).status);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(statuses.at(-1), 404, `polls answered ${statuses.join(' ')}`);
    assert.ok(
      statuses.every((status) => status === 200 || status === 404),
      `polls answered ${statuses.join(' ')}`,
    );
  });

  it("shows the previous attempt's failure as lastError while retrying, and counts attempts", async function () {
    const jobId = uniqueJobId('retrying');
    await service.submit({
      type: 'sleep',
      priority: 'high',
      input: { seconds: 0, failAttempts: 2 },
      retry: { maxAttempts: 3, initialIntervalSeconds: 1.5, backoffCoefficient: 1 },
      jobId,
    });
    const retrying = await service.waitFor(jobId, (job) => job.lastError !== null);
    assert.equal(retrying.status, 'queued');
    assert.equal(retrying.lastError?.type, 'TransientError');
    assert.match(retrying.lastError?.message ?? '', /planned failure of attempt 1/);
    const done = await service.waitFor(jobId, ['succeeded']);
    assert.equal(done.attempt, 3);
    assert.equal(done.lastError, null);
  });

  it('answers for a finished job within a second even with no worker running', async function () {
    const jobId = uniqueJobId('no-worker');
    const { body } = await service.submit(
      { type: 'sleep', input: { seconds: 0 }, priority: 'high', jobId },
      '?wait=10',
    );
    assert.equal(body.status, 'succeeded');
    const failedId = uniqueJobId('no-worker-failed');
    await service.submit(
      {
        type: 'sleep',
        input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' },
        priority: 'high',
        jobId: failedId,
      },
      '?wait=10',
    );
    await service.stopWorkers();
    try {
      for (const [id, status] of [
        [jobId, 'succeeded'],
        [failedId, 'failed'],
      ] as const) {
        const started = performance.now();
        const polled = await service.getJob(id);
        const elapsedMs = performance.now() - started;
        assert.equal(polled.status, 200);
        assert.equal(polled.body.status, status);
        assert.ok(elapsedMs < 1000, `answered in ${Math.round(elapsedMs)} ms`);
      }
    } finally {
      await service.startWorkers({ high: 2 });
    }
  });

  it('answers 404 not_found for an unknown job and 400 for a malformed id', async function () {
    const missing = await service.getJob('no-such-job');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, {
      error: {
        code: 'not_found',
        message:
          'no job with id "no-such-job": it never existed, was deleted, or finished longer ago than the retention (JOB_RETENTION_HOURS)',
      },
    });
    const malformed = await service.request('GET', '/api/v1/jobs/-starts-with-dash');
    assert.equal(malformed.status, 400);
    const overlong = await service.getJob('a'.repeat(129));
    assert.equal(overlong.status, 400);
  });
});
