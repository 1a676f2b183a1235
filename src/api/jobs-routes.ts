import Router from '@koa/router';
import { JobId, SubmitJobBody, WaitQuery } from '../contract/job.js';
import { readJsonBody } from './body.js';
import { RequestInvalidError } from './errors.js';
import type { Jobs } from './jobs.js';

function parseJobId(raw: string | undefined): string {
  const parsed = JobId.safeParse(raw);
  if (!parsed.success) throw RequestInvalidError.fromZod(parsed.error, ['jobId']);
  return parsed.data;
}

export function jobsRouter(jobs: Jobs, bodyLimitBytes: number): Router {
  const router = new Router({ prefix: '/api/v1/jobs' });

  router.post('/', async (ctx) => {
    const query = WaitQuery.safeParse(ctx.query);
    if (!query.success) throw RequestInvalidError.fromZod(query.error);
    const raw = await readJsonBody(ctx, bodyLimitBytes);
    if (raw === undefined) throw new RequestInvalidError('a JSON body is required');
    const body = SubmitJobBody.safeParse(raw);
    if (!body.success) throw RequestInvalidError.fromZod(body.error);

    const request = await jobs.resolve(body.data);
    const submitted = await jobs.submit(request);
    const finished = await jobs.waitForFinish(request.jobId, query.data.wait ?? 0);
    ctx.status = finished || !submitted.created ? 200 : 202;
    ctx.set('Location', jobs.jobUrl(request.jobId));
    ctx.body = jobs.toJson(finished ?? submitted.state);
  });

  router.get('/:jobId', async (ctx) => {
    ctx.body = jobs.toJson(await jobs.get(parseJobId(ctx.params['jobId'])));
  });

  router.post('/:jobId/cancel', async (ctx) => {
    const jobId = parseJobId(ctx.params['jobId']);
    ctx.status = 202;
    ctx.body = jobs.toJson(await jobs.cancel(jobId));
  });

  return router;
}
