// The job activity of one job type: what the service's job workflow schedules on the type's task queues.
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure, type LogLevel, type LogMetadata, type Logger } from '@temporalio/common';
import { AttemptLogBuffer, attemptLogLevelOf, cancellationWithLogs, failureWithLogs } from './attempt-logs.js';
import {
  attemptStartedSignalName,
  type AttemptHeartbeat,
  type AttemptInfo,
  type AttemptOutcome,
  type AttemptProgress,
  type AttemptStarted,
} from './job-type-declaration.js';
import type { JobLogger, JobType } from './job-type.js';

/** Progress and liveness go to the server this often; a cancellation is seen on the heartbeat after it. */
const heartbeatIntervalMs = 1000;

/**
 * A burst of progress reports heartbeats at most this often: the SDK sends one heartbeat per 500 ms, whatever it is
 * handed, and each one handed it is a copy of the kept lines (8.6 µs at 1,000 lines: a command printing `::progress`
 * per row spent its worker's event loop on copies thrown away).
 */
const reportBeatEveryMs = 100;

/** How long an attempt runs before its workflow is told that it started (worker protocol, "Running an attempt"). */
const attemptStartedAfterMs = 250;

/** The tenant of a job whose attempt names none (a job workflow from before tenants were passed). */
const defaultTenant = 'default';

/** The attempt's logger: each line is kept in `kept` and written to `logger` with `attributes`. */
function attemptLogger(logger: Logger, attributes: LogMetadata, kept: AttemptLogBuffer): JobLogger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    kept.add(attemptLogLevelOf(level), message);
    logger.log(level, message, { ...attributes, ...meta });
  };
  const at =
    (level: LogLevel) =>
    (message: string, meta?: LogMetadata): void => {
      log(level, message, meta);
    };
  return {
    log,
    keep: (level, message) => kept.add(level, message),
    trace: at('TRACE'),
    debug: at('DEBUG'),
    info: at('INFO'),
    warn: at('WARN'),
    error: at('ERROR'),
  };
}

/** An attempt of a job, as the worker running it knows it: what a stop that abandons it names. */
export interface JobAttempt {
  readonly jobId: string;
  /** The job type's name. */
  readonly type: string;
  /** From 1. */
  readonly attempt: number;
}

function checkedProgress(percent: number | null, message: string | null | undefined): AttemptProgress {
  if (percent !== null && !(Number.isFinite(percent) && percent >= 0 && percent <= 100))
    throw new RangeError(`progress must be a percentage from 0 to 100 or null, not ${percent}`);
  return { percent, message: message ?? null };
}

/**
 * The activity named after the job type: `(input, attempt)` → `{ result, progress, logs, startedAt }`. It heartbeats
 * its progress every second, tells the job workflow that the attempt has started (queued → running, and when) once it
 * has run 250 ms, and reports a cancellation as one whatever error the handler's abort produced, its log lines with
 * it. While it runs, the attempt is in `running`, when given.
 */
export function attemptActivity(jobType: JobType, client: Client, running?: Set<JobAttempt>) {
  return async (input: unknown, attempt: AttemptInfo): Promise<AttemptOutcome> => {
    // The job's start as the signal and the outcome report it: now, not when the signal goes out 250 ms later.
    const startedAt = new Date().toISOString();
    const activity = Context.current();
    const tenant = attempt.tenant ?? defaultTenant;
    const kept = new AttemptLogBuffer();
    const log = attemptLogger(activity.log, { jobId: attempt.jobId, tenant, jobAttempt: attempt.attempt }, kept);
    let progress: AttemptProgress | null = null;
    let lastBeatAt = -Infinity;
    // The heartbeat a report within reportBeatEveryMs of the last one waits for: it carries the newest report.
    let reportBeat: NodeJS.Timeout | undefined;
    const heartbeat = (): void => {
      clearTimeout(reportBeat);
      reportBeat = undefined;
      lastBeatAt = performance.now();
      activity.heartbeat({ progress, logs: kept.snapshot() } satisfies AttemptHeartbeat);
    };
    // The first beat comes after an interval, not at once, and carries what the handler reported until then: an
    // attempt that ends sooner costs the server no heartbeat (a write) at all, and its outcome carries its progress
    // (issue 25). Within half the heartbeat timeout, so that a beat always comes in time.
    const beatEveryMs = Math.min(heartbeatIntervalMs, (activity.info.heartbeatTimeoutMs ?? Infinity) / 2);
    let beaten = false;
    const beating = setInterval(() => {
      // A cancelled attempt beats no more: a handler that ignores its signal would otherwise keep the attempt alive,
      // and its job running, until start-to-close; unbeaten, the server ends it at its heartbeat timeout.
      if (activity.cancellationSignal.aborted) {
        clearInterval(beating);
        return;
      }
      beaten = true;
      heartbeat();
    }, beatEveryMs);
    // The workflow hears that the attempt started only once it has run a while: the signal and the workflow task it
    // wakes are a fifth of a short job's cost to Temporal, and until then the API reads the start from the pending
    // attempt (issue 25).
    const execution = activity.info.workflowExecution!;
    const tellStarted = setTimeout(() => {
      client.workflow
        .getHandle(execution.workflowId, execution.runId)
        .signal<[AttemptStarted]>(attemptStartedSignalName, { attempt: attempt.attempt, startedAt })
        .catch((err: unknown) => {
          log.warn('could not report the attempt started to its job', { error: String(err) });
        });
    }, attemptStartedAfterMs);
    const self: JobAttempt = { jobId: attempt.jobId, type: jobType.declaration.name, attempt: attempt.attempt };
    running?.add(self);
    try {
      let parsed: unknown;
      try {
        parsed = jobType.parseInput(input);
      } catch (err) {
        // The API checked the input against the declaration in force; this worker's differs (a rolling upgrade), so
        // another attempt, maybe on an upgraded worker, may run it.
        throw ApplicationFailure.retryable(
          `the input does not match this worker's declaration of ${jobType.declaration.name}: ${(err as Error).message}`,
          'InputRejected',
        );
      }
      // A parent's handler gets its children's ends in its input, beside what the submitter gave.
      const handlerInput = attempt.childResults
        ? { ...(parsed as object), childResults: attempt.childResults }
        : parsed;
      const result = await jobType.run(handlerInput, {
        jobId: attempt.jobId,
        tenant,
        attempt: attempt.attempt,
        signal: activity.cancellationSignal,
        log,
        progress(percent, message) {
          progress = checkedProgress(percent, message);
          if (!beaten || activity.cancellationSignal.aborted || reportBeat) return;
          const waitMs = lastBeatAt + reportBeatEveryMs - performance.now();
          if (waitMs <= 0) heartbeat();
          else
            reportBeat = setTimeout(() => {
              if (!activity.cancellationSignal.aborted) heartbeat();
            }, waitMs);
        },
      });
      let checked: unknown;
      try {
        checked = jobType.parseResult(result);
      } catch (err) {
        throw ApplicationFailure.nonRetryable(
          `the handler's result does not match its declared schema: ${(err as Error).message}`,
          'ResultRejected',
        );
      }
      return { result: checked ?? null, progress, logs: kept.snapshot(), startedAt };
    } catch (err) {
      if (activity.cancellationSignal.aborted)
        throw cancellationWithLogs(activity.cancellationSignal.reason, kept.snapshot());
      throw failureWithLogs(err, kept.snapshot());
    } finally {
      running?.delete(self);
      clearInterval(beating);
      clearTimeout(reportBeat);
      clearTimeout(tellStarted);
    }
  };
}
