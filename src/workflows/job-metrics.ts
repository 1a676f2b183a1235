// The sink through which a job workflow reports its end: counted by the worker that runs the workflow, once per job
// (the SDK does not call sinks while replaying), so no API replica counts it twice and none misses it.
import { proxySinks, type Sinks } from '@temporalio/workflow';
import type { JobState } from '../contract/job.js';

/** What the job metrics need of a finished job. */
export type FinishedJob = Pick<
  JobState,
  'type' | 'priority' | 'status' | 'createdAt' | 'runAt' | 'startedAt' | 'finishedAt'
>;

export interface JobMetricsSinks extends Sinks {
  jobMetrics: { finished(job: FinishedJob): void };
}

/** Called once the job's state is final. */
export function reportFinished(state: JobState): void {
  const { type, priority, status, createdAt, runAt, startedAt, finishedAt } = state;
  proxySinks<JobMetricsSinks>().jobMetrics.finished({
    type,
    priority,
    status,
    createdAt,
    runAt,
    startedAt,
    finishedAt,
  });
}
