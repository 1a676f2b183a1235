// The job's state and its transitions, as pure functions: the workflow keeps it, the API shows it.
import type { AttemptOutcome } from '../contract/job-type-declaration.js';
import type { JobError, JobPriority, JobState, JobStatus, RetrySettings } from '../contract/job.js';

/** The submit body resolved against the job type's defaults: the job workflow's only input. */
export interface JobRequest {
  readonly jobId: string;
  /** Whose job it is; also its fairness key, so one tenant's flood does not starve another's jobs. Absent in histories from before tenants. */
  readonly tenant?: string;
  readonly type: string;
  readonly priority: JobPriority;
  readonly input: unknown;
  readonly timeoutSeconds: number;
  readonly heartbeatTimeoutSeconds: number;
  readonly retry: RetrySettings;
  readonly taskQueue: string;
  readonly submittedAt: string;
  /** 1 (or absent) for a first run; a retry of a finished job starts run n + 1 of the same workflow id. */
  readonly run?: number;
  readonly callbackUrl?: string;
  /** A delayed job's first attempt waits (on a durable timer) until this time. */
  readonly runAt?: string;
  /** Jobs that run first, as child workflows; each with the hash its memo carries for idempotent re-submits. */
  readonly children?: ReadonlyArray<{ readonly request: JobRequest; readonly requestHash: string }>;
  readonly onChildFailure?: 'fail' | 'continue';
  /**
   * Started by a Temporal Schedule: each run's workflow id is `<scheduleId>-<scheduled time>`, so the job id
   * and creation time come from the run, not from this (shared) request.
   */
  readonly scheduled?: boolean;
  /**
   * A scheduled run's tenant's cap on unfinished jobs (MAX_UNFINISHED_JOBS_PER_TENANT when the schedule was made):
   * the API admits no scheduled run, so the run checks it itself.
   */
  readonly unfinishedCap?: number;
  /** The job's key:value tags; absent when it has none (and in histories from before tags). */
  readonly tags?: readonly string[];
  /** The OpenTelemetry trace the submit was in, when the API exports traces; not part of the request's identity. */
  readonly traceId?: string;
  /**
   * A workflow version (src/workflows/version.ts) every worker has, as the API that made the request was told
   * (JOBS_WORKFLOW_VERSION): its run takes every change up to it with no `patched()` call (src/workflows/changes.ts).
   * Absent when the API was told none, and in requests from before v4. Not part of the request's identity.
   */
  readonly commandsVersion?: number;
}

/** The tenant of every job when no API keys are configured. */
export const defaultTenant = 'default';

/**
 * The workflow id of a tenant's job: the job id itself for the default tenant, `<tenant>/<jobId>` for the
 * others. Job ids cannot contain `/`, so no two (tenant, jobId) pairs share a workflow. The one place that
 * knows how job ids map onto Temporal.
 */
export function workflowIdOf(tenant: string, jobId: string): string {
  return tenant === defaultTenant ? jobId : `${tenant}/${jobId}`;
}

/** The job id inside a workflow id: what `workflowIdOf` put after the tenant. */
export function jobIdOf(tenant: string, workflowId: string): string {
  return tenant === defaultTenant ? workflowId : workflowId.slice(tenant.length + 1);
}

/** The workflow that delivers a finished job to its callbackUrl: `#` appears in no job id or tenant. */
export function callbackWorkflowIdOf(jobWorkflowId: string): string {
  return `${jobWorkflowId}#callback`;
}

// What one attempt of a job's activity is told and returns: the worker protocol's shapes, so the job workflow and
// every handler worker read the same ones.
export type { AttemptInfo, AttemptOutcome } from '../contract/job-type-declaration.js';

export const finishedStatuses: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'timed_out', 'cancelled']);

export function isFinished(status: JobStatus): boolean {
  return finishedStatuses.has(status);
}

/** Temporal's priority keys: lower runs first where the server orders tasks within a queue. */
export const priorityKeyOf: Record<JobPriority, number> = { high: 1, normal: 3, low: 5 };

/** The Temporal priority of a job's workflow and attempts: its priority's key, and its tenant as fairness key. */
export function priorityOf(request: Pick<JobRequest, 'priority' | 'tenant'>): {
  priorityKey: number;
  fairnessKey?: string;
} {
  return { priorityKey: priorityKeyOf[request.priority], ...(request.tenant ? { fairnessKey: request.tenant } : {}) };
}

/**
 * The request a run works on: a scheduled run's names its job after its own workflow id (`<scheduleId>-<time>`) and
 * was submitted when the run started; any other run's is the request it started with. Read from the workflow and
 * from a run's history alike, so both name the job the same.
 */
export function runRequest(requested: JobRequest, run: { workflowId: string; startTime: Date }): JobRequest {
  if (!requested.scheduled) return requested;
  return {
    ...requested,
    jobId: jobIdOf(requested.tenant ?? defaultTenant, run.workflowId),
    submittedAt: run.startTime.toISOString(),
  };
}

export function initialJobState(request: JobRequest): JobState {
  return {
    jobId: request.jobId,
    type: request.type,
    priority: request.priority,
    status: 'queued',
    attempt: 0,
    maxAttempts: request.retry.maxAttempts,
    progress: null,
    input: request.input,
    result: null,
    error: null,
    lastError: null,
    createdAt: request.submittedAt,
    startedAt: null,
    finishedAt: null,
    runAt: request.runAt ?? null,
    run: request.run ?? 1,
    callback: request.callbackUrl ? { status: 'pending', attempts: 0, lastError: null } : null,
    children: request.children
      ? request.children.map(({ request: child }) => ({ jobId: child.jobId, status: 'queued' }))
      : null,
    // Only when it has tags: the final state of a job without is as it was before tags (its memo, fitsInMemo).
    ...(request.tags ? { tags: [...request.tags] } : {}),
    ...(request.traceId ? { traceId: request.traceId } : {}),
  };
}

/**
 * When an attempt started, as the workflow keeps it: the worker's report (the `attemptStarted` signal's `startedAt`,
 * or the outcome's) when it reads as a time, moved into [`scheduledAt`, `now`], from the workflow scheduling the
 * attempt to the workflow hearing of it; `now` when there is none or it is no time. Whoever may signal the workflow
 * can send one, and a worker's clock may be off, so it is never taken as it comes.
 */
export function attemptStartTime(reported: unknown, scheduledAt: string, now: string): string {
  const reportedMs = typeof reported === 'string' ? Date.parse(reported) : NaN;
  if (!Number.isFinite(reportedMs)) return now;
  const latestMs = Date.parse(now);
  return new Date(Math.min(latestMs, Math.max(Date.parse(scheduledAt), reportedMs))).toISOString();
}

export function attemptStarted(state: JobState, attempt: number, at: string): JobState {
  return { ...state, status: 'running', attempt, startedAt: state.startedAt ?? at };
}

export function attemptFailed(state: JobState, attempt: number, error: JobError): JobState {
  return { ...state, status: 'queued', attempt, lastError: error };
}

/** The attempt succeeded at `at`; if no attempt was seen starting, the job started at `startedAt` (else at `at`). */
export function succeeded(
  state: JobState,
  attempt: number,
  outcome: AttemptOutcome,
  at: string,
  startedAt: string = at,
): JobState {
  return {
    ...state,
    status: 'succeeded',
    attempt,
    result: outcome.result ?? null,
    progress: outcome.progress ?? state.progress,
    lastError: null,
    startedAt: state.startedAt ?? startedAt,
    finishedAt: at,
  };
}

export function ended(
  state: JobState,
  status: 'failed' | 'timed_out' | 'cancelled',
  error: JobError,
  at: string,
): JobState {
  return { ...state, status, error, lastError: null, finishedAt: at };
}

/** Seconds to wait before the attempt after `failedAttempt`, as Temporal's own retry policy computes it. */
export function retryDelaySeconds(retry: RetrySettings, failedAttempt: number): number {
  const delay = retry.initialIntervalSeconds * retry.backoffCoefficient ** (failedAttempt - 1);
  return Math.min(delay, retry.maximumIntervalSeconds);
}
