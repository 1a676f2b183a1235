import { setTimeout as delay } from 'node:timers/promises';
import { defineJobType, UnrecoverableError } from '@durable-jobs/worker';
import { z } from 'zod';

/** Thrown by a job handler for a failure that another attempt might not have: the job is retried. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

const SleepInput = z.strictObject({
  seconds: z.number().min(0).max(86_400),
  message: z.string().max(10_000).optional(),
  failAttempts: z.number().int().min(0).max(100).optional(),
  failure: z.enum(['retryable', 'non_retryable']).optional(),
});

/** A built-in job type, written with the same public API as a handler worker's (@durable-jobs/worker). */
export const sleepJob = defineJobType({
  name: 'sleep',
  description: 'Sleeps for `seconds`, reporting progress about once a second; fails its first `failAttempts` attempts.',
  input: SleepInput,
  defaults: {
    timeoutSeconds: 86_400 + 60,
    heartbeatTimeoutSeconds: 10,
    retry: { maxAttempts: 3, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 60 },
  },
  async run({ seconds, message, failAttempts = 0, failure = 'retryable' }, context) {
    if (context.attempt <= failAttempts) {
      const text = `planned failure of attempt ${context.attempt} (failAttempts: ${failAttempts})`;
      throw failure === 'retryable' ? new TransientError(text) : new UnrecoverableError(text);
    }
    const totalMs = seconds * 1000;
    const startedAt = performance.now();
    for (;;) {
      const elapsedMs = performance.now() - startedAt;
      const remainingMs = totalMs - elapsedMs;
      context.progress(
        totalMs === 0 ? 100 : Math.min(100, Math.round((elapsedMs / totalMs) * 100)),
        `slept ${Math.floor(elapsedMs / 1000)} of ${seconds} s`,
      );
      if (remainingMs <= 0) break;
      await delay(Math.min(1000, remainingMs), undefined, { signal: context.signal });
    }
    return { sleptSeconds: seconds, message: message ?? null };
  },
});
