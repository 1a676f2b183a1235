// The task queues a job runs on (src/workflows/task-queues.ts): the API starts jobs on them, workers poll them.
import assert from 'node:assert/strict';
import { taskQueueFor, workflowTaskQueueFor } from '../../src/workflows/task-queues.js';

describe("A job's attempts run on its priority's task queue, its workflow on one shared by all", function () {
  const rows: [prefix: string, priority: 'high' | 'normal' | 'low', queue: string][] = [
    ['jobs', 'high', 'jobs-high'],
    ['jobs', 'normal', 'jobs-normal'],
    ['jobs', 'low', 'jobs-low'],
    ['test.run-7', 'high', 'test.run-7-high'],
  ];
  for (const [prefix, priority, queue] of rows) {
    it(`${priority} attempts with JOBS_TASK_QUEUE_PREFIX=${prefix}: ${queue}`, function () {
      assert.equal(taskQueueFor(prefix, priority), queue);
    });
  }

  it("every workflow on <prefix>-workflows, apart from every priority's queue", function () {
    assert.equal(workflowTaskQueueFor('jobs'), 'jobs-workflows');
    const attemptQueues = (['high', 'normal', 'low'] as const).map((priority) => taskQueueFor('jobs', priority));
    assert.ok(!attemptQueues.includes(workflowTaskQueueFor('jobs')));
  });
});
