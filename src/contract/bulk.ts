// Bulk actions in the REST contract: cancel or retry up to 100 of the tenant's jobs in one request, each job's
// outcome reported on its own (POST /api/v1/jobs/cancel, POST /api/v1/jobs/retry).
import { z } from 'zod';
import { ErrorCode } from './errors.js';
import { JobId, JobStatus } from './job.js';

/** The most jobs one bulk request names. */
export const maxBulkJobs = 100;

export const BulkJobsBody = z.strictObject({
  jobIds: z
    .array(JobId)
    .min(1, 'name at least one job')
    .max(maxBulkJobs, `name at most ${maxBulkJobs} jobs; send the rest in another request`)
    .refine((ids) => new Set(ids).size === ids.length, 'names a job twice; name each job once')
    .describe(`1–${maxBulkJobs} distinct job ids of the caller's tenant`),
});
export type BulkJobsBody = z.infer<typeof BulkJobsBody>;

export const BulkJobsResult = z.object({
  results: z
    .array(
      z.object({
        jobId: JobId,
        status: z.number().int().describe('the HTTP status this job alone would have had (202, 404, 409, 429, 503)'),
        jobStatus: JobStatus.optional().describe("the job's status after the action, when it was taken"),
        error: z.object({ code: ErrorCode, message: z.string() }).optional(),
      }),
    )
    .describe('one per job id, in the order given'),
});
export type BulkJobsResult = z.infer<typeof BulkJobsResult>;
