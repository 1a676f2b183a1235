import type { Client } from '@temporalio/client';
import type { TenantActivities } from '../workflows/job-workflow.js';
import { unfinishedJobsQuery } from '../workflows/search-attributes.js';

/** The tenant activities the job workflow declares, read from visibility. */
export function createTenantActivities(client: Client): TenantActivities {
  return {
    /**
     * The tenant's unfinished jobs that started before the asking run `workflowId`, ordered by start time to the
     * millisecond (as the client reads it, floored) and then by workflow id. Runs fired at the same instant then
     * each count only those ahead of them, so the first of them up to the cap go ahead, where counting each
     * other they all skipped (or, not yet visible to each other, all went ahead).
     */
    async countUnfinishedJobs(tenant: string, workflowId: string): Promise<number> {
      const { startTime } = await client.workflow.getHandle(workflowId).describe();
      const { count } = await client.workflow.count(unfinishedJobsQuery(tenant, { before: startTime }));
      let sameMillisecond = 0;
      const query = unfinishedJobsQuery(tenant, { atOrAfter: startTime, before: new Date(startTime.getTime() + 1) });
      for await (const job of client.workflow.list({ query })) if (job.workflowId < workflowId) sameMillisecond++;
      return count + sameMillisecond;
    },
  };
}
