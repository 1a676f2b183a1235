// A scheduled run's check of its tenant's cap on unfinished jobs, through an activity on the workflows' own queue.
import { isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { takesChange } from './changes.js';
import { defaultTenant, type JobRequest } from './job-state.js';

/** Activities of the job workflows' own queue that read the tenant's standing in visibility (src/activities/unfinished-jobs.ts). */
export interface TenantActivities {
  /** The tenant's unfinished jobs that started before the run `workflowId`. */
  countUnfinishedJobs(tenant: string, workflowId: string): Promise<number>;
}

/** On the workflow's own queue: a count in visibility, quick, retried a little. */
const { countUnfinishedJobs } = proxyActivities<TenantActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3 },
});

/**
 * Whether a scheduled run finds its tenant at its cap of unfinished jobs. The API admits every other start, but
 * a schedule's runs are started by Temporal, so they check here: a change of v2 (a run begun by a worker without
 * this check replays without it).
 */
export async function atUnfinishedCap(request: JobRequest): Promise<boolean> {
  if (
    !request.scheduled ||
    request.unfinishedCap === undefined ||
    !takesChange(request, 2, 'scheduled-run-unfinished-cap')
  )
    return false;
  try {
    return (
      (await countUnfinishedJobs(request.tenant ?? defaultTenant, workflowInfo().workflowId)) >= request.unfinishedCap
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    // The cap is as loose as visibility anyway: a run is not dropped because visibility could not answer.
    return false;
  }
}
