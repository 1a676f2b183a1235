// A job's attempts in the REST contract: GET /api/v1/jobs/{jobId}/attempts, what the dashboard's timeline draws.
import { z } from 'zod';
import { IsoTime, JobError, JobId } from './job.js';

export const AttemptOutcome = z.enum(['queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled']);
export type AttemptOutcome = z.infer<typeof AttemptOutcome>;

export const JobAttempt = z.object({
  attempt: z.number().int().min(1),
  scheduledAt: IsoTime.describe('when the attempt was put on the task queue'),
  startedAt: IsoTime.nullable().describe('when a worker took it; null while it waits for one'),
  endedAt: IsoTime.nullable().describe('null while it waits or runs'),
  outcome: AttemptOutcome.describe('queued: waiting for a worker; running; or how it ended'),
  error: JobError.nullable().describe('why the attempt failed, timed out or was cancelled'),
  durationMs: z.number().int().min(0).nullable().describe('start to end; null until it ends'),
});
export type JobAttempt = z.infer<typeof JobAttempt>;

export const JobAttempts = z.object({
  jobId: JobId,
  run: z.number().int().min(1).describe('the run these attempts belong to: the latest (a retry starts run + 1)'),
  attempts: z.array(JobAttempt).describe('oldest first'),
  nextAttemptAt: IsoTime.nullable().describe('during a backoff between attempts, when the next one is scheduled'),
  scheduleId: z.string().nullable().describe('the schedule that started this job, or null'),
});
export type JobAttempts = z.infer<typeof JobAttempts>;
