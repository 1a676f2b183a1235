// What a job costs Temporal in history: events per job by type, and workflow tasks (a worker's turn at the workflow:
// a poll, a replay or cache hit, a completion, each a write to the server's database).
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

// A CommonJS package whose exports Node's ESM loader cannot see by name (see src/api/queues.ts).
const { EventType } = proto.temporal.api.enums.v1;

export interface HistoryCost {
  readonly jobs: number;
  readonly eventsPerJob: number;
  readonly workflowTasksPerJob: number;
  /** Events per job by type (`WORKFLOW_TASK_STARTED`, `WORKFLOW_EXECUTION_SIGNALED`, …). */
  readonly eventsByType: Readonly<Record<string, number>>;
}

/** Reads the histories of `workflowIds` (finished workflows) and averages them per job. */
export async function historyCost(client: Client, workflowIds: readonly string[]): Promise<HistoryCost> {
  const byType: Record<string, number> = {};
  let events = 0;
  for (const workflowId of workflowIds) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    for (const event of history.events ?? []) {
      const name = (EventType[event.eventType ?? 0] ?? 'UNKNOWN').replace(/^EVENT_TYPE_/, '');
      byType[name] = (byType[name] ?? 0) + 1;
      events++;
    }
  }
  const jobs = workflowIds.length;
  const perJob = (count: number): number => Math.round((count / jobs) * 100) / 100;
  return {
    jobs,
    eventsPerJob: perJob(events),
    workflowTasksPerJob: perJob(byType['WORKFLOW_TASK_STARTED'] ?? 0),
    eventsByType: Object.fromEntries(Object.entries(byType).map(([name, count]) => [name, perJob(count)])),
  };
}
