import assert from 'node:assert/strict';
import type { QueueFigures } from '../src/contract/job.js';
import { TestService, uniqueJobId } from './support/service.js';

describe('Priority', function () {
  let service: TestService;
  before(async function () {
    // One low slot and two high: four ten-second low jobs take forty seconds to drain.
    service = await TestService.start({ workers: { high: 2, low: 1 } });
  });
  after(async function () {
    await service.teardown();
  });

  it('runs a high job submitted behind a saturated low queue before the low backlog drains', async function () {
    const lowIds = Array.from({ length: 4 }, () => uniqueJobId('low'));
    // Long enough that no other low job starts while the high one runs and the figures are read: with two-second
    // ones, on a busy machine the next could start (fewer queued) or visibility be read between two (not 1 running).
    for (const jobId of lowIds) await service.submit({ type: 'sleep', input: { seconds: 10 }, priority: 'low', jobId });
    // The queue's order among equal priorities is Temporal's: wait for whichever low job runs first.
    await service.waitFor(lowIds[0]!, async () => {
      const statuses = await Promise.all(lowIds.map(async (jobId) => (await service.getJob(jobId)).body.status));
      return statuses.includes('running');
    });

    const highId = uniqueJobId('high');
    const submittedAt = Date.now();
    await service.submit({ type: 'sleep', input: { seconds: 0 }, priority: 'high', jobId: highId });
    const high = await service.waitFor(highId, ['succeeded']);
    const highMs = Date.now() - submittedAt;
    assert.ok(highMs < 3000, `the high job took ${highMs} ms`);

    const lowStatuses = await Promise.all(lowIds.map(async (jobId) => (await service.getJob(jobId)).body.status));
    assert.ok(lowStatuses.filter((status) => status === 'queued').length >= 2, `low jobs: ${lowStatuses.join(', ')}`);

    const queues = await service.request<{ queues: QueueFigures[] }>('GET', '/api/v1/queues');
    assert.equal(queues.status, 200);
    const low = queues.body.queues.find((queue) => queue.priority === 'low')!;
    assert.equal(low.taskQueue, `${service.config.JOBS_TASK_QUEUE_PREFIX}-low`);
    assert.ok(low.queuedJobs >= 2, `low queued: ${low.queuedJobs}`);
    assert.equal(low.runningJobs, 1);

    for (const jobId of lowIds) await service.cancel(jobId);
    assert.ok(high.finishedAt);
  });

  it('never runs a low job on a worker that serves only high', async function () {
    const lowId = uniqueJobId('low-only');
    await service.stopWorkers();
    await service.startWorkers({ high: 2 });
    await service.submit({ type: 'sleep', input: { seconds: 0 }, priority: 'low', jobId: lowId });
    const highId = uniqueJobId('high-only');
    const { body: high } = await service.submit(
      { type: 'sleep', input: { seconds: 0 }, priority: 'high', jobId: highId },
      '?wait=10',
    );
    assert.equal(high.status, 'succeeded');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const low = await service.getJob(lowId);
    assert.equal(low.body.status, 'queued');
    assert.equal(low.body.attempt, 0);

    const queues = await service.request<{ queues: QueueFigures[] }>('GET', '/api/v1/queues');
    const byPriority = Object.fromEntries(queues.body.queues.map((queue) => [queue.priority, queue]));
    assert.deepEqual(Object.keys(byPriority), ['high', 'normal', 'low']);
    assert.ok((byPriority['high']!.pollers ?? 0) >= 1, 'the high queue has a poller');

    await service.startWorkers({ low: 1 });
    await service.waitFor(lowId, ['succeeded']);
  });
});
