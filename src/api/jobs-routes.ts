import Router from '@koa/router';
import { z } from 'zod';
import { JobId, ListJobsQuery, SubmitJobBody, WaitQuery } from '../contract/job.js';
import { findJobType, jobTypes } from '../activities/registry.js';
import { readJsonBody } from './body.js';
import { streamJobEvents } from './job-events.js';
import { RequestInvalidError } from './errors.js';
import type { Jobs } from './jobs.js';
import type { ApiMetrics } from './metrics.js';

function parse<T>(schema: z.ZodType<T>, raw: unknown, path: string[] = []): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw RequestInvalidError.fromZod(parsed.error, path);
  return parsed.data;
}

function parseJobId(raw: string | undefined): string {
  return parse(JobId, raw, ['jobId']);
}

export function jobsRouter(jobs: Jobs, metrics: ApiMetrics, bodyLimitBytes: number, closing: AbortSignal): Router {
  const router = new Router({ prefix: '/api/v1/jobs' });

  router.get('/', async (ctx) => {
    const query = parse(ListJobsQuery, ctx.query);
    if (query.type && !findJobType(query.type)) {
      throw new RequestInvalidError(`type: unknown job type "${query.type}"; known: ${jobTypes.map((jobType) => jobType.name).join(', ')}`);
    }
    const { states, nextCursor } = await jobs.list(query);
    ctx.body = { jobs: states.map((state) => jobs.toJson(state)), nextCursor };
  });

  router.post('/', async (ctx) => {
    const query = parse(WaitQuery, ctx.query);
    const raw = await readJsonBody(ctx, bodyLimitBytes);
    if (raw === undefined) throw new RequestInvalidError('a JSON body is required');
    const body = parse(SubmitJobBody, raw);

    const request = await jobs.resolve(body);
    const submitted = await jobs.submit(request);
    if (submitted.created) metrics.jobsSubmitted.inc({ type: request.type, priority: request.priority });
    const finished = await jobs.waitForFinish(request.jobId, query.wait ?? 0);
    ctx.status = finished || !submitted.created ? 200 : 202;
    ctx.set('Location', jobs.jobUrl(request.jobId));
    ctx.body = jobs.toJson(finished ?? submitted.state);
  });

  router.get('/:jobId', async (ctx) => {
    metrics.jobPolls.inc();
    ctx.body = jobs.toJson(await jobs.get(parseJobId(ctx.params['jobId'])));
  });

  router.get('/:jobId/events', async (ctx) => {
    const jobId = parseJobId(ctx.params['jobId']);
    streamJobEvents(ctx, jobs, jobId, await jobs.get(jobId), closing);
  });

  router.post('/:jobId/cancel', async (ctx) => {
    const jobId = parseJobId(ctx.params['jobId']);
    const state = await jobs.cancel(jobId);
    metrics.jobCancels.inc();
    ctx.status = 202;
    ctx.body = jobs.toJson(state);
  });

  return router;
}

export function jobTypesRouter(): Router {
  const router = new Router({ prefix: '/api/v1/job-types' });
  router.get('/', (ctx) => {
    ctx.body = {
      types: jobTypes.map((jobType) => ({
        name: jobType.name,
        description: jobType.description,
        inputSchema: z.toJSONSchema(jobType.inputSchema, { io: 'input' }),
        defaults: jobType.defaults,
      })),
    };
  });
  return router;
}
