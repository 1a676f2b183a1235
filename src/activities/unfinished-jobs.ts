import type { Client } from '@temporalio/client';
import { unfinishedJobsQuery } from '../workflows/search-attributes.js';

/** Activities of the job workflows' own queue that read the tenant's standing in visibility. */
export function createTenantActivities(client: Client) {
  return {
    /** The tenant's unfinished jobs but `except` (the asking run, whether visibility shows it yet or not). */
    async countUnfinishedJobs(tenant: string, except: string): Promise<number> {
      return (await client.workflow.count(unfinishedJobsQuery(tenant, except))).count;
    },
  };
}

export type TenantActivities = ReturnType<typeof createTenantActivities>;
