// Whether a worker process serves its task queues, as Temporal sees it: how the tests and `npm start` know the worker
// they started (not another one, and not one still connecting) is polling.
import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { JobPriority } from '../src/contract/job.js';
import { taskQueueFor, workflowTaskQueueFor } from '../src/workflows/task-queues.js';

const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

/**
 * Whether Temporal lists process `pid` (the worker's identity `<pid>@<host>`, the SDK's default) among the pollers of
 * the workflow task queue of `taskQueuePrefix` and of each of `priorities`' queues. False while Temporal does not answer.
 */
export async function pollsItsQueues(
  service: Connection['workflowService'],
  namespace: string,
  taskQueuePrefix: string,
  priorities: readonly JobPriority[],
  pid: number,
): Promise<boolean> {
  const queues = [
    { name: workflowTaskQueueFor(taskQueuePrefix), type: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW },
    ...priorities.map((priority) => ({
      name: taskQueueFor(taskQueuePrefix, priority),
      type: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    })),
  ];
  const polled = async ({ name, type }: (typeof queues)[number]): Promise<boolean> => {
    const { pollers } = await service.describeTaskQueue({
      namespace,
      taskQueue: { name, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: type,
    });
    return (pollers ?? []).some((poller) => poller.identity?.startsWith(`${pid}@`));
  };
  return Promise.all(queues.map(polled)).then(
    (each) => each.every(Boolean),
    () => false,
  );
}
