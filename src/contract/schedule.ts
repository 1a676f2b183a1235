// Schedules in the REST contract (§7): what creating one takes and how one reads.
import { z } from 'zod';
import { ChildJobBody, IsoTime } from './job.js';

export const ScheduleId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/,
    'must be 1–100 characters of [A-Za-z0-9._:-], starting with a letter or digit',
  );

/** An IANA time zone name as the platform's time zone data knows it, e.g. Europe/Berlin. */
export const TimeZone = z
  .string()
  .max(64)
  .refine(
    (name) => canonicalTimeZone(name) !== undefined,
    'must be an IANA time zone name, e.g. Europe/Berlin or America/New_York',
  );

/** The name as the time zone database spells it (`europe/berlin` is Europe/Berlin); undefined for an unknown one. */
export function canonicalTimeZone(name: string): string | undefined {
  // Offsets such as +02:00 are accepted by Intl but are not zone names: Temporal's server would refuse them.
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

export const CreateScheduleBody = z
  .strictObject({
    scheduleId: ScheduleId,
    cron: z
      .string()
      .min(9)
      .max(200)
      // Temporal drops a `#` and all after it as a comment: `0 9 * * 1#2` ran every Monday. A refine, not a second
      // regex: the OpenAPI document keeps one pattern.
      .refine(
        (cron) => !cron.includes('#'),
        'must not hold "#": Temporal reads it as the start of a comment (0 9 * * 1#2 would run every Monday); there is no nth weekday of the month',
      )
      .regex(/^\s*\S+(\s+\S+){4}\s*$/, 'must be five fields: minute hour day-of-month month day-of-week')
      .optional()
      .describe(
        'a cron expression (minute hour day-of-month month day-of-week), read in `timezone` (default UTC); it may fire no more often than SCHEDULE_MIN_INTERVAL_SECONDS (default 10)',
      ),
    timezone: TimeZone.optional().describe(
      'the IANA time zone `cron` is read in (default UTC), e.g. Europe/Berlin: 0 9 * * * runs at 09:00 there, summer and winter',
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
  })
  .refine((body) => body.timezone === undefined || body.cron !== undefined, {
    error: 'only with cron (an interval is the same in every time zone)',
    path: ['timezone'],
  });
export type CreateScheduleBody = z.infer<typeof CreateScheduleBody>;

export const Schedule = z.object({
  scheduleId: ScheduleId,
  cron: z.string().nullable(),
  timezone: z.string().nullable().describe('the time zone cron is read in; null for an interval'),
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
