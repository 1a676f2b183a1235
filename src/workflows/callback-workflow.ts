import { ActivityFailure, ApplicationFailure, patched, proxyActivities, sleep, upsertMemo } from '@temporalio/workflow';
import type { JobError, JobState } from '../contract/job.js';

/** What the callback activity POSTs, and where. */
export interface CallbackDelivery {
  readonly url: string;
  /** The job's workflow id, for its links. */
  readonly jobWorkflowId: string;
  readonly job: JobState;
}

export interface CallbackActivities {
  deliverCallback(delivery: CallbackDelivery): Promise<void>;
}

/** Delivery is retried with backoff until a 2xx or this long. */
export const callbackGiveUpMs = 24 * 60 * 60 * 1000;
const firstRetryMs = 1000;
const longestRetryMs = 10 * 60 * 1000;

const { deliverCallback } = proxyActivities<CallbackActivities>({
  startToCloseTimeout: '30 s',
  retry: { maximumAttempts: 1 },
});

/**
 * Delivers a finished job to its callbackUrl. A workflow of its own (abandoned by the job's), so the job
 * finishes when its work does; it retries here rather than in the server so the memo can count attempts.
 */
export async function callbackWorkflow(delivery: CallbackDelivery): Promise<{ attempts: number }> {
  const giveUpAt = Date.now() + callbackGiveUpMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await deliverCallback(delivery);
      upsertMemo({ callbackAttempts: attempt });
      return { attempts: attempt };
    } catch (err) {
      const failure = err instanceof ActivityFailure && err.cause ? err.cause : (err as Error);
      const lastError: JobError = {
        type: failure instanceof ApplicationFailure ? (failure.type ?? 'Error') : failure.name,
        message: failure.message,
      };
      // Deliveries recorded before this neither kept their error nor stopped at an unrecoverable one.
      const stopsWhenUnrecoverable = patched('callback-last-error-and-unrecoverable');
      upsertMemo(
        stopsWhenUnrecoverable
          ? { callbackAttempts: attempt, callbackLastError: lastError }
          : { callbackAttempts: attempt },
      );
      // The activity's UnrecoverableError (a refused target, a redirect): another attempt would fail alike.
      if (
        stopsWhenUnrecoverable &&
        failure instanceof ApplicationFailure &&
        (failure.nonRetryable || failure.type === 'UnrecoverableError')
      ) {
        throw ApplicationFailure.create({
          type: 'CallbackUndeliveredError',
          message: `callback not delivered: ${lastError.message}`,
          nonRetryable: true,
          cause: failure,
        });
      }
      const delayMs = Math.min(firstRetryMs * 2 ** (attempt - 1), longestRetryMs);
      if (Date.now() + delayMs > giveUpAt) {
        throw ApplicationFailure.create({
          type: 'CallbackUndeliveredError',
          message: `no 2xx from the callback after ${attempt} attempts in 24 h`,
          nonRetryable: true,
          cause: err as Error,
        });
      }
      await sleep(delayMs);
    }
  }
}
