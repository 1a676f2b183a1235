import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { hookDeliveryPath } from '../contract/hooks.js';
import { defaultTenant } from '../workflows/job-state.js';
import { ApiError } from './errors.js';
import { UnauthorizedError, type ApiKeys } from './tenants.js';

/**
 * The only requests served without an API key, matched exactly (method and path, letter case included):
 * probes, metrics, the API's own documentation, the dashboard's static files, and a hook's delivery (below).
 * Everything else, however it is spelled, needs a key.
 */
const publicRoutes: ReadonlySet<string> = new Set(
  [
    '/healthz',
    '/readyz',
    '/metrics',
    '/openapi.json',
    '/docs',
    '/docs/assets/swagger-ui.css',
    '/docs/assets/swagger-ui-bundle.js',
    '/',
    '/ui',
    '/ui/',
    '/ui/queues',
    '/ui/schedules',
    '/ui/run',
    '/ui/assets/app.js',
    '/ui/assets/app.css',
  ].flatMap((path) => [`GET ${path}`, `HEAD ${path}`]),
);

/** A job's page in the dashboard (src/api/ui.ts): the same static shell as /ui/, so that a deep link loads signed out. */
const dashboardJobPage = /^\/ui\/jobs\/[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function isPublicRoute(method: string, path: string): boolean {
  return (
    publicRoutes.has(`${method} ${path}`) ||
    ((method === 'GET' || method === 'HEAD') && dashboardJobPage.test(path)) ||
    // A hook's delivery proves itself by its signature (src/api/hooks.ts): only POST, only this exact spelling.
    (method === 'POST' && hookDeliveryPath.test(path))
  );
}

/**
 * Every router of the gateway: routes match with their letter case, so the path a route sees is the path
 * the guard saw (the router's default would serve `/API/v1/jobs` as `/api/v1/jobs`).
 */
export function createRouter(prefix?: string): Router {
  return new Router({ ...(prefix === undefined ? {} : { prefix }), sensitive: true });
}

/**
 * Deny by default: a request that is not on the public list carries a valid key, whose tenant it acts
 * as (or, with no keys configured, acts as tenant `default`).
 */
export function authenticate(keys: ApiKeys) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (isPublicRoute(ctx.method, ctx.path)) {
      await next();
      return;
    }
    if (keys.open) {
      ctx.state['tenant'] = defaultTenant;
      await next();
      return;
    }
    const match = /^Bearer ([\x21-\x7e]+)$/i.exec(ctx.get('authorization'));
    if (!match) throw new UnauthorizedError('send an API key as "Authorization: Bearer <key>"');
    const tenant = keys.tenantOf(match[1]!);
    if (!tenant) throw new UnauthorizedError('the API key is not valid');
    ctx.state['tenant'] = tenant;
    await next();
  };
}

/** Thrown when a browser sends a request that acts (any method but GET, HEAD, OPTIONS) from a page of another site. */
export class CrossSiteRequestError extends ApiError {
  override readonly name = 'CrossSiteRequestError';
  constructor(method: string) {
    super(
      'forbidden',
      `a page of another site may not ${method} here through its visitor's browser (Sec-Fetch-Site: cross-site); ` +
        'act from the dashboard at /ui/, or call the API from outside a browser',
    );
  }
}

const readingMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * No page of another site acts through its visitor's browser. Such a page cannot read an answer (no CORS), but a form
 * or a no-cors fetch still sends a POST without a body: with no API keys (open on loopback, as `npm start` runs it)
 * any site a developer opened could cancel and retry their jobs and trigger their schedules. Browsers say where a
 * request comes from in Sec-Fetch-Site; other clients send none. `allowed` names the cross-site requests the API
 * answers CORS for (the Temporal Web UI's calls of the codec routes).
 */
export function refuseCrossSiteActions(allowed: (ctx: Context) => boolean) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (
      ctx.get('sec-fetch-site') === 'cross-site' &&
      !readingMethods.has(ctx.method) &&
      !isPublicRoute(ctx.method, ctx.path) &&
      !allowed(ctx)
    )
      throw new CrossSiteRequestError(ctx.method);
    await next();
  };
}

/** Thrown when a tenant's route runs for a request the guard did not authenticate: a bug, never a default. */
export class TenantMissingError extends Error {
  override readonly name = 'TenantMissingError';
}

/** The tenant the request acts as, as the guard set it. */
export function tenantOf(ctx: Context): string {
  const tenant: unknown = ctx.state['tenant'];
  if (typeof tenant !== 'string' || tenant === '')
    throw new TenantMissingError(`${ctx.method} ${ctx.path} reached a tenant's route unauthenticated`);
  return tenant;
}
