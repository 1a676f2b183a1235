// A job's logs, read from its latest run in Temporal (docs/worker-protocol.md, "Logs"): each attempt carries its kept
// lines in its completion, or as the last of its failure's or cancellation's details, or (timed out) in its last
// heartbeat, all in the run's history; the running attempt's are in its latest heartbeat details, which a describe
// gives. So every API replica reads the same, a restart loses nothing, and no store but Temporal is needed. What a
// run's history says is kept while the history does not grow (RunHistoryAnswers); the running attempt's lines are
// read from each describe.
import type { WorkflowExecutionDescription } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import type { temporal } from '@temporalio/proto';
import { AttemptLogs, attemptLogLimits } from '../contract/job-type-declaration.js';
import { defaultLogPageLines, type JobLogLine, type JobLogs, type JobLogsQuery } from '../contract/logs.js';
import { JobTypeKey } from '../workflows/search-attributes.js';
import { RequestInvalidError } from './errors.js';
import type { RunHistoryAnswers } from './read-cache.js';
import type { WorkflowReads } from './workflow-reads.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Failure = temporal.api.failure.v1.IFailure;

/** One attempt's kept lines as its run's history and heartbeat hold them; null when its worker sent none. */
export interface AttemptLogsRead {
  readonly attempt: number;
  readonly logs: AttemptLogs | null;
  readonly ended: boolean;
}

/** What a run's attempts logged, oldest attempt first, and the trace the run was started in. */
export interface RunLogs {
  readonly attempts: readonly AttemptLogsRead[];
  readonly traceId: string | null;
}

/**
 * The attempt's lines as the contract gives them, a marker line first where older lines were dropped (it takes
 * the seq of the last dropped line, so a reader past it never sees it twice). `traceId`: the trace the job's run was
 * started in, which every attempt's spans belong to.
 */
export function attemptLines(attempt: number, logs: AttemptLogs | null, traceId: string | null = null): JobLogLine[] {
  if (!logs) return [];
  // A worker may write its times with an offset; the contract's are UTC.
  const lines: JobLogLine[] = logs.lines.map((line) => ({
    ...line,
    time: new Date(line.time).toISOString(),
    attempt,
    traceId,
  }));
  if (logs.dropped > 0) {
    lines.unshift({
      attempt,
      seq: logs.dropped,
      time: logs.lines[0]?.time ?? new Date().toISOString(),
      level: 'warn',
      message: `… ${logs.dropped} earlier line${logs.dropped === 1 ? '' : 's'} dropped: an attempt keeps its last ${attemptLogLimits.lines} lines and ${attemptLogLimits.bytes / 1024} KiB`,
      traceId,
    });
  }
  return lines;
}

export class JobLogReads {
  constructor(
    private readonly workflows: WorkflowReads,
    /** What runs' histories say of their logs. */
    private readonly histories: RunHistoryAnswers<RunLogs>,
  ) {}

  /** A page of one attempt's lines (the latest attempt's by default); JobNotFoundError for an unknown job. */
  async page(tenant: string, jobId: string, query: JobLogsQuery): Promise<JobLogs> {
    const description = await this.workflows.describe(tenant, jobId);
    const run = await this.runLogs(description);
    const latest = run.attempts.at(-1)?.attempt ?? 0;
    const attempt = query.attempt ?? (latest || null);
    if (attempt !== null && attempt > latest && description.status.name !== 'RUNNING') {
      throw new RequestInvalidError(
        `attempt: job "${jobId}" ended after ${latest} attempt${latest === 1 ? '' : 's'}; ask for 1 to ${latest}, or leave attempt out for the latest`,
      );
    }
    const read = run.attempts.find((each) => each.attempt === attempt);
    const after = query.after ?? 0;
    const limit = query.limit ?? defaultLogPageLines;
    const newer = attemptLines(attempt ?? 1, read?.logs ?? null, run.traceId).filter((line) => line.seq > after);
    const lines = newer.slice(0, limit);
    return {
      jobId,
      attempt,
      attempts: latest,
      attemptEnded: read?.ended ?? description.status.name !== 'RUNNING',
      lines,
      nextAfter: lines.at(-1)?.seq ?? after,
      hasMore: newer.length > lines.length,
    };
  }

  /**
   * The running attempt's lines as of its latest heartbeat (one describe, no history): the event streams' tail.
   * `attempt` and `traceId` are the job state's: the running attempt, the run's trace.
   */
  async runningTail(tenant: string, jobId: string, attempt: number, traceId: string | null): Promise<JobLogLine[]> {
    const description = await this.workflows.describe(tenant, jobId);
    const details = this.pendingAttempt(description)?.heartbeatDetails?.payloads?.[0];
    return attemptLines(attempt, details ? await this.logsIn(details) : null, traceId);
  }

  /** The run's logs: its history's, and the running attempt's as of its latest heartbeat. */
  private async runLogs(description: WorkflowExecutionDescription): Promise<RunLogs> {
    const run = await this.histories.answer(description, () => this.fromHistory(description));
    const running = run.attempts.at(-1);
    const details = this.pendingAttempt(description)?.heartbeatDetails?.payloads?.[0];
    if (!running || running.ended || !details) return run;
    return { ...run, attempts: [...run.attempts.slice(0, -1), { ...running, logs: await this.logsIn(details) }] };
  }

  private async fromHistory(description: WorkflowExecutionDescription): Promise<RunLogs> {
    const type = description.typedSearchAttributes.get(JobTypeKey);
    const history = await this.workflows.counted('history', () =>
      this.workflows.client.workflow.getHandle(description.workflowId, description.runId).fetchHistory(),
    );
    const attempts: { attempt: number; logs: AttemptLogs | null; ended: boolean }[] = [];
    const bySchedule = new Map<string, (typeof attempts)[number]>();
    for (const event of history.events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) {
        // The workflow's other activities (a scheduled run's cap check) are not attempts.
        if (scheduled.activityType?.name !== type) continue;
        const attempt = { attempt: attempts.length + 1, logs: null, ended: false };
        attempts.push(attempt);
        bySchedule.set(String(event.eventId), attempt);
        continue;
      }
      const ended = this.attemptEnd(event);
      const attempt = ended && bySchedule.get(ended.scheduledEventId);
      if (!ended || !attempt) continue;
      attempt.ended = true;
      attempt.logs = ended.payload ? await this.logsIn(ended.payload) : null;
    }
    const start = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    return { attempts, traceId: start ? await this.traceIdIn(start) : null };
  }

  /** The attempt the workflow is waiting on, as a describe gives it (its latest heartbeat details included). */
  private pendingAttempt(description: WorkflowExecutionDescription) {
    const type = description.typedSearchAttributes.get(JobTypeKey);
    return description.raw.pendingActivities?.find((activity) => activity.activityType?.name === type);
  }

  /**
   * Where an event ending an attempt keeps its logs: the completion, the failure's last detail, the last heartbeat
   * (timed out), the cancellation's last detail (none from a worker whose SDK sends no details with it).
   */
  private attemptEnd(event: HistoryEvent): { scheduledEventId: string; payload: Payload | undefined } | undefined {
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed)
      return { scheduledEventId: String(completed.scheduledEventId), payload: completed.result?.payloads?.[0] };
    const failed = event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
    if (failed) return { scheduledEventId: String(failed.scheduledEventId), payload: logsPayloadOf(failed.failure) };
    const canceled = event.activityTaskCanceledEventAttributes;
    if (canceled)
      return {
        scheduledEventId: String(canceled.scheduledEventId),
        payload: canceled.details?.payloads?.at(-1) ?? undefined,
      };
    return undefined;
  }

  /** The `logs` of a completion, heartbeat or failure detail (each an object with it); null when there are none. */
  private async logsIn(payload: Payload): Promise<AttemptLogs | null> {
    const parsed = AttemptLogs.safeParse(await this.fieldOf(payload, 'logs'));
    return parsed.success ? parsed.data : null;
  }

  /** The `traceId` of the job's request (its run's start input); null when it was submitted outside a trace. */
  private async traceIdIn(payload: Payload): Promise<string | null> {
    const traceId = await this.fieldOf(payload, 'traceId');
    return typeof traceId === 'string' ? traceId : null;
  }

  private async fieldOf(payload: Payload, field: string): Promise<unknown> {
    const value = await decodeFromPayloadsAtIndex<unknown>(this.workflows.client.options.loadedDataConverter, 0, [
      payload,
    ]).catch(() => undefined);
    return typeof value === 'object' && value !== null && field in value
      ? (value as Record<string, unknown>)[field]
      : undefined;
  }
}

/** The payload with an attempt's logs in its failure: the last application detail, or the timeout's last heartbeat. */
function logsPayloadOf(failure: Failure | null | undefined): Payload | undefined {
  for (let at = failure; at; at = at.cause) {
    const details =
      at.applicationFailureInfo?.details?.payloads ?? at.timeoutFailureInfo?.lastHeartbeatDetails?.payloads;
    if (details?.length) return details[details.length - 1] ?? undefined;
  }
  return undefined;
}
