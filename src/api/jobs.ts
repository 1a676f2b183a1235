import { createHash, randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
  type WorkflowHandle,
} from '@temporalio/client';
// The public list iterator hides page tokens, which an opaque REST cursor needs; this decodes a raw page.
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers.js';
import { ApplicationFailure, type Payload } from '@temporalio/common';
import { taskQueueFor, workflowTaskQueueFor } from '../config.js';
import type { Job, JobPriority, JobProgress, JobStatus, SubmitJobBody } from '../contract/job.js';
import type { HeartbeatDetails } from '../activities/index.js';
import type { JobType, JobTypeSettings } from '../activities/job-type.js';
import { findJobType } from '../activities/registry.js';
import { jobWorkflow } from '../workflows/index.js';
import { initialJobState, priorityOf, type JobRequest, type JobState } from '../workflows/job-state.js';
import { jobStateQuery } from '../workflows/messages.js';
import { JobPriorityKey, JobStatusKey, JobTenantKey, JobTypeKey } from '../workflows/search-attributes.js';
import { FinishedJobCache } from './finished-jobs.js';
import { JobConflictError, JobNotFoundError, PayloadTooLargeError, RequestInvalidError, isTemporalUnreachable } from './errors.js';

export interface JobsDeps {
  readonly client: Client;
  /** Share one across the per-tenant views: final states never change, whoever reads them. */
  readonly finished?: FinishedJobCache;
  readonly namespace: string;
  readonly taskQueuePrefix: string;
  readonly uiUrl: string;
  readonly jobTypeSettings: JobTypeSettings;
}

/**
 * A job's input travels in its workflow's history and in every poll: well under Temporal's 2 MB payload
 * limit, and refused here before Temporal sees it.
 */
export const maxInputBytes = 512 * 1024;

/** Every read of Temporal gets this long before it counts as an outage (503). */
export const temporalDeadlineMs = 5000;

/** How long a poll waits for a running job's workflow to answer its query before falling back to history. */
const queryDeadlineMs = 3000;

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

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Two submits are the same request when everything but the submission time matches. */
function requestHash(request: JobRequest): string {
  const { submittedAt: _submittedAt, ...identity } = request;
  return createHash('sha256').update(canonicalJson(identity)).digest('hex');
}

/** The fields of a workflow execution that reading a finished job needs, as both describe and list give them. */
type ExecutionInfo = Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'status' | 'memo' | 'typedSearchAttributes' | 'closeTime'>;

export interface JobListFilter {
  readonly status?: JobStatus;
  readonly type?: string;
  readonly priority?: JobPriority;
  readonly limit: number;
  readonly cursor?: string;
}

/**
 * A list cursor is Temporal's page token plus a check binding it to the query it pages: Temporal answers
 * a mangled token with an internal error, so a cursor that fails the check is refused here as a 400.
 */
function cursorCheck(token: Uint8Array, query: string): string {
  return createHash('sha256').update(token).update(query).digest('base64url').slice(0, 12);
}

function cursorOf(token: Uint8Array, query: string): string {
  return `${Buffer.from(token).toString('base64url')}.${cursorCheck(token, query)}`;
}

function pageTokenOf(cursor: string, query: string): Buffer {
  const [encoded = '', check] = cursor.split('.');
  const token = Buffer.from(encoded, 'base64url');
  if (check !== cursorCheck(token, query)) throw new RequestInvalidError('cursor: is not a cursor this API gave for these filters');
  return token;
}

/** A string literal for a visibility query; the filters are enums already, this keeps any value inert. */
function visibilityLiteral(value: string): string {
  return `'${value.replace(/[\\']/g, (char) => `\\${char}`)}'`;
}

function isJobState(value: unknown): value is JobState {
  return typeof value === 'object' && value !== null && 'status' in value && 'jobId' in value;
}

/** The REST gateway's side of Temporal: submit, read and cancel one tenant's jobs. */
export class Jobs {
  private readonly finished: FinishedJobCache;

  constructor(
    private readonly deps: JobsDeps,
    readonly tenant: string = defaultTenant,
  ) {
    this.finished = deps.finished ?? new FinishedJobCache();
  }

  private workflowId(jobId: string): string {
    return workflowIdOf(this.tenant, jobId);
  }

  jobUrl(jobId: string): string {
    return `/api/v1/jobs/${encodeURIComponent(jobId)}`;
  }

  toJson(state: JobState): Job {
    return {
      jobId: state.jobId,
      type: state.type,
      priority: state.priority,
      status: state.status,
      attempt: state.attempt,
      maxAttempts: state.maxAttempts,
      progress: state.progress,
      input: state.input,
      result: state.result,
      error: state.error,
      lastError: state.lastError,
      createdAt: state.createdAt,
      startedAt: state.startedAt,
      finishedAt: state.finishedAt,
      links: {
        self: this.jobUrl(state.jobId),
        ui: `${this.deps.uiUrl}/namespaces/${encodeURIComponent(this.deps.namespace)}/workflows/${encodeURIComponent(this.workflowId(state.jobId))}`,
      },
    };
  }

  /** Validates a submit body against its job type and applies the type's defaults. */
  async resolve(body: SubmitJobBody): Promise<JobRequest> {
    const jobType: JobType | undefined = findJobType(body.type);
    if (!jobType) throw new RequestInvalidError(`type: unknown job type "${body.type}"`, [{ path: 'type', message: 'unknown job type' }]);
    if (Buffer.byteLength(JSON.stringify(body.input ?? {})) > maxInputBytes) throw new PayloadTooLargeError(maxInputBytes, 'input');
    const input = jobType.inputSchema.safeParse(body.input ?? {});
    if (!input.success) throw RequestInvalidError.fromZod(input.error, ['input']);
    const problem = await jobType.checkInput?.(input.data, this.deps.jobTypeSettings);
    if (problem) throw new RequestInvalidError(`input: ${problem}`, [{ path: 'input', message: problem }]);
    const retry = { ...jobType.defaults.retry, ...body.retry };
    if (retry.maximumIntervalSeconds < retry.initialIntervalSeconds) {
      throw new RequestInvalidError('retry.maximumIntervalSeconds: must be ≥ retry.initialIntervalSeconds');
    }
    return {
      jobId: body.jobId ?? randomUUID(),
      tenant: this.tenant,
      type: jobType.name,
      priority: body.priority,
      input: input.data,
      timeoutSeconds: body.timeoutSeconds ?? jobType.defaults.timeoutSeconds,
      heartbeatTimeoutSeconds: body.heartbeatTimeoutSeconds ?? jobType.defaults.heartbeatTimeoutSeconds,
      retry,
      taskQueue: taskQueueFor(this.deps.taskQueuePrefix, body.priority),
      submittedAt: new Date().toISOString(),
    };
  }

  /**
   * Starts the job's workflow. The workflow id is the idempotency key: Temporal refuses a second start,
   * and the stored request hash tells a repeat of the same request (200) from a different one (409).
   */
  async submit(request: JobRequest): Promise<{ state: JobState; created: boolean }> {
    const hash = requestHash(request);
    try {
      await this.deps.client.workflow.start(jobWorkflow, {
        workflowId: this.workflowId(request.jobId),
        taskQueue: workflowTaskQueueFor(this.deps.taskQueuePrefix),
        args: [request],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        memo: { jobType: request.type, jobPriority: request.priority, jobTenant: this.tenant, requestHash: hash },
        typedSearchAttributes: [
          { key: JobTypeKey, value: request.type },
          { key: JobPriorityKey, value: request.priority },
          { key: JobStatusKey, value: 'queued' },
          { key: JobTenantKey, value: this.tenant },
        ],
        priority: priorityOf(request),
      });
      return { state: initialJobState(request), created: true };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const description = await this.describe(request.jobId);
      if (description.memo?.['requestHash'] !== hash) {
        throw new JobConflictError(request.jobId, `job "${request.jobId}" exists with a different request`);
      }
      return { state: await this.readState(description), created: false };
    }
  }

  async get(jobId: string): Promise<JobState> {
    return this.readState(await this.describe(jobId));
  }

  /** `get` under a deadline of its own, for callers that outlive the request's (waits, event streams). */
  getFresh(jobId: string): Promise<JobState> {
    return this.deps.client.connection.withDeadline(Date.now() + temporalDeadlineMs, () => this.get(jobId));
  }

  /** Waits up to `seconds` for the job to finish; its final state, or undefined if it is still going. */
  async waitForFinish(jobId: string, seconds: number): Promise<JobState | undefined> {
    if (seconds <= 0) return undefined;
    const handle = this.deps.client.workflow.getHandle(this.workflowId(jobId));
    try {
      await this.deps.client.connection.withDeadline(Date.now() + seconds * 1000, () => handle.result());
    } catch (err) {
      if (!(err instanceof WorkflowFailedError) && isTemporalUnreachable(err)) return undefined;
    }
    return this.getFresh(jobId);
  }

  /** Asks the job to stop; a running attempt hears of it on its next heartbeat. */
  async cancel(jobId: string): Promise<JobState> {
    const description = await this.describe(jobId);
    if (description.status.name !== 'RUNNING') {
      const state = await this.readState(description);
      throw new JobConflictError(jobId, `job "${jobId}" already finished (${state.status})`);
    }
    await this.deps.client.workflow.getHandle(description.workflowId, description.runId).cancel();
    // A queued job is cancelled at once: give it a moment so the answer already says so.
    return (await this.waitForFinish(jobId, 1)) ?? this.get(jobId);
  }

  /**
   * Jobs in Temporal's visibility order: unfinished jobs newest first, then finished ones by finish time,
   * newest first (SQL visibility stores cannot sort otherwise).
   */
  async list(filter: JobListFilter): Promise<{ states: JobState[]; nextCursor: string | null }> {
    const clauses = [`WorkflowType = 'jobWorkflow'`, `${JobTenantKey.name} = ${visibilityLiteral(this.tenant)}`];
    if (filter.status) clauses.push(`${JobStatusKey.name} = ${visibilityLiteral(filter.status)}`);
    if (filter.type) clauses.push(`${JobTypeKey.name} = ${visibilityLiteral(filter.type)}`);
    if (filter.priority) clauses.push(`${JobPriorityKey.name} = ${visibilityLiteral(filter.priority)}`);
    const query = clauses.join(' AND ');
    const page = await this.deps.client.workflowService.listWorkflowExecutions({
      namespace: this.deps.namespace,
      query,
      pageSize: filter.limit,
      nextPageToken: filter.cursor ? pageTokenOf(filter.cursor, query) : null,
    });
    const infos = await Promise.all(
      page.executions.map((raw) => executionInfoFromRaw(raw, this.deps.client.options.loadedDataConverter, raw, this.deps.namespace)),
    );
    const states = await Promise.all(
      infos.map((info) => (info.status.name === 'RUNNING' ? this.readState(this.describeRun(info)) : this.readFinished(info))),
    );
    const token = page.nextPageToken;
    return { states, nextCursor: token && token.length > 0 ? cursorOf(token, query) : null };
  }

  private async describeRun(info: ExecutionInfo): Promise<WorkflowExecutionDescription> {
    return this.deps.client.workflow.getHandle(info.workflowId, info.runId).describe();
  }

  private async describe(jobId: string): Promise<WorkflowExecutionDescription> {
    try {
      const description = await this.deps.client.workflow.getHandle(this.workflowId(jobId)).describe();
      // The id mapping already separates tenants; this guards against a workflow started by other means.
      if (description.typedSearchAttributes.get(JobTenantKey) !== this.tenant) throw new JobNotFoundError(jobId);
      return description;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new JobNotFoundError(jobId);
      throw err;
    }
  }

  private async readState(described: WorkflowExecutionDescription | Promise<WorkflowExecutionDescription>): Promise<JobState> {
    const description = await described;
    if (description.status.name !== 'RUNNING') return this.readFinished(description);
    return this.readRunning(this.deps.client.workflow.getHandle(description.workflowId, description.runId), description);
  }

  private async readFinished(info: ExecutionInfo): Promise<JobState> {
    const cached = this.finished.get(info.runId);
    if (cached) return cached;
    const state = await this.readClosed(info);
    this.finished.set(info.runId, state);
    return state;
  }

  private async readRunning(handle: WorkflowHandle, description: WorkflowExecutionDescription): Promise<JobState> {
    let state: JobState;
    try {
      state = await this.deps.client.connection.withDeadline(Date.now() + queryDeadlineMs, () => handle.query(jobStateQuery));
    } catch {
      // No worker answered in time: the history still has the request, the search attribute the status.
      state = await this.stateFromHistory(description);
    }
    if (state.status !== 'running') return state;
    return { ...state, progress: this.heartbeatProgress(description) ?? state.progress };
  }

  /** A finished job is read from its close event or memo, never from a query, so it needs no worker. */
  private async readClosed(description: ExecutionInfo): Promise<JobState> {
    const finalJob = description.memo?.['finalJob'];
    if (isJobState(finalJob)) return finalJob;
    try {
      const result: unknown = await this.deps.client.workflow.getHandle(description.workflowId, description.runId).result();
      if (isJobState(result)) return result;
    } catch (err) {
      const detail = err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure ? err.cause.details?.[0] : undefined;
      if (isJobState(detail)) return detail;
    }
    // Ended from outside the job's own logic (terminated, or a workflow timeout).
    const state = await this.stateFromHistory(description);
    const status = description.status.name === 'TIMED_OUT' ? 'timed_out' : description.status.name === 'CANCELLED' ? 'cancelled' : 'failed';
    return {
      ...state,
      status,
      error: { type: `Workflow${description.status.name[0]}${description.status.name.slice(1).toLowerCase()}`, message: `the job's workflow was ${description.status.name.toLowerCase()}` },
      finishedAt: description.closeTime?.toISOString() ?? null,
    };
  }

  private async stateFromHistory(description: ExecutionInfo): Promise<JobState> {
    const { history } = await this.deps.client.workflowService.getWorkflowExecutionHistory({
      namespace: this.deps.namespace,
      execution: { workflowId: description.workflowId, runId: description.runId },
      maximumPageSize: 1,
    });
    const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (!payload) throw new Error(`workflow ${description.workflowId} has no start event input`);
    const request = this.decode<JobRequest>(payload);
    const status = description.typedSearchAttributes.get(JobStatusKey);
    return { ...initialJobState(request), status: (status as JobState['status'] | undefined) ?? 'queued' };
  }

  private heartbeatProgress(description: WorkflowExecutionDescription): JobProgress | null | undefined {
    const payload = description.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
    return payload ? this.decode<HeartbeatDetails>(payload).progress : undefined;
  }

  private decode<T>(payload: Payload): T {
    return this.deps.client.options.loadedDataConverter.payloadConverter.fromPayload<T>(payload);
  }
}
