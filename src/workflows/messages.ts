import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AttemptHeartbeat, AttemptStarted } from '../contract/job-type-declaration.js';
import { attemptStartedSignalName } from '../contract/protocol-names.js';
import type { JobState } from '../contract/job.js';

/** The job's current state, as the job workflow keeps it. */
export const jobStateQuery = defineQuery<JobState>('jobState');

/** Sent by the job's activity when an attempt begins executing on a worker, so `queued` vs `running` is true. */
export const attemptStartedSignal = defineSignal<[AttemptStarted]>(attemptStartedSignalName);

/** What the job's activity heartbeats (the worker protocol's shape): the API reads the progress back from the pending attempt. */
export type HeartbeatDetails = AttemptHeartbeat;
