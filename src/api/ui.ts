// The job dashboard (issue 23): the gateway serves the single-page app that dev/build-ui.ts builds from ui/ at
// build time. Every page under /ui/ answers the same HTML shell (so a deep link survives a reload), which holds no
// tenant's data: the app asks the REST API for everything, with the key the user signs in with.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Context, Next } from 'koa';
import { errorBody } from './errors.js';

/** Where dev/build-ui.ts writes the dashboard, relative to the working directory (as WORKFLOW_BUNDLE_DIR is). */
export const dashboardDir = 'dist/ui';

const assetsPath = '/ui/assets/';

/** The built files besides the shell, each with its content type: nothing else under assetsPath is served. */
const assetTypes: ReadonlyMap<string, string> = new Map([
  ['app.js', 'application/javascript; charset=utf-8'],
  ['app.css', 'text/css; charset=utf-8'],
]);

type Served = { readonly redirect: string } | { readonly file: string; readonly type: string };

/** What a GET of `path` serves: a redirect, a built file with its type, or nothing when the path is not the dashboard's. */
function servedAt(path: string): Served | undefined {
  if (path === '/' || path === '/ui') return { redirect: '/ui/' };
  if (!path.startsWith('/ui/')) return undefined;
  if (!path.startsWith(assetsPath)) return { file: 'index.html', type: 'text/html; charset=utf-8' };
  const asset = path.slice(assetsPath.length);
  const type = assetTypes.get(asset);
  return type === undefined ? undefined : { file: asset, type };
}

// The app loads only its own files and talks only to this origin; nothing may frame it (it holds an API key).
const shellHeaders = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

function isMissing(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'ENOENT';
}

/** Serves `/` (a redirect), `/ui/assets/*` and, for every other path under `/ui/`, the app's HTML shell. */
export function dashboard(dir = resolve(dashboardDir)) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const served = ctx.method === 'GET' || ctx.method === 'HEAD' ? servedAt(ctx.path) : undefined;
    if (served === undefined) {
      await next();
      return;
    }
    if ('redirect' in served) {
      ctx.redirect(served.redirect);
      return;
    }
    try {
      ctx.body = await readFile(join(dir, served.file));
    } catch (err) {
      if (!isMissing(err)) throw err;
      ctx.status = 503;
      ctx.body = errorBody(
        'unavailable',
        `the dashboard is not built (no ${join(dir, served.file)}): run npm run build:ui`,
      );
      return;
    }
    ctx.type = served.type;
    ctx.set(shellHeaders);
  };
}
