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

type BulkResult = BulkJobsResult['results'][number];

export function jobActionsRouter(deps: JobsRoutesDeps): Router {
  const { jobs, metrics, admitSubmits } = deps;
  const router = createRouter('/api/v1/jobs');

  router.get('/:jobId/attempts', async (ctx) => {
    const parsed = JobId.safeParse(ctx.params['jobId']);
    if (!parsed.success) throw RequestInvalidError.fromZod(parsed.error, ['jobId']);
    ctx.body = await jobs.attempts.read(tenantOf(ctx), parsed.data);
  });

  /** Each named job acted on alone: its refusal (404 another tenant's or an unknown id, 409, 429) is its result. */
  const bulk = (action: (tenant: string, jobId: string) => Promise<JobState>) => async (ctx: Context) => {
    const tenant = tenantOf(ctx);
    const parsed = BulkJobsBody.safeParse((await readJsonBody(ctx, deps.bodyLimitBytes)) ?? {});
    if (!parsed.success) throw RequestInvalidError.fromZod(parsed.error);
    const results = await actOnEach(parsed.data.jobIds, async (jobId): Promise<BulkResult> => {
      try {
        const state = await action(tenant, jobId);
        return { jobId, status: 202, jobStatus: state.status };
      } catch (err) {
        const refusal = toApiError(err);
        if (!refusal) ctx.app.emit('error', err, ctx);
        const error = refusal ?? new ApiError('internal', 'internal error');
        return { jobId, status: error.status, error: { code: error.code, message: error.message } };
      }
    });
    ctx.body = { results } satisfies BulkJobsResult;
  };

  router.post(
    '/cancel',
    bulk(async (tenant, jobId) => {
      const state = await jobs.commands.cancel(tenant, jobId);
      metrics.jobCancels.inc();
      return state;
    }),
  );
  router.post(
    '/retry',
    bulk(async (tenant, jobId) => {
      await admitSubmits(tenant, 1);
      return jobs.commands.retry(tenant, jobId);
    }),
  );
  return router;
}
