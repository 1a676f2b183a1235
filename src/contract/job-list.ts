// The job list and counts in the REST contract (§2): the filters they share, a page of jobs, the counts per status.
import { z } from 'zod';
import { Job, JobPriority, JobStatus, JobTag, maxJobTags } from './job.js';

/** The filters the list and the counts share: each narrows the jobs, all together (AND). */
export const JobFilterQuery = z.strictObject({
  status: JobStatus.optional(),
  type: z.string().min(1).max(128).optional(),
  priority: JobPriority.optional(),
  tag: z
    // zod says only "Invalid input" when neither a tag nor a list fits: past 10 tags (a bad tag says its own problem).
    .union([JobTag, z.array(JobTag).max(maxJobTags, `give at most ${maxJobTags} tags`)], {
      error: `give at most ${maxJobTags} tags`,
    })
    .transform((tag) => (typeof tag === 'string' ? [tag] : tag))
    .optional()
    .describe('jobs carrying this tag (key:value); repeat it for jobs carrying every one'),
});
export type JobFilterQuery = z.infer<typeof JobFilterQuery>;

export const ListJobsQuery = JobFilterQuery.extend({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,4096}\.[A-Za-z0-9_-]{12}$/, 'is not a cursor this API gave')
    .optional(),
  include: z
    .string()
    .regex(/^((input|result)(,(input|result))?)?$/, 'is input, result, input,result or empty')
    .optional()
    .describe(
      'the big fields each listed job carries: input, result, input,result (the default) or none (include=); a field left out reads null',
    ),
  total: z
    .enum(['true', 'false'])
    .transform((flag) => flag === 'true')
    .optional()
    .describe("true: the answer's total counts every job under the filters (one more visibility query)"),
});
export type ListJobsQuery = z.infer<typeof ListJobsQuery>;

export const JobList = z.object({
  jobs: z.array(Job),
  nextCursor: z.string().nullable(),
  total: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      'with ?total=true: the jobs under the filters, all pages together (visibility lags writes by about a second)',
    ),
});

const StatusCount = z.number().int().min(0);

export const JobCounts = z.object({
  total: z.number().int().min(0).describe('the jobs under the filters'),
  counts: z
    .object({
      queued: StatusCount,
      running: StatusCount,
      succeeded: StatusCount,
      failed: StatusCount,
      timed_out: StatusCount,
      cancelled: StatusCount,
    })
    .describe('of those, per status'),
});
export type JobCounts = z.infer<typeof JobCounts>;
