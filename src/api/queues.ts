import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { jobTypeTaskQueue } from '../contract/job-type-declaration.js';
import {
  JobPriority,
  type JobStatus,
  type QueueFigures,
  type QueueList,
  type TypeQueueFigures,
} from '../contract/job.js';
import type { RegisteredJobTypes } from '../jobs/index.js';
import {
  JobPriorityKey,
  JobStatusKey,
  JobTenantKey,
  JobTypeKey,
  visibilityLiteral,
} from '../workflows/search-attributes.js';
import { taskQueueFor } from '../workflows/task-queues.js';

// A CommonJS package whose exports Node's ESM loader cannot see by name: `npm run api` fails on a named import.
const { temporal } = proto;

export interface QueuesDeps {
  readonly client: Client;
  readonly namespace: string;
  readonly taskQueuePrefix: string;
  readonly jobTypes: RegisteredJobTypes;
}

async function countJobs(
  deps: QueuesDeps,
  tenant: string,
  priority: JobPriority,
  status: JobStatus,
  type?: string,
): Promise<number> {
  // Every value quoted as a literal, though tenants and type names are checked elsewhere: that check is not this query's.
  const ofType = type === undefined ? '' : ` AND ${JobTypeKey.name} = ${visibilityLiteral(type)}`;
  const query = `WorkflowType = 'jobWorkflow' AND ${JobTenantKey.name} = ${visibilityLiteral(tenant)} AND ${JobPriorityKey.name} = '${priority}' AND ${JobStatusKey.name} = '${status}'${ofType}`;
  return (await deps.client.workflow.count(query)).count;
}

export async function describeAttemptQueue(
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
 * Per priority: its shared task queue (the service's per-priority queue, which jobs started before job types had
 * queues of their own still use) with backlog and pollers from Temporal, and the tenant's queued and running jobs
 * from visibility. Per job type and priority: its own queue, the live worker processes the registry counts, the
 * tenant's queued jobs, and why they wait when no worker serves them.
 */
export async function queueFigures(deps: QueuesDeps, tenant: string): Promise<QueueList> {
  const views = await deps.jobTypes.all();
  const [queues, types] = await Promise.all([
    Promise.all(
      JobPriority.options.map(async (priority): Promise<QueueFigures> => {
        const taskQueue = taskQueueFor(deps.taskQueuePrefix, priority);
        const [described, queuedJobs, runningJobs] = await Promise.all([
          describeAttemptQueue(deps, taskQueue),
          countJobs(deps, tenant, priority, 'queued'),
          countJobs(deps, tenant, priority, 'running'),
        ]);
        return { priority, taskQueue, ...described, queuedJobs, runningJobs };
      }),
    ),
    Promise.all(
      views.flatMap(({ declaration: { name }, workers }) =>
        JobPriority.options.map(async (priority): Promise<TypeQueueFigures> => {
          const taskQueue = jobTypeTaskQueue(deps.taskQueuePrefix, name, priority);
          const [described, queuedJobs] = await Promise.all([
            describeAttemptQueue(deps, taskQueue),
            countJobs(deps, tenant, priority, 'queued', name),
          ]);
          const waiting =
            workers[priority] === 0
              ? `no live worker serves ${name} at priority ${priority}: its jobs wait queued until one starts`
              : null;
          return { type: name, priority, taskQueue, workers: workers[priority], ...described, queuedJobs, waiting };
        }),
      ),
    ),
  ]);
  return { queues, types };
}
