// What a queued job's workflow costs the worker that keeps it in its cache (issue 21): the SDK's reusable V8 context
// evaluates afresh, per workflow, every module the workflow bundle's workflows import, so a module that builds much
// at load (zod and the contract's schemas: 1.4 MB) is paid once per cached workflow. Measured in this process's heap,
// after a full collection, around starting the workflows: a worker's RSS on a loaded machine is too noisy to bound.
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { eventually, JobWorkflowTestbed } from './support/time-skipping.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function heapUsedBytes(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

const queuedJobs = 100;
/** Per cached job workflow: about 100 KB measured; 1 MB and more when each workflow evaluated zod and schemas. */
const boundBytesPerWorkflow = 400 * 1024;

describe('A queued job costs its worker little memory', function () {
  let testbed: JobWorkflowTestbed;
  before(async function () {
    testbed = await JobWorkflowTestbed.start();
  });
  after(async function () {
    await testbed?.teardown();
  });

  it(`keeps ${queuedJobs} queued job workflows in its cache under ${boundBytesPerWorkflow / 1024} KB each`, async function () {
    const queues = testbed.queues();
    // No attempt worker: every job stays queued, its workflow waiting on its attempt, as in a backlog. debugMode runs
    // the workflows in this thread (the same reusable context, not in a worker thread), so that this heap holds them.
    const worker = await testbed.workflowWorker(queues, { maxCachedWorkflows: queuedJobs + 10, debugMode: true });
    await worker.runUntil(async () => {
      // One workflow first, so that what every worker holds once (the bundle's context, the SDK's state) is not counted.
      await testbed.start(queues, await testbed.request(queues, { type: 'sleep', input: { seconds: 1 } }));
      await eventually(
        () => Promise.resolve(worker.getStatus().numCachedWorkflows),
        (cached) => cached === 1,
        'the first workflow cached',
        30_000,
      );
      const before = heapUsedBytes();
      for (let i = 0; i < queuedJobs; i++)
        await testbed.start(queues, await testbed.request(queues, { type: 'sleep', input: { seconds: 1 } }));
      await eventually(
        () => Promise.resolve(worker.getStatus().numCachedWorkflows),
        (cached) => cached === queuedJobs + 1,
        `${queuedJobs} more workflows cached`,
        60_000,
      );
      const perWorkflow = (heapUsedBytes() - before) / queuedJobs;
      assert.ok(
        perWorkflow < boundBytesPerWorkflow,
        `each cached job workflow holds ${Math.round(perWorkflow / 1024)} KB of heap, more than ${boundBytesPerWorkflow / 1024} KB`,
      );
    });
  });
});
