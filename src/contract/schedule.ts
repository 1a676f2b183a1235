// Schedules in the REST contract (§7): what creating one takes and how one reads.
import { z } from 'zod';
import { ChildJobBody, IsoTime } from './job.js';

export const ScheduleId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/,
    'must be 1–100 characters of [A-Za-z0-9._:-], starting with a letter or digit',
  );

export const CreateScheduleBody = z
  .strictObject({
    scheduleId: ScheduleId,
    cron: z
      .string()
      .min(9)
      .max(200)
      .regex(/^\s*\S+(\s+\S+){4}\s*$/, 'must be five fields: minute hour day-of-month month day-of-week')
      .optional()
      .describe(
        'a cron expression (minute hour day-of-month month day-of-week), in UTC; it may fire no more often than SCHEDULE_MIN_INTERVAL_SECONDS (default 10)',
      ),
    intervalSeconds: z
      .number()
      .int()
      .min(1)
      .max(31_536_000)
      .optional()
      .describe('at least SCHEDULE_MIN_INTERVAL_SECONDS (default 10)'),
    job: ChildJobBody.omit({ jobId: true, delaySeconds: true, runAt: true }).describe(
      'what each run submits; its jobId is <scheduleId>-<scheduled time>',
    ),
    paused: z.boolean().optional(),
    overlap: z
      .enum(['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'terminate_other', 'allow_all'])
      .optional()
      .describe('what a run does while the previous one is still going (default skip)'),
  })
  .refine((body) => (body.cron === undefined) !== (body.intervalSeconds === undefined), {
    error: 'give exactly one of cron and intervalSeconds',
  });
export type CreateScheduleBody = z.infer<typeof CreateScheduleBody>;

export const Schedule = z.object({
  scheduleId: ScheduleId,
  cron: z.string().nullable(),
  intervalSeconds: z.number().nullable(),
  job: z.record(z.string(), z.unknown()),
  paused: z.boolean(),
  overlap: z.string(),
  nextRunTimes: z.array(IsoTime),
  recentJobs: z.array(z.object({ jobId: z.string(), scheduledAt: IsoTime })),
  createdAt: IsoTime,
  skippedRuns: z
    .number()
    .int()
    .min(0)
    .describe(
      "runs that found the tenant at MAX_UNFINISHED_JOBS_PER_TENANT and ended at once (cancelled, error type Skipped), within the namespace's retention",
    ),
  lastSkippedAt: IsoTime.nullable().describe('when the latest of those runs ended'),
});
export type Schedule = z.infer<typeof Schedule>;

export const ScheduleList = z.object({ schedules: z.array(Schedule) });
