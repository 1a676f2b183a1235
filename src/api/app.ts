import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type Router from '@koa/router';
import type { Client } from '@temporalio/client';
import Koa, { type Context, type Next } from 'koa';
import { pino } from 'pino';
// Only the assets' folder: the package's main module evaluates the whole Swagger UI bundle (≈ 30 MB of heap).
import swaggerUiAssetsPath from 'swagger-ui-dist/absolute-path.js';
import { hostKey, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import { errorBody, errorResponses, isTemporalUnavailable } from './errors.js';
import { callbackUrlRefusal } from '../activities/callback-target.js';
import { createJobs, ListCursors, ReadCaches, RegisteredJobTypes, TemporalReachability } from '../jobs/index.js';
import { HookDirectory } from '../jobs/hooks.js';
import { hooksRouter } from './hooks.js';
import { jobActionsRouter } from './job-actions.js';
import { jobBatchesRouter, jobsRouter, jobTypesRouter, schedulesRouter, type JobsRoutesDeps } from './jobs-routes.js';
import { ScheduleCreateTurns, type ScheduleLimits } from './schedule-limits.js';
import { Schedules } from './schedules.js';
import { ApiMetrics } from './metrics.js';
import { docsPage, openApiDocument } from './openapi.js';
import { queueFigures } from './queues.js';
import { QueueGauges } from './queue-metrics.js';
import { codecCors, codecRouter, fromTemporalUi } from './codec.js';
import { checkUnfinishedCap, SubmitRateLimiter } from './rate-limits.js';
import { authenticate, createRouter, refuseCrossSiteActions, tenantOf } from './access.js';
import { refuseUnknownHosts } from './allowed-hosts.js';
import { ApiKeys } from './tenants.js';
import { dashboard } from './ui.js';
import { whoamiRouter } from './whoami.js';
import { requestSpans } from '../telemetry/request-spans.js';

export interface AppDeps {
  readonly client: Client;
  readonly config: Pick<
    Config,
    | 'TEMPORAL_NAMESPACE'
    | 'TEMPORAL_UI_URL'
    | 'TRACE_UI_URL'
    | 'JOBS_TASK_QUEUE_PREFIX'
    | 'JOBS_COMMANDS_DIR'
    | 'BODY_LIMIT_BYTES'
    | 'apiKeys'
    | 'RATE_LIMIT_SUBMITS_PER_SEC'
    | 'RATE_LIMIT_BURST'
    | 'MAX_UNFINISHED_JOBS_PER_TENANT'
    | 'SCHEDULE_MIN_INTERVAL_SECONDS'
    | 'MAX_SCHEDULES_PER_TENANT'
    | 'CALLBACK_SECRET'
    | 'CALLBACK_ALLOW_HOSTS'
    | 'CODEC_TENANTS'
    | 'HOST'
    | 'API_ALLOW_HOSTS'
    | 'JOBS_CURSOR_KEY'
    | 'JOBS_READ_CACHE_BYTES'
    | 'JOBS_WORKFLOW_VERSION'
    | 'JOBS_MAX_STREAMS_PER_TENANT'
    | 'JOBS_MAX_WAITS_PER_TENANT'
    | 'JOBS_TYPE_REGISTRY_CACHE_MS'
  >;
  readonly logger?: Logger;
  /** Traces are exported (startTracing): each request gets a span, continuing the caller's `traceparent`. */
  readonly traced?: boolean;
}

/** What every request carries in `ctx.state`. */
export interface RequestState {
  requestId: string;
  log: Logger;
  /** Set by the guard for every request off the public list; read it with `tenantOf`. */
  tenant?: string;
}

const readinessDeadlineMs = 2000;
const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes the caller's X-Request-Id (or makes one), echoes it, and logs the request with it when it ends. */
function requestLogging(logger: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const given = ctx.get('x-request-id');
    const requestId = requestIdPattern.test(given) ? given : randomUUID();
    const state = ctx.state as RequestState;
    state.requestId = requestId;
    state.log = logger.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      state.log.info(
        { method: ctx.method, path: ctx.path, status: ctx.status, durationMs: Math.round(performance.now() - started) },
        'request',
      );
    }
  };
}

function requestMetrics(metrics: ApiMetrics) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const stop = metrics.requestDuration.startTimer();
    try {
      await next();
    } finally {
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      stop({ method: ctx.method, route, status: String(ctx.status) });
    }
  };
}

/**
 * The API reference page takes an API key ("Authorize"): no other site may frame it, to trick a click into it. Its
 * scripts are Swagger UI's own, served beside it, and one inline call.
 */
const docsPageHeaders = {
  'Content-Security-Policy': "frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

function operationsRouter(deps: AppDeps, metrics: ApiMetrics, jobTypes: RegisteredJobTypes): Router {
  const router = createRouter();
  const document = openApiDocument();
  const assets = swaggerUiAssetsPath();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const namespace = deps.config.TEMPORAL_NAMESPACE;
    try {
      await deps.client.connection.withDeadline(Date.now() + readinessDeadlineMs, () =>
        deps.client.workflowService.describeNamespace({ namespace }),
      );
      ctx.body = { status: 'ready', namespace };
    } catch (err) {
      ctx.status = 503;
      const reason = isTemporalUnavailable(err)
        ? 'Temporal is unreachable'
        : `namespace "${namespace}" is not available: ${(err as Error).message}`;
      ctx.body = errorBody('unavailable', reason);
    }
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  router.get('/openapi.json', (ctx) => {
    ctx.body = document;
  });
  router.get('/docs', (ctx) => {
    ctx.type = 'html';
    ctx.set(docsPageHeaders);
    ctx.body = docsPage;
  });
  for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
    router.get(`/docs/assets/${file}`, (ctx) => {
      ctx.type = file.endsWith('.css') ? 'text/css' : 'application/javascript';
      ctx.set('Cache-Control', 'public, max-age=86400');
      ctx.body = createReadStream(join(assets, file));
    });
  }
  router.get('/api/v1/queues', async (ctx) => {
    const queueDeps = {
      client: deps.client,
      namespace: deps.config.TEMPORAL_NAMESPACE,
      taskQueuePrefix: deps.config.JOBS_TASK_QUEUE_PREFIX,
      jobTypes,
    };
    ctx.body = await queueFigures(queueDeps, tenantOf(ctx));
  });
  return router;
}

export interface App {
  readonly koa: Koa;
  readonly metrics: ApiMetrics;
  /** The routers, for the check that the OpenAPI document names every route. */
  readonly routers: readonly Router[];
  /** Ends the event streams, which would otherwise hold their connections open through a shutdown. */
  close(): void;
}

/** The gateway, built without listening: the entry file (or a test) decides where it serves. */
export function createApp(deps: AppDeps): App {
  const logger = deps.logger ?? pino({ level: 'silent' });
  const metrics = new ApiMetrics();
  const closing = new AbortController();
  const allowHosts = deps.config.CALLBACK_ALLOW_HOSTS ?? [];
  const reachability = new TemporalReachability(deps.client, deps.config.TEMPORAL_NAMESPACE);
  // One read of the registry serves every request of the process for a second or two.
  const jobTypes = new RegisteredJobTypes(
    deps.client,
    deps.config.JOBS_TASK_QUEUE_PREFIX,
    reachability,
    deps.config.JOBS_TYPE_REGISTRY_CACHE_MS,
  );
  // Read from Temporal on a scrape of /metrics, at most every 5 s.
  new QueueGauges(
    {
      client: deps.client,
      namespace: deps.config.TEMPORAL_NAMESPACE,
      taskQueuePrefix: deps.config.JOBS_TASK_QUEUE_PREFIX,
      jobTypes,
    },
    metrics.registry,
  );
  const jobs = createJobs({
    client: deps.client,
    namespace: deps.config.TEMPORAL_NAMESPACE,
    uiUrl: deps.config.TEMPORAL_UI_URL,
    traceUrl: deps.config.TRACE_UI_URL,
    requests: {
      findJobType: (name) => jobTypes.find(name),
      jobTypeNames: async () => (await jobTypes.all()).map((view) => view.declaration.name),
      taskQueuePrefix: deps.config.JOBS_TASK_QUEUE_PREFIX,
      ...(deps.config.JOBS_WORKFLOW_VERSION === undefined
        ? {}
        : { commandsVersion: deps.config.JOBS_WORKFLOW_VERSION }),
      callbacks: {
        enabled: Boolean(deps.config.CALLBACK_SECRET),
        refusal: (url) => callbackUrlRefusal(url, allowHosts),
      },
    },
    caches: new ReadCaches({ bytes: deps.config.JOBS_READ_CACHE_BYTES }),
    temporalReads: metrics.temporalReads,
    cursors: new ListCursors(deps.config.JOBS_CURSOR_KEY),
    reachability,
  });
  const rate = deps.config.RATE_LIMIT_SUBMITS_PER_SEC;
  const limiter = rate
    ? new SubmitRateLimiter(rate, deps.config.RATE_LIMIT_BURST ?? Math.max(1, Math.ceil(rate)))
    : undefined;
  const unfinishedCap = deps.config.MAX_UNFINISHED_JOBS_PER_TENANT;
  const jobsRoutes: JobsRoutesDeps = {
    jobs,
    jobTypes,
    metrics,
    bodyLimitBytes: deps.config.BODY_LIMIT_BYTES,
    closing: closing.signal,
    maxStreamsPerTenant: deps.config.JOBS_MAX_STREAMS_PER_TENANT,
    maxWaitsPerTenant: deps.config.JOBS_MAX_WAITS_PER_TENANT,
    // Refused submits start nothing: the checks run before any workflow does.
    admitSubmits: async (tenant, count) => {
      limiter?.take(tenant, count);
      if (unfinishedCap) await checkUnfinishedCap(deps.client, tenant, unfinishedCap, count);
    },
  };
  const scheduleLimits: ScheduleLimits = {
    minIntervalSeconds: deps.config.SCHEDULE_MIN_INTERVAL_SECONDS,
    maxPerTenant: deps.config.MAX_SCHEDULES_PER_TENANT,
    ...(unfinishedCap ? { unfinishedCap } : {}),
    takeToken: (tenant) => limiter?.take(tenant),
    admitRun: (tenant) => jobsRoutes.admitSubmits(tenant, 1),
    createTurns: new ScheduleCreateTurns(),
  };
  const apiKeys = new ApiKeys(deps.config.apiKeys);
  const routers = [
    operationsRouter(deps, metrics, jobTypes),
    jobActionsRouter(jobsRoutes),
    jobsRouter(jobsRoutes),
    jobBatchesRouter(jobsRoutes),
    schedulesRouter({
      ...jobsRoutes,
      schedulesOf: (tenant) => new Schedules(deps.client, jobs.requests, scheduleLimits, tenant),
    }),
    jobTypesRouter(jobTypes),
    hooksRouter({ ...jobsRoutes, hooks: new HookDirectory(deps.client, deps.config.JOBS_TASK_QUEUE_PREFIX) }),
    whoamiRouter(),
    codecRouter({
      codecs: deps.client.options.loadedDataConverter.payloadCodecs,
      bodyLimitBytes: deps.config.BODY_LIMIT_BYTES,
      tenants: apiKeys.open ? undefined : new Set(deps.config.CODEC_TENANTS),
    }),
  ];

  const koa = new Koa();
  koa.on('error', (err: unknown, ctx?: Context) => {
    // A client that goes away mid-response (an event stream closed) is not the server's error.
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET') return;
    ((ctx?.state as RequestState | undefined)?.log ?? logger).error({ err }, 'request failed');
  });
  if (deps.traced) koa.use(requestSpans());
  koa.use(requestLogging(logger));
  koa.use(requestMetrics(metrics));
  koa.use(errorResponses);
  // Without keys, the name the API is called under is what tells a rebinding page from its owner (allowed-hosts.ts).
  if (apiKeys.open)
    koa.use(
      refuseUnknownHosts([
        ...(deps.config.API_ALLOW_HOSTS ?? []),
        ...(deps.config.HOST === undefined ? [] : [hostKey(deps.config.HOST)]),
      ]),
    );
  koa.use(codecCors(deps.config.TEMPORAL_UI_URL));
  koa.use(authenticate(apiKeys));
  koa.use(refuseCrossSiteActions(fromTemporalUi(deps.config.TEMPORAL_UI_URL)));
  for (const router of routers) {
    koa.use(router.routes());
    koa.use(router.allowedMethods());
  }
  koa.use(dashboard());
  return { koa, metrics, routers, close: () => closing.abort() };
}
