import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import Koa from 'koa';
import type { Config } from '../config.js';
import { errorBody, errorResponses, isTemporalUnreachable } from './errors.js';
import { Jobs } from './jobs.js';
import { jobsRouter } from './jobs-routes.js';

export interface AppDeps {
  readonly client: Client;
  readonly config: Pick<Config, 'TEMPORAL_NAMESPACE' | 'TEMPORAL_UI_URL' | 'JOBS_TASK_QUEUE_PREFIX' | 'JOBS_COMMANDS_DIR' | 'BODY_LIMIT_BYTES'>;
  readonly onError?: (err: unknown) => void;
}

/** Every call to Temporal made while serving one request shares this deadline, so an outage is a prompt 503. */
const temporalDeadlineMs = 5000;
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

/** The gateway, built without listening: the entry file (or a test) decides where it serves. */
export function createApp(deps: AppDeps): Koa {
  const jobs = new Jobs({
    client: deps.client,
    namespace: deps.config.TEMPORAL_NAMESPACE,
    taskQueuePrefix: deps.config.JOBS_TASK_QUEUE_PREFIX,
    uiUrl: deps.config.TEMPORAL_UI_URL,
    jobTypeSettings: { commandsDir: deps.config.JOBS_COMMANDS_DIR },
  });
  const routers = [healthRouter(deps), jobsRouter(jobs, deps.config.BODY_LIMIT_BYTES)];

  const app = new Koa();
  app.on('error', (err: unknown) => (deps.onError ?? console.error)(err));
  app.use(errorResponses);
  app.use((ctx, next) => deps.client.connection.withDeadline(Date.now() + temporalDeadlineMs, next));
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
