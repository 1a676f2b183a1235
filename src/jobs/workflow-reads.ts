// How a job's state is read from its workflow in Temporal, uncached: a describe, the workflow's query, the memo of a
// finished one. src/jobs/reads.ts decides which of these a read needs and remembers what they answered.
import { setTimeout as delay } from 'node:timers/promises';
import {
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { encodingTypes, METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { optionalTsToDate } from '@temporalio/common/lib/time.js';
import { decodeFromPayloadsAtIndex, decodeOptionalSingle } from '@temporalio/common/lib/internal-non-workflow/index.js';
import proto from '@temporalio/proto';
import type { JobError, JobProgress, JobState } from '../contract/job.js';
import { finalStateInMemo, isJobState } from '../workflows/final-state.js';
import {
  callbackWorkflowIdOf,
  initialJobState,
  runRequest,
  workflowIdOf,
  type JobRequest,
} from '../workflows/job-state.js';
import { jobStateQuery, type HeartbeatDetails } from '../workflows/messages.js';
import { JobStatusKey, JobTenantKey } from '../workflows/search-attributes.js';
import { isTemporalNotFound, JobNotFoundError } from './errors.js';
import { parseShown } from './shown-json.js';

// A CommonJS package whose exports Node's ESM loader cannot see by name (see src/api/queues.ts).
const { HistoryEventFilterType, PendingActivityState, QueryRejectCondition, WorkflowExecutionStatus } =
  proto.temporal.api.enums.v1;

type ProtoFailure = proto.temporal.api.failure.v1.IFailure;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

export type PendingActivity = NonNullable<WorkflowExecutionDescription['raw']['pendingActivities']>[number];

/**
 * The job's state with its pending attempt's start: a worker tells the workflow that an attempt started only once it
 * has run 250 ms (worker protocol, "Running an attempt"), so until then the workflow says `queued` while its attempt
 * runs, and a read says `running` from the attempt's start.
 */
export function withAttemptStarted(state: JobState, pending: PendingActivity | undefined): JobState {
  if (state.status !== 'queued' || pending?.state !== PendingActivityState.PENDING_ACTIVITY_STATE_STARTED) return state;
  return {
    ...state,
    status: 'running',
    attempt: state.attempt + 1,
    startedAt: state.startedAt ?? optionalTsToDate(pending.lastStartedTime)?.toISOString() ?? null,
  };
}

/** A long poll of a run's close event answered sooner than this did not wait: see `awaitFinalState`. */
const longPollAtOnceMs = 50;
/** The pauses before such a long poll is asked again: the first, doubled each time up to the longest. */
const firstPauseMs = 25;
const longestPauseMs = 200;

/** The kinds of call that read jobs from Temporal. */
export type TemporalRead = 'describe' | 'query' | 'history' | 'list' | 'count';

export interface WorkflowReadsDeps {
  readonly client: Client;
  readonly namespace: string;
  /** Counts each call that reads jobs' workflows from Temporal (ApiMetrics.temporalReads). */
  readonly temporalReads?: { inc(labels: { call: TemporalRead }): void };
}

/** The history of a run before anything but its first workflow task: see `unattemptedState`. */
const eventsBeforeAnything = 5;

/** How long a read waits for a running job's workflow to answer its query before falling back to history. */
const queryDeadlineMs = 3000;

/** The fields of a workflow execution that reading a finished job needs, as both describe and list give them. */
export type ExecutionInfo = Pick<
  WorkflowExecutionInfo,
  'workflowId' | 'runId' | 'status' | 'memo' | 'typedSearchAttributes' | 'startTime' | 'closeTime'
>;

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

const utf8 = new TextDecoder();

/** The details payload of the first application failure down a failure's cause chain, as `finalStateIn` reads it. */
function failureDetails(failure: ProtoFailure | null | undefined): Payload | undefined {
  for (let current = failure; current; current = current.cause) {
    if (current.applicationFailureInfo) return current.applicationFailureInfo.details?.payloads?.[0] ?? undefined;
  }
  return undefined;
}

export class WorkflowReads {
  constructor(private readonly deps: WorkflowReadsDeps) {}

  get client(): Client {
    return this.deps.client;
  }

  /** Runs one read of Temporal, counted. */
  counted<T>(call: TemporalRead, read: () => Promise<T>): Promise<T> {
    this.deps.temporalReads?.inc({ call });
    return read();
  }

  /** The job's workflow, described; JobNotFoundError when the tenant has no such job. */
  async describe(tenant: string, jobId: string): Promise<WorkflowExecutionDescription> {
    try {
      const description = await this.counted('describe', () =>
        this.deps.client.workflow.getHandle(workflowIdOf(tenant, jobId)).describe(),
      );
      // The id mapping already separates tenants; this guards against a workflow started by other means.
      if (description.typedSearchAttributes.get(JobTenantKey) !== tenant) throw new JobNotFoundError(jobId);
      return description;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new JobNotFoundError(jobId);
      throw err;
    }
  }

  exists(tenant: string, jobId: string): Promise<boolean> {
    return this.counted('describe', () =>
      this.deps.client.workflow.getHandle(workflowIdOf(tenant, jobId)).describe(),
    ).then(
      () => true,
      (err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      },
    );
  }

  /**
   * The state the job's workflow answers, or undefined when it cannot (closed, or no worker in time). The raw query,
   * so that a big answer (a half-megabyte input) is read without being parsed whole (`decodeShown`). Being raw, no client
   * interceptor sees it: a read's query has no span of its own in a trace.
   */
  queryState(workflowId: string, runId?: string): Promise<JobState | undefined> {
    const { client, namespace } = this.deps;
    return this.counted('query', () =>
      client.connection.withDeadline(Date.now() + queryDeadlineMs, () =>
        client.workflowService.queryWorkflow({
          namespace,
          execution: { workflowId, runId },
          query: { queryType: jobStateQuery.name },
          // As the client's own queries (src/temporal/connection.ts): a closed run's would cost a worker a replay.
          queryRejectCondition: QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_OPEN,
        }),
      ),
    )
      .then(async ({ queryResult, queryRejected }) => {
        const payload = queryResult?.payloads?.[0];
        if (queryRejected || !payload) return undefined;
        return this.decodeShown<JobState>(payload);
      })
      .catch(() => undefined);
  }

  /** A running job's state: the query's answer, or without one the history's request and the search attribute's status. */
  async runningState(
    description: WorkflowExecutionDescription,
    queried: Promise<JobState | undefined>,
  ): Promise<JobState> {
    return this.withPendingAttempt((await queried) ?? (await this.stateFromHistory(description)), description);
  }

  /** What only the pending attempt knows, which the workflow never sees: that it started, and its progress. */
  async withPendingAttempt(state: JobState, description: Pick<WorkflowExecutionDescription, 'raw'>): Promise<JobState> {
    const pending = description.raw.pendingActivities?.find((activity) => activity.activityType?.name === state.type);
    const seen = withAttemptStarted(state, pending);
    if (seen.status !== 'running' || !pending) return seen;
    return { ...seen, progress: (await this.heartbeatProgress(pending)) ?? seen.progress };
  }

  /**
   * The queried state of `basis` with the progress of now, if the job's workflow is still running the same run with
   * the same history; else undefined. Most reads of a running job end here, so it decodes the describe no further
   * than that needs (the client's full decoding of memo and search attributes costs as much again).
   */
  async readUnchanged(workflowId: string, basis: QueriedState): Promise<JobState | undefined> {
    const raw = await this.counted('describe', () =>
      this.deps.client.workflowService.describeWorkflowExecution({
        namespace: this.deps.namespace,
        execution: { workflowId },
      }),
    )
      // Gone (deleted, or past retention): the full read says so as the contract does.
      .catch((err: unknown) => {
        if (isTemporalNotFound(err)) return undefined;
        throw err;
      });
    const info = raw?.workflowExecutionInfo;
    const unchanged =
      info?.status === WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING &&
      info.execution?.runId === basis.runId &&
      info.historyLength?.toNumber() === basis.historyLength;
    return raw && unchanged ? this.withPendingAttempt(basis.state, { raw }) : undefined;
  }

  /**
   * The state of a run that has done nothing yet but its first workflow task: its history is the start, that task
   * (three events) and the first attempt's activity, a delay's timer or a first child scheduled, and no signal,
   * cancel request or attempt's end. Its query would answer its request's initial state, so that is read instead,
   * from the history's first event, and no worker replays the workflow (a backlog's queued jobs are mostly not in any
   * worker's cache). Undefined for any other run, and for a scheduled run, whose workflow names its job itself.
   */
  async unattemptedState(description: WorkflowExecutionDescription): Promise<JobState | undefined> {
    if (description.historyLength > eventsBeforeAnything) return undefined;
    const request = await this.shownRequestOf(description);
    if (request.scheduled) return undefined;
    return { ...initialJobState(request), status: 'queued' };
  }

  /**
   * A finished job's state: the memo's, which every ending writes from workflow v3 on, so a describe (or a list
   * row) is the whole read and no worker is asked. The fallback reads the close event.
   */
  async closedState(info: ExecutionInfo): Promise<JobState> {
    return finalStateInMemo(info.memo) ?? this.closedStateFromHistory(info);
  }

  /**
   * The fallback for a run closed before v3 (its memo has the final state only when it was cancelled), or whose final
   * state was too big for the memo: the state in the result or failure of its close event; for an ending from outside
   * the job's own logic (terminated, a workflow timeout), its request and status.
   */
  private async closedStateFromHistory(info: ExecutionInfo): Promise<JobState> {
    const final = await this.finalStateInCloseEvent(info);
    if (final) return final;
    const state = await this.stateFromHistory(info);
    const status =
      info.status.name === 'TIMED_OUT' ? 'timed_out' : info.status.name === 'CANCELLED' ? 'cancelled' : 'failed';
    return {
      ...state,
      status,
      error: {
        type: `Workflow${info.status.name[0]}${info.status.name.slice(1).toLowerCase()}`,
        message: `the job's workflow was ${info.status.name.toLowerCase()}`,
      },
      finishedAt: info.closeTime?.toISOString() ?? null,
    };
  }

  /**
   * The final state in the run's close event: the result of a succeeded run, or the details of the first application
   * failure down its failure's cause chain (failed, timed out, skipped, a child failed). Undefined for a cancel (no
   * details), an ending from outside the job's logic (terminated, a workflow timeout), or a run that is gone.
   * Read raw, not through the client's `result()`, so that a big state is read without being parsed whole.
   */
  private async finalStateInCloseEvent(
    info: Pick<ExecutionInfo, 'workflowId' | 'runId'>,
  ): Promise<JobState | undefined> {
    const close = await this.counted('history', () =>
      this.deps.client.workflowService.getWorkflowExecutionHistory({
        namespace: this.deps.namespace,
        execution: { workflowId: info.workflowId, runId: info.runId },
        historyEventFilterType: HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
      }),
    ).then(
      ({ history }) => history?.events?.[0],
      // Gone (deleted, or past retention): read as a run without one. Any other failure is the read's.
      (err: unknown) => {
        if (isTemporalNotFound(err)) return undefined;
        throw err;
      },
    );
    return this.finalStateOf(close);
  }

  /**
   * Waits until `deadline` (ms since the epoch) for the close event of the workflow's run (the latest when the wait
   * begins) and answers its final state, as `finalStateInCloseEvent` reads it: read raw, not through the client's
   * `result()`, which decodes a big state whole. Undefined for a cancel or an ending from outside the job's logic.
   * Throws what the long poll throws (the deadline, a job that is not found, Temporal away).
   *
   * Temporal answers a long poll at once, with no event, when less than about a second of the call's deadline is left:
   * asked again at once, the last second of every wait that ran out (and the whole of a cancel's moment) was hundreds
   * of reads. A long poll answered that soon is asked again after a pause, doubled each time up to `longestPauseMs`.
   */
  async awaitFinalState(workflowId: string, deadline: number): Promise<JobState | undefined> {
    let nextPageToken: Uint8Array | undefined;
    let pauseMs = 0;
    for (;;) {
      const asked = performance.now();
      const { history, nextPageToken: next } = await this.counted('history', () =>
        this.deps.client.workflowService.getWorkflowExecutionHistory({
          namespace: this.deps.namespace,
          execution: { workflowId },
          waitNewEvent: true,
          skipArchival: true,
          historyEventFilterType: HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
          ...(nextPageToken ? { nextPageToken } : {}),
        }),
      );
      const close = history?.events?.[0];
      if (close) return this.finalStateOf(close);
      // The long poll ran out with the run still open: asked again from where it left off.
      nextPageToken = next ?? undefined;
      const answeredAtOnce = performance.now() - asked < longPollAtOnceMs;
      pauseMs = answeredAtOnce ? Math.min(Math.max(pauseMs * 2, firstPauseMs), longestPauseMs) : 0;
      // Past the deadline the next call fails at once with it, as the wait's end.
      if (pauseMs > 0) await delay(Math.max(0, Math.min(pauseMs, deadline - Date.now())));
    }
  }

  private async finalStateOf(close: HistoryEvent | null | undefined): Promise<JobState | undefined> {
    const payload =
      close?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0] ??
      failureDetails(close?.workflowExecutionFailedEventAttributes?.failure);
    if (!payload) return undefined;
    const final: unknown = await this.decodeShown(payload).catch(() => undefined);
    return isJobState(final) ? final : undefined;
  }

  /** A finished job's callback is delivered by a workflow of its own: its state says how delivery goes. */
  async withCallback(state: JobState, jobWorkflowId: string): Promise<JobState> {
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

  /** The request a job's run started with, from its first history event. */
  async requestOf(info: Pick<ExecutionInfo, 'workflowId' | 'runId'>): Promise<JobRequest> {
    return this.decode<JobRequest>(await this.startPayloadOf(info));
  }

  /** The request a job's run started with, to be shown (`decodeShown`): a big input held as its redacted text. */
  private async shownRequestOf(info: Pick<ExecutionInfo, 'workflowId' | 'runId'>): Promise<JobRequest> {
    return this.decodeShown<JobRequest>(await this.startPayloadOf(info));
  }

  private async startPayloadOf(info: Pick<ExecutionInfo, 'workflowId' | 'runId'>): Promise<Payload> {
    const { history } = await this.counted('history', () =>
      this.deps.client.workflowService.getWorkflowExecutionHistory({
        namespace: this.deps.namespace,
        execution: { workflowId: info.workflowId, runId: info.runId },
        maximumPageSize: 1,
      }),
    );
    const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (!payload) throw new Error(`workflow ${info.workflowId} has no start event input`);
    return payload;
  }

  private async stateFromHistory(info: ExecutionInfo): Promise<JobState> {
    const request = runRequest(await this.shownRequestOf(info), info);
    const status = info.typedSearchAttributes.get(JobStatusKey);
    return { ...initialJobState(request), status: (status as JobState['status'] | undefined) ?? 'queued' };
  }

  private async heartbeatProgress(pending: PendingActivity): Promise<JobProgress | null | undefined> {
    const payload = pending.heartbeatDetails?.payloads?.[0];
    return payload ? (await this.decode<HeartbeatDetails>(payload)).progress : undefined;
  }

  /** A payload of a raw answer, decoded as the client decodes its own: through its codecs (decryption), then its converter. */
  private decode<T>(payload: Payload): Promise<T> {
    return decodeFromPayloadsAtIndex<T>(this.deps.client.options.loadedDataConverter, 0, [payload]);
  }

  /**
   * A payload to be shown in answers (a state, or a request to show as one): as `decode`, but JSON is read by
   * `parseShown`, a big `input` (redacted) and `result` held as JsonText.
   */
  private async decodeShown<T>(payload: Payload): Promise<T> {
    const converter = this.deps.client.options.loadedDataConverter;
    const decoded = await decodeOptionalSingle(converter.payloadCodecs, payload);
    const data = decoded?.data;
    const encoding = decoded?.metadata?.[METADATA_ENCODING_KEY];
    const isJson = encoding !== undefined && utf8.decode(encoding) === encodingTypes.METADATA_ENCODING_JSON;
    if (!decoded || !data || !isJson) return converter.payloadConverter.fromPayload<T>(decoded ?? payload);
    return parseShown(data) as T;
  }
}
