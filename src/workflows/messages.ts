import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { JobProgress, JobState } from '../contract/job.js';

/** The job's current state, as the job workflow keeps it. */
export const jobStateQuery = defineQuery<JobState>('jobState');

/** Sent by the job's activity when an attempt begins executing on a worker, so `queued` vs `running` is true. */
export const attemptStartedSignal = defineSignal<[{ attempt: number }]>('attemptStarted');

/** What the job's activity heartbeats: the API reads the progress back from the pending attempt. */
export interface HeartbeatDetails {
  readonly progress: JobProgress | null;
}
