// The jobs module: requests (validation), commands (submit, retry, cancel), reads (every answer about a job, cached
// in one place), waits and the list, each taking the tenant as an argument. Built once per API process.
import type { Client } from '@temporalio/client';
import type { ChildJobBody, Job, JobState, SubmitJobBody } from '../contract/job.js';
import { toJobJson } from '../contract/job-json.js';
import { workflowIdOf, type JobRequest } from '../workflows/job-state.js';
import { JobAttemptReads } from './attempts.js';
import { JobCommands } from './commands.js';
import { ListCursors } from './cursor.js';
import { JobListing } from './list.js';
import { JobLogReads } from './logs.js';
import type { ReadCaches } from './read-cache.js';
import { TemporalReachability } from './reachability.js';
import { JobReads } from './reads.js';
import { jobStartOptions, resolveJob, resolveSubmit, type RequestSettings } from './request.js';
import { JobWaits } from './wait.js';
import { WorkflowReads, type QueriedState, type TemporalRead } from './workflow-reads.js';

export interface JobsDeps {
  readonly client: Client;
  readonly namespace: string;
  /** The Temporal Web UI's base URL, for each job's link. */
  readonly uiUrl: string;
  /** TRACE_UI_URL, for the link to each job's trace. */
  readonly traceUrl?: string | undefined;
  readonly requests: RequestSettings;
  /** Shared by every read of the process: build them once. */
  readonly caches: ReadCaches<QueriedState>;
  readonly temporalReads?: { inc(labels: { call: TemporalRead }): void };
  /** Signs and checks list cursors (JOBS_CURSOR_KEY); by default under a key of this process's own. */
  readonly cursors?: ListCursors;
  /** Shared with the registry's reads (RegisteredJobTypes); by default one of the jobs' own. */
  readonly reachability?: TemporalReachability;
}

/** Submit bodies into requests, and requests into a job workflow's start (a schedule's action starts it too). */
export interface JobRequests {
  resolve(tenant: string, body: SubmitJobBody): Promise<JobRequest>;
  resolveOne(tenant: string, body: ChildJobBody): Promise<JobRequest>;
  startOptions(tenant: string, request: JobRequest): ReturnType<typeof jobStartOptions>;
}

export interface Jobs {
  readonly requests: JobRequests;
  readonly commands: JobCommands;
  readonly reads: JobReads;
  /** Each job's attempts, from its latest run's history. */
  readonly attempts: JobAttemptReads;
  readonly waits: JobWaits;
  readonly list: JobListing;
  /** Each attempt's log lines (GET /api/v1/jobs/{jobId}/logs, the event streams' `log` events). */
  readonly logs: JobLogReads;
  /** The contract's job JSON of one of the tenant's jobs. */
  toJson(tenant: string, state: JobState): Job;
}

export function createJobs(deps: JobsDeps): Jobs {
  const workflows = new WorkflowReads(deps);
  const reads = new JobReads(workflows, deps.caches);
  const waits = new JobWaits(workflows, reads);
  const settings = deps.requests;
  return {
    requests: {
      resolve: (tenant, body) => resolveSubmit(settings, tenant, body),
      resolveOne: (tenant, body) => resolveJob(settings, tenant, body),
      startOptions: (tenant, request) => jobStartOptions(settings.taskQueuePrefix, tenant, request),
    },
    commands: new JobCommands(workflows, reads, waits, settings.taskQueuePrefix, settings),
    reads,
    attempts: new JobAttemptReads(workflows, deps.caches.attempts),
    waits,
    logs: new JobLogReads(workflows, deps.caches.logs),
    list: new JobListing(
      workflows,
      reads,
      deps.namespace,
      deps.cursors ?? new ListCursors(),
      deps.reachability ?? new TemporalReachability(deps.client, deps.namespace),
    ),
    toJson: (tenant, state) =>
      toJobJson(state, workflowIdOf(tenant, state.jobId), {
        uiUrl: deps.uiUrl,
        namespace: deps.namespace,
        traceUrl: deps.traceUrl,
      }),
  };
}

export { ListCursors } from './cursor.js';
export { writtenJson } from './json-bytes.js';
export { turnForWork } from './loop-turns.js';
export { ReadCaches, pollMaxAgeMs, stateBytes } from './read-cache.js';
export { temporalDeadlineMs } from './reads.js';
export { maxInputBytes, unknownJobTypeMessage } from './request.js';
export { quoted } from './suggest.js';
export { declaredJobTypes, RegisteredJobTypes, type KnownJobType } from './job-types.js';
export { TemporalReachability } from './reachability.js';
export type { JobListFilter } from './list.js';
export type { QueriedState, TemporalRead } from './workflow-reads.js';
