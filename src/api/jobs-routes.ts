import { Readable } from 'node:stream';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { z } from 'zod';
import type { JobTypeView } from '../contract/job-type-declaration.js';
import { JobBatchBody, JobId, SubmitJobBody, WaitQuery, type JobState } from '../contract/job.js';
import { JobFilterQuery, ListJobsQuery } from '../contract/job-list.js';
import { CreateScheduleBody, ScheduleId } from '../contract/schedule.js';
import { JobLogsQuery } from '../contract/logs.js';
import { isFinished } from '../workflows/job-state.js';
import { jobPath } from '../contract/job-json.js';
import {
  pollMaxAgeMs,
  stateBytes,
  turnForWork,
  unknownJobTypeMessage,
  writtenJson,
  type Jobs,
  type RegisteredJobTypes,
} from '../jobs/index.js';
import { createRouter, tenantOf } from './access.js';
import { readJsonBody } from './body.js';
import { JobEventFeeds } from './job-events.js';
import { parseQuery } from './query.js';
import { ApiError, errorBody, RequestInvalidError, toApiError } from './errors.js';
import type { ApiMetrics } from './metrics.js';
import { TenantPlaces } from './rate-limits.js';
import type { Schedules } from './schedules.js';

/**
 * The job JSON of each state this process answered with, written once: a read state is never changed, and is answered
 * by every poll while it is the latest and by every list while it is kept, which for a finished job with a
 * half-megabyte input was that many strings of its size for the collector (issue 21). Kept as long as the state is.
 */
class JobJsonBytes {
  private readonly written = new WeakMap<JobState, Buffer>();

  constructor(private readonly jobs: Jobs) {}

  of(tenant: string, state: JobState): Buffer {
    let json = this.written.get(state);
    if (!json) {
      json = writtenJson(this.jobs.toJson(tenant, state));
      this.written.set(state, json);
    }
    return json;
  }

  /** `of` for an answer: a big state not yet written is written in a turn of the event loop of its own. */
  async answer(tenant: string, state: JobState): Promise<Buffer> {
    if (!this.written.has(state)) await turnForWork(stateBytes(state));
    return this.of(tenant, state);
  }
}

/**
 * A list page's JSON, made a job at a time as the socket takes it: a page of big jobs is megabytes (up to 4 MiB of
 * inputs and results), and one JSON.stringify of the whole page, 20 such lists at once, held the API's event loop
 * (and `/healthz`) for hundreds of ms and made strings of the page's size for the collector.
 */
function* listPageJson(
  jobs: readonly (() => Buffer)[],
  rest: { nextCursor: string | null; total?: number },
): Generator<string | Buffer> {
  yield '{"jobs":[';
  for (const [i, job] of jobs.entries()) {
    if (i > 0) yield ',';
    yield job();
  }
  yield `],${JSON.stringify(rest).slice(1)}`;
}

function parse<T>(schema: z.ZodType<T>, raw: unknown, path: string[] = []): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw RequestInvalidError.fromZod(parsed.error, path, { schema, value: raw });
  return parsed.data;
}

function parseJobId(raw: string | undefined): string {
  return parse(JobId, raw, ['jobId']);
}

/** `?wait`'s unit: a newcomer writes `10s` or milliseconds. */
const waitHint = { wait: { unit: 'seconds', example: '?wait=10 waits up to 10 s' } };

export interface JobsRoutesDeps {
  /** Built once per process: its caches serve every request. */
  readonly jobs: Jobs;
  /** The job type registry as this process reads it (cached, shared by every request). */
  readonly jobTypes: RegisteredJobTypes;
  readonly metrics: ApiMetrics;
  readonly bodyLimitBytes: number;
  /** Aborted when the server shuts down: event streams end. */
  readonly closing: AbortSignal;
  /** Event streams one tenant may hold open on this process (JOBS_MAX_STREAMS_PER_TENANT). */
  readonly maxStreamsPerTenant: number;
  /** Submits with `?wait` one tenant may hold waiting on this process (JOBS_MAX_WAITS_PER_TENANT). */
  readonly maxWaitsPerTenant: number;
  /** Throws RateLimitedError when the tenant may not submit `count` more jobs now. */
  readonly admitSubmits: (tenant: string, count: number) => Promise<void>;
}

/** One submit, as POST /api/v1/jobs, each item of a batch and each hook delivery make it: validated, admitted, started. */
export async function submitJob(deps: JobsRoutesDeps, tenant: string, body: SubmitJobBody) {
  const { requests, commands } = deps.jobs;
  const request = await requests.resolve(tenant, body);
  await deps.admitSubmits(tenant, 1 + (request.children?.length ?? 0));
  await commands.checkChildrenFree(tenant, request);
  const submitted = await commands.submit(tenant, request);
  if (submitted.created) deps.metrics.jobsSubmitted.inc({ type: request.type, priority: request.priority });
  return { request, submitted };
}

/**
 * Runs `wait` with a signal of its own that ends it when the server shuts down or the client goes away: a wait nobody
 * will read would hold its long poll of Temporal to its end.
 */
async function waitWhileAsked<T>(
  ctx: Context,
  closing: AbortSignal,
  wait: (until: AbortSignal) => Promise<T>,
): Promise<T> {
  const asked = new AbortController();
  const end = (): void => asked.abort();
  closing.addEventListener('abort', end, { once: true });
  ctx.res.once('close', end);
  if (closing.aborted || ctx.res.destroyed) end();
  try {
    return await wait(asked.signal);
  } finally {
    closing.removeEventListener('abort', end);
    ctx.res.off('close', end);
  }
}

export function jobsRouter(deps: JobsRoutesDeps): Router {
  const { jobs, jobTypes, metrics, bodyLimitBytes, closing, admitSubmits } = deps;
  const router = createRouter('/api/v1/jobs');
  const feeds = new JobEventFeeds(jobs, deps.maxStreamsPerTenant, closing, metrics);
  metrics.eventStreamUnsent = () => feeds.unsentBytes();
  const jobJson = new JobJsonBytes(jobs);
  // Each held wait is a long poll of Temporal: unbounded, one tenant's could starve every other's calls (issue 21).
  const waits = new TenantPlaces(
    deps.maxWaitsPerTenant,
    (tenant, held) =>
      `tenant "${tenant}" holds ${held} submits waiting (?wait) on this API process, the most JOBS_MAX_WAITS_PER_TENANT allows; nothing was submitted: send it again once one ends, or without ?wait and poll GET /api/v1/jobs/{jobId}`,
  );

  /** Refuses a filter on a type no worker declared: a typo would otherwise find nothing. */
  const checkTypeFilter = async (type: string | undefined): Promise<void> => {
    if (type && !(await jobTypes.find(type))) {
      const known = (await jobTypes.all()).map((view) => view.declaration.name);
      throw new RequestInvalidError(`type: ${unknownJobTypeMessage(type, known)}`);
    }
  };

  router.get('/', async (ctx) => {
    const tenant = tenantOf(ctx);
    const query = parseQuery(ListJobsQuery, ctx.query);
    await checkTypeFilter(query.type);
    const [{ states, nextCursor }, total] = await Promise.all([
      jobs.list.list(tenant, query),
      query.total ? jobs.list.total(tenant, query) : undefined,
    ]);
    ctx.type = 'application/json';
    ctx.body = Readable.from(
      listPageJson(
        states.map((state) => () => jobJson.of(tenant, state)),
        { nextCursor, ...(total === undefined ? {} : { total }) },
      ),
      // One job's JSON ahead of the socket at a time.
      { highWaterMark: 1 },
    );
  });

  // Before /:jobId: "counts" is no job id a submit accepts.
  router.get('/counts', async (ctx) => {
    const query = parseQuery(JobFilterQuery, ctx.query);
    await checkTypeFilter(query.type);
    ctx.body = await jobs.list.counts(tenantOf(ctx), query);
  });

  router.post('/', async (ctx) => {
    const tenant = tenantOf(ctx);
    const query = parseQuery(WaitQuery, ctx.query, waitHint);
    // Taken before the body is read: a refused submit made nothing.
    const releaseWait = query.wait ? waits.take(tenant) : undefined;
    try {
      const raw = await readJsonBody(ctx, bodyLimitBytes);
      if (raw === undefined) throw new RequestInvalidError('a JSON body is required');
      const body = parse(SubmitJobBody, raw);

      const { request, submitted } = await submitJob(deps, tenant, body);
      const waited = await waitWhileAsked(ctx, closing, (until) =>
        jobs.waits.waitForFinish(tenant, request.jobId, query.wait ?? 0, until),
      );
      const finished = waited !== undefined && isFinished(waited.status);
      ctx.status = finished || !submitted.created ? 200 : 202;
      ctx.set('Location', jobPath(request.jobId));
      ctx.type = 'application/json';
      // The state the job's first poll is answered with (reads keep it), so its JSON is written for both at once.
      ctx.body = await jobJson.answer(tenant, waited ?? submitted.state);
    } finally {
      releaseWait?.();
    }
  });

  router.get('/:jobId', async (ctx) => {
    const tenant = tenantOf(ctx);
    metrics.jobPolls.inc();
    const state = await jobs.reads.read(tenant, parseJobId(ctx.params['jobId']), pollMaxAgeMs);
    ctx.type = 'application/json';
    ctx.body = await jobJson.answer(tenant, state);
  });

  router.get('/:jobId/logs', async (ctx) => {
    const tenant = tenantOf(ctx);
    const jobId = parseJobId(ctx.params['jobId']);
    ctx.body = await jobs.logs.page(tenant, jobId, parseQuery(JobLogsQuery, ctx.query));
  });

  router.get('/:jobId/events', async (ctx) => {
    const tenant = tenantOf(ctx);
    const jobId = parseJobId(ctx.params['jobId']);
    const release = feeds.admit(tenant);
    try {
      // A poll's read: streams opened together on one job share it, as they share the feed's reads after.
      feeds.stream(ctx, { tenant, jobId }, await jobs.reads.read(tenant, jobId, pollMaxAgeMs), release);
    } catch (err) {
      release();
      throw err;
    }
  });

  router.post('/:jobId/retry', async (ctx) => {
    const tenant = tenantOf(ctx);
    const jobId = parseJobId(ctx.params['jobId']);
    await admitSubmits(tenant, 1);
    const state = await jobs.commands.retry(tenant, jobId);
    ctx.status = 202;
    ctx.set('Location', jobPath(jobId));
    ctx.type = 'application/json';
    ctx.body = await jobJson.answer(tenant, state);
  });

  router.delete('/:jobId', async (ctx) => {
    await jobs.commands.delete(tenantOf(ctx), parseJobId(ctx.params['jobId']));
    ctx.status = 204;
  });

  router.post('/:jobId/cancel', async (ctx) => {
    const tenant = tenantOf(ctx);
    const jobId = parseJobId(ctx.params['jobId']);
    const state = await jobs.commands.cancel(tenant, jobId);
    metrics.jobCancels.inc();
    ctx.status = 202;
    ctx.type = 'application/json';
    ctx.body = await jobJson.answer(tenant, state);
  });

  return router;
}

/** How many items of a batch are submitted at once. */
const batchConcurrency = 8;

export function jobBatchesRouter(deps: JobsRoutesDeps): Router {
  const router = createRouter('/api/v1/job-batches');
  router.post('/', async (ctx) => {
    const tenant = tenantOf(ctx);
    const raw = await readJsonBody(ctx, deps.bodyLimitBytes);
    const { jobs: items } = parse(JobBatchBody, raw ?? {});
    const results: unknown[] = new Array(items.length);
    // Items of one jobId go in their order, the first making the job: run at once, whichever started first won.
    const lastOfJobId = new Map<string, Promise<unknown>>();
    const submitItem = async (index: number): Promise<void> => {
      try {
        const body = parse(SubmitJobBody, items[index]);
        const earlier = body.jobId === undefined ? undefined : lastOfJobId.get(body.jobId);
        const submitting = (async () => {
          await earlier;
          return submitJob(deps, tenant, body);
        })();
        if (body.jobId !== undefined)
          lastOfJobId.set(
            body.jobId,
            submitting.catch(() => undefined),
          );
        const { submitted } = await submitting;
        const job = deps.jobs.toJson(tenant, submitted.state);
        results[index] = { index, status: submitted.created ? 202 : 200, job };
      } catch (err) {
        const refusal = toApiError(err);
        if (!refusal) ctx.app.emit('error', err, ctx);
        const error = refusal ?? new ApiError('internal', 'internal error');
        results[index] = { index, status: error.status, ...errorBody(error.code, error.message, error.details) };
      }
    };
    let next = 0;
    // Each item stands alone: its refusal is its own result, and the others go on.
    const lane = async (): Promise<void> => {
      for (let index = next++; index < items.length; index = next++) await submitItem(index);
    };
    await Promise.all(Array.from({ length: Math.min(batchConcurrency, items.length) }, lane));
    ctx.body = { results };
  });
  return router;
}

export function schedulesRouter(
  deps: JobsRoutesDeps & { readonly schedulesOf: (tenant: string) => Schedules },
): Router {
  const router = createRouter('/api/v1/schedules');
  const schedulesFor = (ctx: Context): Schedules => deps.schedulesOf(tenantOf(ctx));
  const scheduleIdOf = (ctx: Context & { params: Record<string, string | undefined> }): string =>
    parse(ScheduleId, ctx.params['scheduleId'], ['scheduleId']);
  router.post('/', async (ctx) => {
    const body = parse(CreateScheduleBody, (await readJsonBody(ctx, deps.bodyLimitBytes)) ?? {});
    ctx.status = 201;
    ctx.set('Location', `/api/v1/schedules/${encodeURIComponent(body.scheduleId)}`);
    ctx.body = await schedulesFor(ctx).create(body);
  });
  router.get('/', async (ctx) => {
    ctx.body = { schedules: await schedulesFor(ctx).list() };
  });
  router.get('/:scheduleId', async (ctx) => {
    ctx.body = await schedulesFor(ctx).get(scheduleIdOf(ctx));
  });
  router.delete('/:scheduleId', async (ctx) => {
    await schedulesFor(ctx).delete(scheduleIdOf(ctx));
    ctx.status = 204;
  });
  router.post('/:scheduleId/pause', async (ctx) => {
    ctx.body = await schedulesFor(ctx).pause(scheduleIdOf(ctx), true);
  });
  router.post('/:scheduleId/unpause', async (ctx) => {
    ctx.body = await schedulesFor(ctx).pause(scheduleIdOf(ctx), false);
  });
  router.post('/:scheduleId/trigger', async (ctx) => {
    ctx.body = await schedulesFor(ctx).trigger(scheduleIdOf(ctx));
  });
  return router;
}

/** A job type as GET /api/v1/job-types lists it: its declaration in force and who serves it. */
export function jobTypeJson({ declaration, revision, workers, liveVariants }: JobTypeView) {
  return {
    name: declaration.name,
    description: declaration.description,
    inputSchema: declaration.inputSchema,
    resultSchema: declaration.resultSchema,
    defaults: declaration.defaults,
    ...(declaration.defaultsWhen ? { defaultsWhen: declaration.defaultsWhen } : {}),
    revision,
    workers,
    liveVariants,
  };
}

export function jobTypesRouter(jobTypes: RegisteredJobTypes): Router {
  const router = createRouter('/api/v1/job-types');
  router.get('/', async (ctx) => {
    ctx.body = { types: (await jobTypes.all()).map(jobTypeJson) };
  });
  return router;
}
