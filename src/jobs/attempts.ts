// A job's attempts, read from its latest run's history: each attempt is an activity the job workflow schedules (one
// try each; the workflow waits out the backoff on a timer between them), so the history holds when each was
// scheduled, started and ended, and how. What a run's history says is kept while the history does not grow
// (RunHistoryAnswers); a running attempt's start is read from each describe.
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  decodeFromPayloadsAtIndex,
  decodeOptionalFailureToOptionalError,
} from '@temporalio/common/lib/internal-non-workflow/index.js';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import type { temporal } from '@temporalio/proto';
import type { JobAttempt, JobAttempts } from '../contract/attempts.js';
import { describeFailure } from '../workflows/attempt-failure.js';
import { jobIdOf, type JobRequest } from '../workflows/job-state.js';
import { JobTypeKey } from '../workflows/search-attributes.js';
import type { RunHistoryAnswers } from './read-cache.js';
import type { WorkflowReads } from './workflow-reads.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Set by Temporal on every run a schedule starts: the schedule's id (our workflowIdOf(tenant, scheduleId)). */
const ScheduledByKey = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export class JobAttemptReads {
  constructor(
    private readonly workflows: WorkflowReads,
    /** What runs' histories say of their attempts. */
    private readonly histories: RunHistoryAnswers<JobAttempts>,
  ) {}

  async read(tenant: string, jobId: string): Promise<JobAttempts> {
    const description = await this.workflows.describe(tenant, jobId);
    const answer = await this.histories.answer(description, () => this.fromHistory(tenant, jobId, description));
    // Temporal writes an attempt's start event only when it ends: a running one's start is in the pending activity.
    const last = answer.attempts.at(-1);
    const type = description.typedSearchAttributes.get(JobTypeKey);
    const pending = description.raw.pendingActivities?.find((activity) => activity.activityType?.name === type);
    const pendingStart = optionalTsToMs(pending?.lastStartedTime);
    if (!last || last.outcome !== 'queued' || pendingStart === undefined || pendingStart <= 0) return answer;
    return {
      ...answer,
      attempts: [...answer.attempts.slice(0, -1), { ...last, startedAt: iso(pendingStart), outcome: 'running' }],
    };
  }

  private async fromHistory(
    tenant: string,
    jobId: string,
    description: WorkflowExecutionDescription,
  ): Promise<JobAttempts> {
    const history = await this.workflows.counted('history', () =>
      this.workflows.client.workflow.getHandle(description.workflowId, description.runId).fetchHistory(),
    );
    const events = history.events ?? [];
    // The run's request is its start event's input: the job type names its attempts' activities.
    const request = await decodeFromPayloadsAtIndex<JobRequest>(
      this.workflows.client.options.loadedDataConverter,
      0,
      events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads,
    );
    const attempts: JobAttempt[] = [];
    const bySchedule = new Map<string, JobAttempt>();
    let backoffUntil: number | undefined;
    for (const event of events) {
      const at = optionalTsToMs(event.eventTime);
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) {
        // The workflow's other activities (a scheduled run's cap check) are not attempts.
        if (scheduled.activityType?.name !== request.type) continue;
        const attempt: JobAttempt = {
          attempt: attempts.length + 1,
          scheduledAt: iso(at)!,
          startedAt: null,
          endedAt: null,
          outcome: 'queued',
          error: null,
          durationMs: null,
        };
        attempts.push(attempt);
        bySchedule.set(String(event.eventId), attempt);
        backoffUntil = undefined;
        continue;
      }
      if (event.timerStartedEventAttributes && attempts.length > 0) {
        backoffUntil = (at ?? 0) + (optionalTsToMs(event.timerStartedEventAttributes.startToFireTimeout) ?? 0);
        continue;
      }
      if (event.timerFiredEventAttributes) backoffUntil = undefined;
      const ended = await this.attemptEnd(event);
      const attempt = ended && bySchedule.get(ended.scheduledEventId);
      if (!ended || !attempt) continue;
      if (ended.outcome === 'running') {
        Object.assign(attempt, { startedAt: iso(at), outcome: 'running' });
        continue;
      }
      const startedAt = attempt.startedAt === null ? undefined : Date.parse(attempt.startedAt);
      Object.assign(attempt, {
        endedAt: iso(at),
        outcome: ended.outcome,
        error: ended.error,
        durationMs: startedAt === undefined || at === undefined ? null : Math.max(0, at - startedAt),
      });
    }
    const scheduledBy = description.typedSearchAttributes.get(ScheduledByKey);
    return {
      jobId,
      run: request.run ?? 1,
      attempts,
      nextAttemptAt: description.status.name === 'RUNNING' ? iso(backoffUntil) : null,
      scheduleId: scheduledBy ? jobIdOf(tenant, scheduledBy) : null,
    };
  }

  /** What an event says of an attempt: that it started, or how it ended (its error as the job shows errors). */
  private async attemptEnd(
    event: HistoryEvent,
  ): Promise<{ scheduledEventId: string; outcome: JobAttempt['outcome']; error: JobAttempt['error'] } | undefined> {
    const started = event.activityTaskStartedEventAttributes;
    if (started) return { scheduledEventId: String(started.scheduledEventId), outcome: 'running', error: null };
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) return { scheduledEventId: String(completed.scheduledEventId), outcome: 'succeeded', error: null };
    const canceled = event.activityTaskCanceledEventAttributes;
    if (canceled) {
      return {
        scheduledEventId: String(canceled.scheduledEventId),
        outcome: 'cancelled',
        error: { type: 'Cancelled', message: 'cancelled by a client' },
      };
    }
    const failed = event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
    if (!failed) return undefined;
    const cause = await decodeOptionalFailureToOptionalError(
      this.workflows.client.options.loadedDataConverter,
      failed.failure,
    );
    const failure = describeFailure(cause);
    return {
      scheduledEventId: String(failed.scheduledEventId),
      outcome: failure.timedOut ? 'timed_out' : 'failed',
      error: failure.error,
    };
  }
}
