// A job's attempts, and the bulk actions: cancel or retry up to 100 of the tenant's jobs in one request.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { BulkJobsBody, type BulkJobsResult } from '../contract/bulk.js';
import { JobId, type JobState } from '../contract/job.js';
import { actOnEach } from '../jobs/bulk.js';
import { createRouter, tenantOf } from './access.js';
import { readJsonBody } from './body.js';
import { ApiError, RequestInvalidError, toApiError } from './errors.js';
import type { JobsRoutesDeps } from './jobs-routes.js';
import { RateLimitedError } from './rate-limits.js';

type BulkResult = BulkJobsResult['results'][number];

export function jobActionsRouter(deps: JobsRoutesDeps): Router {
  const { jobs, metrics, admitSubmits } = deps;
  const router = createRouter('/api/v1/jobs');

  router.get('/:jobId/attempts', async (ctx) => {
    const parsed = JobId.safeParse(ctx.params['jobId']);
    if (!parsed.success) throw RequestInvalidError.fromZod(parsed.error, ['jobId']);
    ctx.body = await jobs.attempts.read(tenantOf(ctx), parsed.data);
  });

  // One bulk request per tenant at a time on this API process: each makes up to 100 calls to Temporal, so a client
  // sending them without waiting for the answers would hold that many calls open per request.
  const bulkInFlight = new Set<string>();

  /**
   * Each named job acted on alone: its refusal (404 another tenant's or an unknown id, 409, 429) is its result.
   * `actionFor` makes the request's action, once per request, so an action can remember what it learnt from one job.
   */
  const bulk =
    (actionFor: (tenant: string) => (jobId: string) => Promise<JobState>) =>
    async (ctx: Context): Promise<void> => {
      const tenant = tenantOf(ctx);
      const parsed = BulkJobsBody.safeParse((await readJsonBody(ctx, deps.bodyLimitBytes)) ?? {});
      if (!parsed.success) throw RequestInvalidError.fromZod(parsed.error);
      if (bulkInFlight.has(tenant)) {
        throw new RateLimitedError(
          `tenant "${tenant}" has a bulk cancel or retry still running on this API process; wait for its answer, then send the next`,
          1,
        );
      }
      bulkInFlight.add(tenant);
      try {
        const action = actionFor(tenant);
        const results = await actOnEach(parsed.data.jobIds, async (jobId): Promise<BulkResult> => {
          try {
            const state = await action(jobId);
            return { jobId, status: 202, jobStatus: state.status };
          } catch (err) {
            const refusal = toApiError(err);
            if (!refusal) ctx.app.emit('error', err, ctx);
            const error = refusal ?? new ApiError('internal', 'internal error');
            return { jobId, status: error.status, error: { code: error.code, message: error.message } };
          }
        });
        ctx.body = { results } satisfies BulkJobsResult;
      } finally {
        bulkInFlight.delete(tenant);
      }
    };

  router.post(
    '/cancel',
    bulk((tenant) => async (jobId) => {
      const state = await jobs.commands.cancel(tenant, jobId);
      metrics.jobCancels.inc();
      return state;
    }),
  );
  router.post(
    '/retry',
    bulk((tenant) => {
      // Once the tenant's rate or unfinished cap refuses one retry, the rest of the request are refused alike
      // without asking Temporal to count the tenant's jobs again.
      let refused: RateLimitedError | undefined;
      return async (jobId) => {
        if (refused) throw refused;
        try {
          await admitSubmits(tenant, 1);
        } catch (err) {
          if (err instanceof RateLimitedError) refused = err;
          throw err;
        }
        return jobs.commands.retry(tenant, jobId);
      };
    }),
  );
  return router;
}
