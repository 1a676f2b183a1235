import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import Koa from 'koa';
import type { Config } from '../config.js';
import { errorBody, errorResponses, isTemporalUnreachable } from './errors.js';
import { Jobs, temporalDeadlineMs } from './jobs.js';
import { jobsRouter, jobTypesRouter } from './jobs-routes.js';
import { queueFigures } from './queues.js';

export interface AppDeps {
  readonly client: Client;
  readonly config: Pick<Config, 'TEMPORAL_NAMESPACE' | 'TEMPORAL_UI_URL' | 'JOBS_TASK_QUEUE_PREFIX' | 'JOBS_COMMANDS_DIR' | 'BODY_LIMIT_BYTES'>;
  readonly onError?: (err: unknown) => void;
}

const readinessDeadlineMs = 2000;

function healthRouter(deps: AppDeps): Router {
  const router = new Router();
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
      const reason = isTemporalUnreachable(err) ? 'Temporal is unreachable' : `namespace "${namespace}" is not available: ${(err as Error).message}`;
      ctx.body = errorBody('unavailable', reason);
    }
  });
  return router;
}

function queuesRouter(deps: AppDeps): Router {
  const router = new Router();
  router.get('/api/v1/queues', async (ctx) => {
    ctx.body = {
      queues: await queueFigures({
        client: deps.client,
        namespace: deps.config.TEMPORAL_NAMESPACE,
        taskQueuePrefix: deps.config.JOBS_TASK_QUEUE_PREFIX,
      }),
    };
  });
  return router;
}

/** The gateway, built without listening: the entry file (or a test) decides where it serves. */
export function createApp(deps: AppDeps): Koa {
  const jobs = new Jobs({
    client: deps.client,
    namespace: deps.config.TEMPORAL_NAMESPACE,
    taskQueuePrefix: deps.config.JOBS_TASK_QUEUE_PREFIX,
    uiUrl: deps.config.TEMPORAL_UI_URL,
    jobTypeSettings: { commandsDir: deps.config.JOBS_COMMANDS_DIR },
  });
  const routers = [healthRouter(deps), jobsRouter(jobs, deps.config.BODY_LIMIT_BYTES), jobTypesRouter(), queuesRouter(deps)];

  const app = new Koa();
  app.on('error', (err: unknown) => {
    // A client that goes away mid-response (an event stream closed) is not the server's error.
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET') return;
    (deps.onError ?? console.error)(err);
  });
  app.use(errorResponses);
  // Every call to Temporal made while serving one request shares a deadline, so an outage is a prompt 503.
  app.use((ctx, next) => deps.client.connection.withDeadline(Date.now() + temporalDeadlineMs, next));
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
