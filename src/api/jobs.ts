import { createHash, randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
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
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import proto from '@temporalio/proto';
import type {
  ChildJobBody,
  Job,
  JobError,
  JobPriority,
  JobProgress,
  JobState,
  JobStatus,
  SubmitJobBody,
} from '../contract/job.js';
import { jobPath, redactedInput, toJobJson } from '../contract/job-json.js';
import type { JobType, JobTypeSettings } from '../activities/job-type.js';
import { callbackUrlRefusal } from '../activities/callback-target.js';
import { findJobType } from '../activities/registry.js';
import { jobWorkflow } from '../workflows/index.js';
import {
  callbackWorkflowIdOf,
  initialJobState,
  isFinished,
  workflowIdOf,
  type JobRequest,
} from '../workflows/job-state.js';
import { jobStateQuery, type HeartbeatDetails } from '../workflows/messages.js';
import {
  jobStartMetadata,
  JobPriorityKey,
  JobStatusKey,
  JobTenantKey,
  JobTypeKey,
  visibilityLiteral,
} from '../workflows/search-attributes.js';
import { taskQueueFor, workflowTaskQueueFor } from '../workflows/task-queues.js';
import { FinishedJobCache } from './finished-jobs.js';
import { PolledJobReads, type JobRead } from './polled-jobs.js';
import {
  JobConflictError,
  JobNotFoundError,
  PayloadTooLargeError,
  RequestInvalidError,
  isTemporalNotFound,
  isTemporalUnreachable,
} from './errors.js';

// A CommonJS package whose exports Node's ESM loader cannot see by name (see queues.ts).
const { WorkflowExecutionStatus } = proto.temporal.api.enums.v1;

export interface JobsDeps {
  readonly client: Client;
  /** Share one across the per-tenant views: final states never change, whoever reads them. */
  readonly finished?: FinishedJobCache;
  /** Share one across the per-tenant views too: the latest reads of polled jobs. */
  readonly polled?: PolledJobReads<QueriedState>;
  readonly namespace: string;
  readonly taskQueuePrefix: string;
  readonly uiUrl: string;
  readonly jobTypeSettings: JobTypeSettings;
  /** Whether callbacks can be signed (CALLBACK_SECRET is set), and the host:ports reachable over http or on non-public addresses; off when absent. */
  readonly callbacks?: { readonly enabled: boolean; readonly allowHosts: readonly string[] };
  /** Counts each call that reads jobs' workflows from Temporal (ApiMetrics.temporalReads). */
  readonly temporalReads?: { inc(labels: { call: TemporalRead }): void };
}

/** The kinds of call that read jobs from Temporal. */
export type TemporalRead = 'describe' | 'query' | 'history' | 'list';

/**
 * A job's input travels in its workflow's history and in every poll: well under Temporal's 2 MB payload
 * limit, and refused here before Temporal sees it.
 */
export const maxInputBytes = 512 * 1024;

/** A runAt this far in the past still counts as "now": clocks differ. */
export const runAtSkewMs = 60_000;
const maxDelayMs = 366 * 24 * 60 * 60 * 1000;

/** When a delayed job may first run: from delaySeconds or runAt, nothing for an immediate job. */
function runAtOf(body: ChildJobBody): { runAt?: string } {
  if (body.delaySeconds !== undefined && body.runAt !== undefined)
    throw new RequestInvalidError('give delaySeconds or runAt, not both');
  const now = Date.now();
  if (body.delaySeconds) return { runAt: new Date(now + body.delaySeconds * 1000).toISOString() };
  if (body.runAt === undefined) return {};
  const at = Date.parse(body.runAt);
  if (at < now - runAtSkewMs) throw new RequestInvalidError('runAt: is in the past');
  if (at > now + maxDelayMs) throw new RequestInvalidError('runAt: is more than a year ahead');
  return at > now ? { runAt: new Date(at).toISOString() } : {};
}

/** Every read of Temporal gets this long before it counts as an outage (503). */
export const temporalDeadlineMs = 5000;

/** How long a poll waits for a running job's workflow to answer its query before falling back to history. */
const queryDeadlineMs = 3000;

export { defaultTenant, workflowIdOf } from '../workflows/job-state.js';

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * Two submits are the same request when everything but the submission times (and the run) match. A command's
 * env values are left out, as the job JSON leaves them out: a 200 or 409 would otherwise tell a caller
 * guessing them whether its guess was right.
 */
function requestHash(request: JobRequest): string {
  const { submittedAt: _submittedAt, run: _run, children, input, ...identity } = request;
  const childHashes = children?.map((child) => child.requestHash);
  return createHash('sha256')
    .update(canonicalJson({ ...identity, input: redactedInput(request.type, input), children: childHashes }))
    .digest('hex');
}

/** The fields of a workflow execution that reading a finished job needs, as both describe and list give them. */
type ExecutionInfo = Pick<
  WorkflowExecutionInfo,
  'workflowId' | 'runId' | 'status' | 'memo' | 'typedSearchAttributes' | 'closeTime'
>;

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
  if (check !== cursorCheck(token, query))
    throw new RequestInvalidError('cursor: is not a cursor this API gave for these filters');
  return token;
}

/**
 * What a read of a running job learnt from its workflow's query, with the run and the length of the history the
 * query answered for. A workflow's state changes only with events in its history: while its run and history
 * length stay the same, its query would answer the same, and the next read needs only the describe (whose
 * heartbeat details carry the progress).
 */
export interface QueriedState {
  readonly runId: string;
  readonly historyLength: number;
  readonly state: JobState;
}

function isJobState(value: unknown): value is JobState {
  return typeof value === 'object' && value !== null && 'status' in value && 'jobId' in value;
}

/** The REST gateway's side of Temporal: submit, read and cancel one tenant's jobs. */
export class Jobs {
  private readonly finished: FinishedJobCache;
  private readonly polled: PolledJobReads<QueriedState>;

  constructor(
    private readonly deps: JobsDeps,
    readonly tenant: string,
  ) {
    this.finished = deps.finished ?? new FinishedJobCache();
    this.polled = deps.polled ?? new PolledJobReads();
  }

  private workflowId(jobId: string): string {
    return workflowIdOf(this.tenant, jobId);
  }

  /** Runs one read of Temporal, counted. */
  private counted<T>(call: TemporalRead, read: () => Promise<T>): Promise<T> {
    this.deps.temporalReads?.inc({ call });
    return read();
  }

  jobUrl(jobId: string): string {
    return jobPath(jobId);
  }

  toJson(state: JobState): Job {
    return toJobJson(state, this.workflowId(state.jobId), { uiUrl: this.deps.uiUrl, namespace: this.deps.namespace });
  }

  /** Validates a submit body (with its children) against the job types and applies their defaults. */
  async resolve(body: SubmitJobBody): Promise<JobRequest> {
    const request = await this.resolveOne(body);
    if (!body.children) return request;
    const children = await Promise.all(
      body.children.map(async (childBody, index) => {
        const child = await this.resolveOne({
          ...childBody,
          jobId: childBody.jobId ?? `${request.jobId}.${index}`,
        }).catch((err: unknown) => {
          if (err instanceof RequestInvalidError)
            throw new RequestInvalidError(`children.${index}.${err.message}`, err.details);
          throw err;
        });
        return { request: child, requestHash: requestHash(child) };
      }),
    );
    const ids = children.map(({ request: child }) => child.jobId);
    if (new Set(ids).size !== ids.length || ids.includes(request.jobId))
      throw new RequestInvalidError('children: job ids must differ from each other and from the parent');
    return { ...request, children, onChildFailure: body.onChildFailure ?? 'fail' };
  }

  /**
   * Refuses a parent whose child ids are taken, before anything starts (a child started in the meantime
   * still cannot run twice: its workflow id is refused, and the parent records it as failed).
   */
  async checkChildrenFree(request: JobRequest): Promise<void> {
    if (!request.children) return;
    // A repeat of an existing parent is the submit's to answer (200 or 409), whatever its children.
    if (await this.exists(request.jobId)) return;
    for (const { request: child } of request.children) {
      if (await this.exists(child.jobId))
        throw new JobConflictError(child.jobId, `child job "${child.jobId}" already exists`);
    }
  }

  private exists(jobId: string): Promise<boolean> {
    return this.counted('describe', () => this.deps.client.workflow.getHandle(this.workflowId(jobId)).describe()).then(
      () => true,
      (err: unknown) => (err instanceof WorkflowNotFoundError ? false : Promise.reject(err)),
    );
  }

  /** Validates one job's body against its job type and applies the type's defaults. */
  async resolveOne(body: ChildJobBody): Promise<JobRequest> {
    const jobType: JobType | undefined = findJobType(body.type);
    if (!jobType)
      throw new RequestInvalidError(`type: unknown job type "${body.type}"`, [
        { path: 'type', message: 'unknown job type' },
      ]);
    if (Buffer.byteLength(JSON.stringify(body.input ?? {})) > maxInputBytes)
      throw new PayloadTooLargeError(maxInputBytes, 'input');
    const input = jobType.inputSchema.safeParse(body.input ?? {});
    if (!input.success) throw RequestInvalidError.fromZod(input.error, ['input']);
    const check = (await jobType.checkInput?.(input.data, this.deps.jobTypeSettings)) ?? { defaults: {} };
    if ('problem' in check)
      throw new RequestInvalidError(`input: ${check.problem}`, [{ path: 'input', message: check.problem }]);
    const { timeoutSeconds: inputTimeoutSeconds, maxAttempts: inputMaxAttempts } = check.defaults;
    const retry = {
      ...jobType.defaults.retry,
      ...(inputMaxAttempts ? { maxAttempts: inputMaxAttempts } : {}),
      ...body.retry,
    };
    if (body.callbackUrl) this.checkCallbackUrl(body.callbackUrl);
    if (retry.maximumIntervalSeconds < retry.initialIntervalSeconds) {
      throw new RequestInvalidError('retry.maximumIntervalSeconds: must be ≥ retry.initialIntervalSeconds');
    }
    return {
      jobId: body.jobId ?? randomUUID(),
      tenant: this.tenant,
      type: jobType.name,
      priority: body.priority,
      input: input.data,
      timeoutSeconds: body.timeoutSeconds ?? inputTimeoutSeconds ?? jobType.defaults.timeoutSeconds,
      heartbeatTimeoutSeconds: body.heartbeatTimeoutSeconds ?? jobType.defaults.heartbeatTimeoutSeconds,
      retry,
      taskQueue: taskQueueFor(this.deps.taskQueuePrefix, body.priority),
      submittedAt: new Date().toISOString(),
      ...(body.callbackUrl ? { callbackUrl: body.callbackUrl } : {}),
      ...runAtOf(body),
    };
  }

  private checkCallbackUrl(url: string): void {
    if (!this.deps.callbacks?.enabled)
      throw new RequestInvalidError(
        'callbackUrl: callbacks are not enabled on this service (CALLBACK_SECRET is not set)',
      );
    const refusal = callbackUrlRefusal(new URL(url), this.deps.callbacks.allowHosts);
    if (refusal) throw new RequestInvalidError(`callbackUrl: ${refusal}`, [{ path: 'callbackUrl', message: refusal }]);
  }

  /**
   * Starts the job's workflow. The workflow id is the idempotency key: Temporal refuses a second start,
   * and the stored request hash tells a repeat of the same request (200) from a different one (409).
   */
  async submit(request: JobRequest): Promise<{ state: JobState; created: boolean }> {
    try {
      await this.deps.client.workflow.start(jobWorkflow, {
        ...this.startOptions(request),
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      const state = initialJobState(request);
      // A client's first poll usually follows its submit at once: it is answered with this, and reads.
      this.polled.record(this.workflowId(request.jobId), state);
      return { state, created: true };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const description = await this.describe(request.jobId);
      if (description.memo?.['requestHash'] !== requestHash(request)) {
        throw new JobConflictError(request.jobId, `job "${request.jobId}" exists with a different request`);
      }
      return { state: await this.readState(description), created: false };
    }
  }

  /** How a job's workflow starts: its id, queue, input, memo, search attributes and Temporal priority. */
  startOptions(request: JobRequest) {
    return {
      workflowId: this.workflowId(request.jobId),
      taskQueue: workflowTaskQueueFor(this.deps.taskQueuePrefix),
      args: [request] as [JobRequest],
      ...jobStartMetadata(request, requestHash(request)),
    };
  }

  /**
   * Runs a failed, timed-out or cancelled job again: a new run of the same workflow id with the same
   * request. Temporal's ALLOW_DUPLICATE_FAILED_ONLY admits exactly those ends (a succeeded job's
   * workflow completed), and refuses a second concurrent retry.
   */
  async retry(jobId: string): Promise<JobState> {
    const description = await this.describe(jobId);
    const current = await this.readState(description);
    if (!['failed', 'timed_out', 'cancelled'].includes(current.status)) {
      throw new JobConflictError(
        jobId,
        `job "${jobId}" is ${current.status}; only failed, timed_out or cancelled jobs can be retried`,
      );
    }
    const previous = await this.requestOf(description);
    const request: JobRequest = { ...previous, run: (previous.run ?? 1) + 1, submittedAt: new Date().toISOString() };
    try {
      await this.deps.client.workflow.start(jobWorkflow, {
        ...this.startOptions(request),
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      });
      this.finished.forget(this.workflowId(jobId));
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        throw new JobConflictError(jobId, `job "${jobId}" is already running again`);
      throw err;
    }
    const state = initialJobState(request);
    this.polled.record(this.workflowId(jobId), state);
    return state;
  }

  /** The job's state as Temporal has it now; later polls through this process may be answered with it. */
  async get(jobId: string): Promise<JobState> {
    const { state } = await this.read(jobId, undefined);
    this.polled.record(this.workflowId(jobId), state);
    return state;
  }

  /** `latest`: this process's latest read of the job, which a poll is answered with while this one runs. */
  private async read(jobId: string, latest: JobRead<QueriedState> | undefined): Promise<JobRead<QueriedState>> {
    const workflowId = this.workflowId(jobId);
    const recent = this.finished.latest(workflowId);
    if (recent) return { state: await this.withCallback(recent, workflowId) };
    if (!latest) {
      // Someone waits for this read, and it is most often of a running job: its query goes out beside the
      // describe, not after it. The client asks Temporal to reject queries of closed workflows, so a finished
      // job's costs no worker a replay.
      const queried = this.queryState(this.deps.client.workflow.getHandle(workflowId));
      return { state: await this.readState(await this.describe(jobId), queried) };
    }
    // Nobody waits: the describe first, then the query only if the workflow's history has grown since the last.
    const unchanged = latest.basis && (await this.readUnchanged(workflowId, latest.basis));
    if (unchanged) return unchanged;
    const description = await this.describe(jobId);
    if (description.status.name !== 'RUNNING') return { state: await this.readState(description) };
    // Sent after the describe, the query answers for at least the history the describe counted.
    const queried = await this.queryState(this.deps.client.workflow.getHandle(workflowId, description.runId));
    if (!queried) return { state: await this.readRunning(description, Promise.resolve(undefined)) };
    return {
      state: await this.withHeartbeatProgress(queried, description),
      basis: { runId: description.runId, historyLength: description.historyLength, state: queried },
    };
  }

  /**
   * A client's poll (`GET /jobs/:id`): like `get`, but it may be answered with this process's read of the job
   * from under a second ago while the next read runs (see PolledJobReads).
   */
  async poll(jobId: string): Promise<JobState> {
    const workflowId = this.workflowId(jobId);
    const recent = this.finished.latest(workflowId);
    if (recent) return this.withCallback(recent, workflowId);
    return this.polled.poll(workflowId, (latest) => this.read(jobId, latest));
  }

  /** `get` under a deadline of its own, for callers that outlive the request's (waits, event streams). */
  getFresh(jobId: string): Promise<JobState> {
    return this.deps.client.connection.withDeadline(Date.now() + temporalDeadlineMs, () => this.get(jobId));
  }

  /**
   * Waits up to `seconds` for the job to finish, or until `stop` aborts (the server shuts down): the job's state
   * then, finished or not (a fresh read once the wait runs out); undefined without a wait, or when Temporal is away.
   */
  async waitForFinish(jobId: string, seconds: number, stop?: AbortSignal): Promise<JobState | undefined> {
    if (seconds <= 0) return undefined;
    const workflowId = this.workflowId(jobId);
    const { connection } = this.deps.client;
    const deadline = Date.now() + seconds * 1000;
    const result = (): Promise<unknown> =>
      connection.withDeadline(deadline, () =>
        this.counted('history', () => this.deps.client.workflow.getHandle(workflowId).result()),
      );
    // A signal of this wait's own: the SDK never removes the listener it adds to a call's signal, so the
    // server's long-lived one would keep one per wait for good. This one gets one per history long poll of
    // the wait (a busy job's can pass ten) and goes with the wait.
    const ended = new AbortController();
    setMaxListeners(0, ended.signal);
    const onStop = (): void => ended.abort();
    if (stop?.aborted) ended.abort();
    stop?.addEventListener('abort', onStop, { once: true });
    let outcome: unknown;
    try {
      outcome = await connection.withAbortSignal(ended.signal, result);
    } catch (err) {
      if (err instanceof WorkflowFailedError)
        outcome = err.cause instanceof ApplicationFailure ? err.cause.details?.[0] : undefined;
      // The wait running out is a deadline too; before it, one means Temporal is away.
      else if (isTemporalUnreachable(err) && Date.now() < deadline && !ended.signal.aborted) return undefined;
    } finally {
      stop?.removeEventListener('abort', onStop);
    }
    // The close event already carries the final state of a succeeded, failed or timed-out job.
    if (isJobState(outcome) && isFinished(outcome.status)) {
      const state = await this.deps.client.connection.withDeadline(Date.now() + temporalDeadlineMs, () =>
        this.withCallback(outcome, workflowId),
      );
      this.polled.record(workflowId, state);
      return state;
    }
    // Still going, cancelled or ended from outside, or the wait was cut short: the job as it is now.
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
    const page = await this.counted('list', () =>
      this.deps.client.workflowService.listWorkflowExecutions({
        namespace: this.deps.namespace,
        query,
        pageSize: filter.limit,
        nextPageToken: filter.cursor ? pageTokenOf(filter.cursor, query) : null,
      }),
    );
    const infos = await Promise.all(
      page.executions.map((raw) =>
        executionInfoFromRaw(raw, this.deps.client.options.loadedDataConverter, raw, this.deps.namespace),
      ),
    );
    const states = await Promise.all(
      infos.map(async (info) =>
        info.status.name === 'RUNNING'
          ? this.readState(this.describeRun(info))
          : this.withCallback(await this.readFinished(info), info.workflowId),
      ),
    );
    const token = page.nextPageToken;
    return { states, nextCursor: token && token.length > 0 ? cursorOf(token, query) : null };
  }

  private async describeRun(info: ExecutionInfo): Promise<WorkflowExecutionDescription> {
    return this.counted('describe', () => this.deps.client.workflow.getHandle(info.workflowId, info.runId).describe());
  }

  private async describe(jobId: string): Promise<WorkflowExecutionDescription> {
    try {
      const description = await this.counted('describe', () =>
        this.deps.client.workflow.getHandle(this.workflowId(jobId)).describe(),
      );
      // The id mapping already separates tenants; this guards against a workflow started by other means.
      if (description.typedSearchAttributes.get(JobTenantKey) !== this.tenant) throw new JobNotFoundError(jobId);
      return description;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new JobNotFoundError(jobId);
      throw err;
    }
  }

  /** `queried`: the job's state as its workflow answered a query already sent, if one was. */
  private async readState(
    described: WorkflowExecutionDescription | Promise<WorkflowExecutionDescription>,
    queried?: Promise<JobState | undefined>,
  ): Promise<JobState> {
    const description = await described;
    if (description.status.name !== 'RUNNING')
      return this.withCallback(await this.readFinished(description), description.workflowId);
    return this.readRunning(
      description,
      queried ?? this.queryState(this.deps.client.workflow.getHandle(description.workflowId, description.runId)),
    );
  }

  /** A finished job's callback is delivered by a workflow of its own: its state says how delivery goes. */
  private async withCallback(state: JobState, jobWorkflowId: string): Promise<JobState> {
    if (!state.callback) return state;
    try {
      const delivery = await this.counted('describe', () =>
        this.deps.client.workflow.getHandle(callbackWorkflowIdOf(jobWorkflowId)).describe(),
      );
      const attempts = Number(delivery.memo?.['callbackAttempts'] ?? 0);
      const status =
        delivery.status.name === 'RUNNING' ? 'pending' : delivery.status.name === 'COMPLETED' ? 'delivered' : 'failed';
      const lastError = (delivery.memo?.['callbackLastError'] as JobError | undefined) ?? null;
      return { ...state, callback: { status, attempts, lastError } };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return state;
      throw err;
    }
  }

  private async readFinished(info: ExecutionInfo): Promise<JobState> {
    const cached = this.finished.get(info.runId);
    if (cached) return cached;
    const state = await this.readClosed(info);
    this.finished.set(info.runId, info.workflowId, state);
    return state;
  }

  /** The state the job's workflow answers, or undefined when it cannot (closed, or no worker in time). */
  private queryState(handle: WorkflowHandle): Promise<JobState | undefined> {
    return this.counted('query', () =>
      this.deps.client.connection.withDeadline(Date.now() + queryDeadlineMs, () => handle.query(jobStateQuery)),
    ).catch(() => undefined);
  }

  private async readRunning(
    description: WorkflowExecutionDescription,
    queried: Promise<JobState | undefined>,
  ): Promise<JobState> {
    // Without an answer, the history still has the request, and the search attribute the status.
    return this.withHeartbeatProgress((await queried) ?? (await this.stateFromHistory(description)), description);
  }

  /** A running attempt's progress is in its last heartbeat, which the workflow never sees. */
  private async withHeartbeatProgress(
    state: JobState,
    description: Pick<WorkflowExecutionDescription, 'raw'>,
  ): Promise<JobState> {
    if (state.status !== 'running') return state;
    return { ...state, progress: (await this.heartbeatProgress(description.raw)) ?? state.progress };
  }

  /**
   * The queried state of `basis` with the progress of now, if the job's workflow is still running the same run with
   * the same history; else undefined. Most reads of a running job end here, so it decodes the describe no further
   * than that needs (the client's full decoding of memo and search attributes costs as much again).
   */
  private async readUnchanged(workflowId: string, basis: QueriedState): Promise<JobRead<QueriedState> | undefined> {
    const raw = await this.counted('describe', () =>
      this.deps.client.workflowService.describeWorkflowExecution({
        namespace: this.deps.namespace,
        execution: { workflowId },
      }),
    )
      // Gone (deleted, or past retention): the full read says so as the contract does.
      .catch((err: unknown) => (isTemporalNotFound(err) ? undefined : Promise.reject(err)));
    const info = raw?.workflowExecutionInfo;
    const unchanged =
      info?.status === WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING &&
      info.execution?.runId === basis.runId &&
      info.historyLength?.toNumber() === basis.historyLength;
    return raw && unchanged ? { state: await this.withHeartbeatProgress(basis.state, { raw }), basis } : undefined;
  }

  /** A finished job is read from its close event or memo, never from a query, so it needs no worker. */
  private async readClosed(description: ExecutionInfo): Promise<JobState> {
    const finalJob = description.memo?.['finalJob'];
    if (isJobState(finalJob)) return finalJob;
    try {
      const result: unknown = await this.counted('history', () =>
        this.deps.client.workflow.getHandle(description.workflowId, description.runId).result(),
      );
      if (isJobState(result)) return result;
    } catch (err) {
      const detail =
        err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure
          ? err.cause.details?.[0]
          : undefined;
      if (isJobState(detail)) return detail;
    }
    // Ended from outside the job's own logic (terminated, or a workflow timeout).
    const state = await this.stateFromHistory(description);
    const status =
      description.status.name === 'TIMED_OUT'
        ? 'timed_out'
        : description.status.name === 'CANCELLED'
          ? 'cancelled'
          : 'failed';
    return {
      ...state,
      status,
      error: {
        type: `Workflow${description.status.name[0]}${description.status.name.slice(1).toLowerCase()}`,
        message: `the job's workflow was ${description.status.name.toLowerCase()}`,
      },
      finishedAt: description.closeTime?.toISOString() ?? null,
    };
  }

  /** The request a job's run started with, from its first history event. */
  private async requestOf(description: ExecutionInfo): Promise<JobRequest> {
    const { history } = await this.counted('history', () =>
      this.deps.client.workflowService.getWorkflowExecutionHistory({
        namespace: this.deps.namespace,
        execution: { workflowId: description.workflowId, runId: description.runId },
        maximumPageSize: 1,
      }),
    );
    const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (!payload) throw new Error(`workflow ${description.workflowId} has no start event input`);
    return this.decode<JobRequest>(payload);
  }

  private async stateFromHistory(description: ExecutionInfo): Promise<JobState> {
    const request = await this.requestOf(description);
    const status = description.typedSearchAttributes.get(JobStatusKey);
    return { ...initialJobState(request), status: (status as JobState['status'] | undefined) ?? 'queued' };
  }

  private async heartbeatProgress(raw: WorkflowExecutionDescription['raw']): Promise<JobProgress | null | undefined> {
    const payload = raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
    return payload ? (await this.decode<HeartbeatDetails>(payload)).progress : undefined;
  }

  /** A payload of a raw answer, decoded as the client decodes its own: through its codecs (decryption), then its converter. */
  private decode<T>(payload: Payload): Promise<T> {
    return decodeFromPayloadsAtIndex<T>(this.deps.client.options.loadedDataConverter, 0, [payload]);
  }
}
