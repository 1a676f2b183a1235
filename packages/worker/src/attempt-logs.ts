// The log lines of one attempt, kept for the job (docs/worker-protocol.md, "Logs"): the newest within the protocol's
// bounds, sent with every heartbeat (the live tail) and with the attempt's completion, failure or cancellation (the
// rest).
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  attemptLogLimits,
  type AttemptLogLevel,
  type AttemptLogLine,
  type AttemptLogs,
} from './job-type-declaration.js';

const encoder = new TextEncoder();

/** A message of at most `attemptLogLimits.messageBytes` bytes of UTF-8: a longer one is cut, and says so. */
function cutMessage(message: string): { message: string; bytes: number } {
  const bytes = encoder.encode(message);
  if (bytes.length <= attemptLogLimits.messageBytes) return { message, bytes: bytes.length };
  const suffix = ` … (cut at ${attemptLogLimits.messageBytes} bytes)`;
  // Decoding a cut in the middle of a character ends with U+FFFD: drop it.
  const head = new TextDecoder().decode(bytes.subarray(0, attemptLogLimits.messageBytes - 64)).replace(/\uFFFD$/, '');
  const cut = head + suffix;
  return { message: cut, bytes: encoder.encode(cut).length };
}

/** The newest lines of an attempt within its bounds; the older ones are counted as dropped. */
export class AttemptLogBuffer {
  private readonly lines: { line: AttemptLogLine; bytes: number }[] = [];
  private first = 0;
  private bytes = 0;
  private nextSeq = 1;

  add(level: AttemptLogLevel, message: string): void {
    const cut = cutMessage(message);
    this.lines.push({
      line: { seq: this.nextSeq++, time: new Date().toISOString(), level, message: cut.message },
      bytes: cut.bytes,
    });
    this.bytes += cut.bytes;
    while (this.lines.length - this.first > attemptLogLimits.lines || this.bytes > attemptLogLimits.bytes) {
      this.bytes -= this.lines[this.first]!.bytes;
      this.first++;
    }
    // Dropped lines leave the array in batches, once they are as many as the kept ones: a flood costs no more than
    // copying it now and then, and the array holds at most twice what is kept (a thousand dropped 8 KiB lines, before).
    if (this.first >= this.lines.length - this.first) {
      this.lines.splice(0, this.first);
      this.first = 0;
    }
  }

  /** The kept lines as the protocol carries them. */
  snapshot(): AttemptLogs {
    const kept = this.lines.slice(this.first).map(({ line }) => line);
    return { lines: kept, dropped: kept.length > 0 ? kept[0]!.seq - 1 : this.nextSeq - 1 };
  }
}

/** The protocol's level of a Temporal logger level. */
export function attemptLogLevelOf(level: string): AttemptLogLevel {
  switch (level) {
    case 'TRACE':
    case 'DEBUG':
      return 'debug';
    case 'WARN':
      return 'warn';
    case 'ERROR':
      return 'error';
    default:
      return 'info';
  }
}

/**
 * The attempt's failure with its log lines as the last of its details: an ApplicationFailure keeps its type,
 * retryability and details; any other error becomes the one Temporal would have made of it (its name as the type).
 */
export function failureWithLogs(err: unknown, logs: AttemptLogs): ApplicationFailure {
  const failure =
    err instanceof ApplicationFailure
      ? new ApplicationFailure(
          err.message,
          err.type,
          err.nonRetryable,
          [...(err.details ?? []), { logs }],
          err.cause,
          err.nextRetryDelay,
          err.category,
        )
      : err instanceof Error
        ? new ApplicationFailure(err.message, err.name, false, [{ logs }], err.cause as Error | undefined)
        : new ApplicationFailure(String(err), 'Error', false, [{ logs }]);
  if (err instanceof Error && err.stack) failure.stack = err.stack;
  return failure;
}

/**
 * The attempt's cancellation (the SDK's abort reason) with its log lines as its details: the server keeps a
 * cancellation's details in the attempt's history event, as it keeps a failure's.
 */
export function cancellationWithLogs(reason: unknown, logs: AttemptLogs): CancelledFailure {
  const cancellation = new CancelledFailure(reason instanceof Error ? reason.message : String(reason), [{ logs }]);
  if (reason instanceof Error && reason.stack) cancellation.stack = reason.stack;
  return cancellation;
}
