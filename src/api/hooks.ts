// Inbound webhooks (docs/api.md, "Inbound webhooks"): a tenant defines hooks; a hook's sender POSTs to its public path,
// signed with the hook's secret, and each delivery is submitted as a job of the hook's type.
import { createHash } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { z } from 'zod';
import {
  CreateHookBody,
  DeliveryId,
  HookId,
  hookIdPattern,
  hookPath,
  UpdateHookBody,
  type Hook,
  type HookDelivery,
  type StoredHook,
} from '../contract/hooks.js';
import { jobPath } from '../contract/job-json.js';
import { HookNotFoundError, type HookDirectory } from '../jobs/hooks.js';
import { createRouter, tenantOf } from './access.js';
import { hasBody, parseJsonBytes, readBody, readJsonBody, UnsupportedMediaTypeError } from './body.js';
import { ApiError, JobConflictError, RequestInvalidError } from './errors.js';
import { deliveryBodyHelp, formMediaType, formPayload, stripeEventId } from './hook-bodies.js';
import { githubSignatureHeader, signatureRefusal } from './hook-signatures.js';
import { submitJob, type JobsRoutesDeps } from './jobs-routes.js';

/** Thrown when a delivery's signature does not prove its sender holds the hook's secret. */
export class HookSignatureError extends ApiError {
  override readonly name = 'HookSignatureError';
  constructor(reason: string) {
    super('unauthorized', reason);
  }
}

/** Thrown when a delivery comes for a disabled hook. */
export class HookDisabledError extends ApiError {
  override readonly name = 'HookDisabledError';
  constructor(hookId: string) {
    super('conflict', `hook "${hookId}" is disabled; enable it with PATCH ${hookPath(hookId)} {"enabled":true}`);
  }
}

/** The headers whose value names a delivery, so that a redelivery is the same job (after a Stripe event id). */
const deliveryIdHeaders = ['x-github-delivery', 'idempotency-key'];

function parse<T>(schema: z.ZodType<T>, raw: unknown, path: string[] = []): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw RequestInvalidError.fromZod(parsed.error, path);
  return parsed.data;
}

export function hookJson(hook: StoredHook): Hook {
  return {
    hookId: hook.hookId,
    url: hookPath(hook.hookId),
    type: hook.type,
    inputFrom: hook.inputFrom,
    priority: hook.priority,
    enabled: hook.enabled,
    description: hook.description,
    createdAt: hook.createdAt,
    updatedAt: hook.updatedAt,
  };
}

/** The value at an RFC 6901 JSON pointer, or undefined when it leads nowhere. */
export function valueAtPointer(document: unknown, pointer: string): unknown {
  if (pointer === '') return document;
  let current = document;
  for (const token of pointer.slice(1).split('/')) {
    const key = token.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(current)) {
      if (!/^(0|[1-9]\d*)$/.test(key)) return undefined;
      current = current[Number(key)];
    } else if (current !== null && typeof current === 'object' && Object.hasOwn(current, key)) {
      current = (current as Record<string, unknown>)[key];
    } else return undefined;
  }
  return current;
}

/** The job's input from a delivery's body: the whole body, or the hook's fields picked out of it. */
export function hookInput(inputFrom: StoredHook['inputFrom'], body: unknown): unknown {
  if (!inputFrom) return body;
  return Object.fromEntries(
    Object.entries(inputFrom)
      .map(([field, pointer]) => [field, valueAtPointer(body, pointer)] as const)
      .filter(([, value]) => value !== undefined),
  );
}

/** The job id of a delivery with an id: the same for a redelivery, and no other hook's (nor guessable from outside). */
export function deliveryJobId(hookId: string, deliveryId: string): string {
  return `hook-${createHash('sha256').update(`${hookId}\n${deliveryId}`).digest('hex').slice(0, 40)}`;
}

/**
 * What names a delivery: the event id of a delivery signed as Stripe signs, else a delivery id header. The event id
 * first: it is signed and a header is not, so a captured delivery replayed within the signature's window with a new
 * header is still the first job.
 */
function deliveryIdOf(ctx: Context, body: unknown): string | undefined {
  const eventId = ctx.req.headers[githubSignatureHeader] === undefined ? stripeEventId(body) : undefined;
  if (eventId !== undefined) return parse(DeliveryId, eventId, ['id']);
  for (const header of deliveryIdHeaders) {
    const value = ctx.get(header);
    if (value !== '') return parse(DeliveryId, value, [header]);
  }
  return undefined;
}

/**
 * A delivery's raw bytes, JSON or GitHub's form (415 for anything else, before it is read); a form only in UTF-8, the
 * one charset its payload is decoded in.
 */
async function readDeliveryBytes(ctx: Context, limitBytes: number): Promise<Buffer | undefined> {
  if (!hasBody(ctx)) return undefined;
  const contentType = ctx.get('content-type') || '(none)';
  if (ctx.is(formMediaType)) {
    if (!['', 'utf-8', 'utf8'].includes(ctx.request.charset.toLowerCase()))
      throw new UnsupportedMediaTypeError(contentType, deliveryBodyHelp);
  } else if (!ctx.is('application/json')) throw new UnsupportedMediaTypeError(contentType, deliveryBodyHelp);
  return readBody(ctx, limitBytes);
}

export interface HooksRoutesDeps extends JobsRoutesDeps {
  readonly hooks: HookDirectory;
  readonly now?: () => number;
}

export function hooksRouter(deps: HooksRoutesDeps): Router {
  const { hooks, jobTypes, bodyLimitBytes } = deps;
  const now = deps.now ?? Date.now;
  const router = createRouter('/api/v1/hooks');
  const refOf = (ctx: Context & { params: Record<string, string | undefined> }) => ({
    tenant: tenantOf(ctx),
    hookId: parse(HookId, ctx.params['hookId'], ['hookId']),
  });

  router.post('/', async (ctx) => {
    const tenant = tenantOf(ctx);
    const body = parse(CreateHookBody, (await readJsonBody(ctx, bodyLimitBytes)) ?? {});
    if (!(await jobTypes.find(body.type))) {
      const known = (await jobTypes.all()).map((view) => view.declaration.name).join(', ') || 'none yet';
      throw new RequestInvalidError(`type: unknown job type "${body.type}"; known: ${known}`);
    }
    const hook = await hooks.create(tenant, body);
    ctx.status = 201;
    ctx.set('Location', hookPath(hook.hookId));
    ctx.body = { ...hookJson(hook), secret: hook.secret };
  });

  router.get('/', async (ctx) => {
    ctx.body = { hooks: (await hooks.list(tenantOf(ctx))).map(hookJson) };
  });

  router.get('/:hookId', async (ctx) => {
    ctx.body = hookJson(await hooks.get(refOf(ctx)));
  });

  router.patch('/:hookId', async (ctx) => {
    const ref = refOf(ctx);
    // Another tenant's hook answers 404 whatever the body, as a missing one does.
    await hooks.get(ref);
    const { enabled } = parse(UpdateHookBody, (await readJsonBody(ctx, bodyLimitBytes)) ?? {});
    ctx.body = hookJson(await hooks.setEnabled(ref, enabled));
  });

  router.delete('/:hookId', async (ctx) => {
    await hooks.delete(refOf(ctx));
    ctx.status = 204;
  });

  // The public path (src/api/access.ts): no API key, so nothing here reads the tenant from the request.
  router.post('/:hookId', async (ctx) => {
    const hookId = ctx.params['hookId'] ?? '';
    const known = hookIdPattern.test(hookId) ? await hooks.forDelivery(hookId) : null;
    if (!known) throw new HookNotFoundError(hookId);
    const raw = (await readDeliveryBytes(ctx, bodyLimitBytes)) ?? Buffer.alloc(0);
    // The body may take minutes to arrive: the hook is looked up again once it has, so that a hook deleted or disabled
    // meanwhile (a leaked secret's) refuses it as it refuses a delivery sent after.
    const hook = await hooks.forDelivery(hookId);
    if (!hook) throw new HookNotFoundError(hookId);
    const refusal = signatureRefusal(hook.secret, raw, ctx.req.headersDistinct, now());
    if (refusal) throw new HookSignatureError(refusal);
    if (!hook.enabled) throw new HookDisabledError(hookId);
    if (raw.length === 0) throw new RequestInvalidError(`a body is required: ${deliveryBodyHelp}`);
    const body = ctx.is(formMediaType) ? formPayload(raw) : parseJsonBytes(raw);
    const deliveryId = deliveryIdOf(ctx, body);
    const { request, submitted } = await submitJob(deps, hook.tenant, {
      type: hook.type,
      input: hookInput(hook.inputFrom, body),
      priority: hook.priority,
      ...(deliveryId === undefined ? {} : { jobId: deliveryJobId(hookId, deliveryId) }),
    }).catch((err: unknown) => {
      if (err instanceof JobConflictError && deliveryId !== undefined)
        throw new JobConflictError(err.jobId, `delivery "${deliveryId}" was received before with a different body`);
      throw err;
    });
    ctx.status = 202;
    ctx.set('Location', jobPath(request.jobId));
    ctx.body = { jobId: request.jobId, status: submitted.state.status } satisfies HookDelivery;
  });

  return router;
}
