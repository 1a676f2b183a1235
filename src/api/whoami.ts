import type Router from '@koa/router';
import type { Whoami } from '../contract/whoami.js';
import { createRouter, tenantOf } from './access.js';

/** `GET /api/v1/whoami`: which tenant a key acts as, so that a client (the dashboard) can show it. */
export function whoamiRouter(): Router {
  const router = createRouter();
  router.get('/api/v1/whoami', (ctx) => {
    const body: Whoami = { tenant: tenantOf(ctx) };
    ctx.body = body;
  });
  return router;
}
