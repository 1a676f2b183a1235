import { ApplicationFailure } from '@temporalio/common';

/** What a failed command leaves in its job's error (`error.details`): its exit code and the end of its output. */
export interface CommandExitDetails {
  readonly exitCode: number;
  /** The last bytes (up to `outputTailBytes`) of stdout and of stderr, env values masked. */
  readonly stdoutTail: string;
  readonly stderrTail: string;
}

/**
 * Thrown by the command handler when the process exits non-zero or is killed, or cannot be started: the attempt
 * fails and may be retried. An ApplicationFailure so that its details travel to the job's error: Temporal drops
 * everything but the name and message of any other error.
 */
export class CommandExitedError extends ApplicationFailure {
  override readonly name = 'CommandExitedError';
  constructor(message: string, details?: CommandExitDetails) {
    super(message, 'CommandExitedError', false, details ? [details] : undefined);
  }
}
