// What an attempt's failure means for the job: its error as the job shows it, and whether another attempt may follow.
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { JobError } from '../contract/job.js';

/** Error types that end a job at once, whatever attempts remain. */
const nonRetryableErrorTypes: readonly string[] = ['UnrecoverableError'];

export interface AttemptFailure {
  readonly error: JobError;
  readonly timedOut: boolean;
  readonly retryable: boolean;
}

/** A failure's details are kept up to this size: the job's state carries them in every poll and in its memo. */
const maxDetailsChars = 16 * 1024;

/** The attempt's kept log lines, which a worker appends as its failure's last detail: the job's logs, not its error's. */
function isLogsDetail(detail: unknown): boolean {
  return typeof detail === 'object' && detail !== null && Object.keys(detail).length === 1 && 'logs' in detail;
}

/**
 * The first of the failure's own details (not its logs), when it is an object (a failed command's exit code and
 * output tails), for the job's error. Data only, so no `patched()`: the workflow's commands are the same with or
 * without it.
 */
function detailsOf(failure: ApplicationFailure): Record<string, unknown> | undefined {
  const details = failure.details ?? [];
  const own = isLogsDetail(details.at(-1)) ? details.slice(0, -1) : details;
  const first: unknown = own[0];
  if (first === null || typeof first !== 'object' || Array.isArray(first)) return undefined;
  return JSON.stringify(first).length <= maxDetailsChars ? (first as Record<string, unknown>) : undefined;
}

export function describeFailure(err: unknown): AttemptFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure) {
    const heartbeat = cause.timeoutType === TimeoutType.HEARTBEAT;
    return {
      error: {
        type: heartbeat ? 'HeartbeatTimeout' : 'Timeout',
        message: heartbeat ? 'the attempt stopped heartbeating' : 'the attempt ran past timeoutSeconds',
      },
      timedOut: true,
      retryable: true,
    };
  }
  if (cause instanceof ApplicationFailure) {
    const type = cause.type ?? 'Error';
    const details = detailsOf(cause);
    return {
      error: { type, message: cause.message, ...(details ? { details } : {}) },
      timedOut: false,
      retryable: !cause.nonRetryable && !nonRetryableErrorTypes.includes(type),
    };
  }
  const error =
    cause instanceof Error ? { type: cause.name, message: cause.message } : { type: 'Error', message: String(cause) };
  return { error, timedOut: false, retryable: true };
}
