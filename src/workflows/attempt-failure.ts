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
    return {
      error: { type, message: cause.message },
      timedOut: false,
      retryable: !cause.nonRetryable && !nonRetryableErrorTypes.includes(type),
    };
  }
  const error =
    cause instanceof Error ? { type: cause.name, message: cause.message } : { type: 'Error', message: String(cause) };
  return { error, timedOut: false, retryable: true };
}
