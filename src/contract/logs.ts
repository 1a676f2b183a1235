// A job's logs in the REST contract: GET /api/v1/jobs/{jobId}/logs and the `log` events of its event stream. What a
// handler logged through its context (and each line a command printed), kept per attempt by the worker protocol.
import { z } from 'zod';
import { attemptLogLevels } from './job-type-declaration.js';
import { IsoTime, JobId } from './job.js';

/** Lines a page holds at most, and by default. */
export const maxLogPageLines = 1000;
export const defaultLogPageLines = 500;

export const JobLogLine = z.object({
  attempt: z.number().int().min(1),
  seq: z
    .number()
    .int()
    .min(1)
    .describe("the line's place in its attempt, from 1; lines dropped past the attempt's bounds leave a gap"),
  time: IsoTime,
  level: z.enum(attemptLogLevels),
  message: z.string(),
  traceId: z
    .string()
    .nullable()
    .describe(
      "the OpenTelemetry trace id of the job's run (its attempts' spans are in it), when traced; null otherwise",
    ),
});
export type JobLogLine = z.infer<typeof JobLogLine>;

export const JobLogsQuery = z.strictObject({
  attempt: z.coerce.number().int().min(1).max(100).optional().describe('the attempt to read; the latest by default'),
  after: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .describe("only lines whose seq is greater: a page's nextAfter, to read on (or to tail a running attempt)"),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(maxLogPageLines)
    .optional()
    .describe(`lines per page, 1–${maxLogPageLines}, default ${defaultLogPageLines}`),
});
export type JobLogsQuery = z.infer<typeof JobLogsQuery>;

export const JobLogs = z.object({
  jobId: JobId,
  attempt: z.number().int().min(1).nullable().describe('the attempt these lines are of; null before the first one'),
  attempts: z.number().int().min(0).describe('how many attempts the job has begun'),
  attemptEnded: z
    .boolean()
    .describe('the attempt is over: no line will be added to it (while false, ask again with after=nextAfter)'),
  lines: z.array(JobLogLine).describe('in seq order'),
  nextAfter: z.number().int().min(0).describe("the `after` of the next page: the last line's seq, or the one given"),
  hasMore: z.boolean().describe('more lines after this page are there already'),
});
export type JobLogs = z.infer<typeof JobLogs>;
