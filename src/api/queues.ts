import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { JobPriority, type JobStatus, type QueueFigures } from '../contract/job.js';
import { JobPriorityKey, JobStatusKey, JobTenantKey } from '../workflows/search-attributes.js';
import { taskQueueFor } from '../workflows/task-queues.js';

// A CommonJS package whose exports Node's ESM loader cannot see by name: `npm run api` fails on a named import.
const { temporal } = proto;

export interface QueuesDeps {
  readonly client: Client;
  readonly namespace: string;
  readonly taskQueuePrefix: string;
}

async function countJobs(deps: QueuesDeps, tenant: string, priority: JobPriority, status: JobStatus): Promise<number> {
  const query = `WorkflowType = 'jobWorkflow' AND ${JobTenantKey.name} = '${tenant}' AND ${JobPriorityKey.name} = '${priority}' AND ${JobStatusKey.name} = '${status}'`;
  return (await deps.client.workflow.count(query)).count;
}

async function describeAttemptQueue(
  deps: QueuesDeps,
  taskQueue: string,
): Promise<Pick<QueueFigures, 'backlog' | 'pollers'>> {
  try {
    const response = await deps.client.workflowService.describeTaskQueue({
      namespace: deps.namespace,
      taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      reportStats: true,
    });
    const backlog = response.stats?.approximateBacklogCount;
    return {
      backlog: backlog === undefined || backlog === null ? null : Number(backlog),
      pollers: response.pollers?.length ?? null,
    };
  } catch {
    // Older servers refuse stats; the figures are then unknown rather than an error for the whole answer.
    return { backlog: null, pollers: null };
  }
}

/**
 * Per priority: its attempts' task queue with backlog and pollers from Temporal (shared by all tenants),
 * and the tenant's queued and running jobs from visibility.
 */
export async function queueFigures(deps: QueuesDeps, tenant: string): Promise<QueueFigures[]> {
  return Promise.all(
    JobPriority.options.map(async (priority) => {
      const taskQueue = taskQueueFor(deps.taskQueuePrefix, priority);
      const [described, queuedJobs, runningJobs] = await Promise.all([
        describeAttemptQueue(deps, taskQueue),
        countJobs(deps, tenant, priority, 'queued'),
        countJobs(deps, tenant, priority, 'running'),
      ]);
      return { priority, taskQueue, ...described, queuedJobs, runningJobs };
    }),
  );
}
