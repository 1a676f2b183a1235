import type Router from '@koa/router';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { decode, encode } from '@temporalio/common/lib/internal-non-workflow/index.js';
import type { Context, Next } from 'koa';
import { CodecPayloads, codecEndpointPath, type CodecPayload } from '../contract/codec.js';
import { createRouter, tenantOf } from './access.js';
import { readJsonBody } from './body.js';
import { ApiError, RequestInvalidError } from './errors.js';

const codecPaths: ReadonlySet<string> = new Set([`${codecEndpointPath}/encode`, `${codecEndpointPath}/decode`]);

function fromJson(payload: CodecPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): CodecPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([name, value]) => [
        name,
        Buffer.from(value ?? []).toString('base64'),
      ]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

/** Thrown by the codec routes when the caller's tenant is not one of CODEC_TENANTS. */
export class CodecTenantForbiddenError extends ApiError {
  override readonly name = 'CodecTenantForbiddenError';
  constructor(readonly tenant: string) {
    super('forbidden', `tenant "${tenant}" may not use the codec endpoint (CODEC_TENANTS)`);
  }
}

export interface CodecRoutesDeps {
  readonly codecs: PayloadCodec[];
  readonly bodyLimitBytes: number;
  /**
   * The tenants that may call the routes (CODEC_TENANTS), or undefined for every caller (the API is open). Payloads
   * are not per tenant: whoever may decode may read every tenant's stored data, and encode with the service's key.
   */
  readonly tenants: ReadonlySet<string> | undefined;
}

/**
 * Temporal's remote codec protocol over the service's own codecs (those of the API's client), so the Web
 * UI shows encrypted payloads decoded. It sits under /api/v1: the API keys guard it like every route, and
 * only operators' tenants (CODEC_TENANTS) pass.
 */
export function codecRouter(deps: CodecRoutesDeps): Router {
  const router = createRouter();
  for (const [direction, run] of [
    ['encode', encode],
    ['decode', decode],
  ] as const) {
    router.post(`${codecEndpointPath}/${direction}`, async (ctx) => {
      const tenant = tenantOf(ctx);
      if (deps.tenants && !deps.tenants.has(tenant)) throw new CodecTenantForbiddenError(tenant);
      const parsed = CodecPayloads.safeParse(await readJsonBody(ctx, deps.bodyLimitBytes));
      if (!parsed.success) throw RequestInvalidError.fromZod(parsed.error);
      let payloads: Payload[];
      try {
        payloads = await run(deps.codecs, parsed.data.payloads.map(fromJson));
      } catch (err) {
        // A payload of another key, or tampered with: the caller's data, not the server's fault.
        throw new RequestInvalidError(`cannot ${direction} the payloads: ${(err as Error).message}`);
      }
      const body: CodecPayloads = { payloads: payloads.map(toJson) };
      ctx.body = body;
    });
  }
  return router;
}

/** Whether a request is the Temporal Web UI's call of a codec route: the one cross-site request the API answers CORS for. */
export function fromTemporalUi(uiUrl: string): (ctx: Context) => boolean {
  const uiOrigin = new URL(uiUrl).origin;
  return (ctx) => codecPaths.has(ctx.path) && ctx.get('origin') === uiOrigin;
}

/**
 * CORS for the codec routes, for the Temporal Web UI's origin only. The browser's preflight carries no
 * API key, so it is answered here, before the guard; the POST that follows needs the key as usual.
 */
export function codecCors(uiUrl: string) {
  const uiOrigin = new URL(uiUrl).origin;
  const fromUi = fromTemporalUi(uiUrl);
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!codecPaths.has(ctx.path)) {
      await next();
      return;
    }
    ctx.vary('Origin');
    if (!fromUi(ctx)) {
      await next();
      return;
    }
    ctx.set('Access-Control-Allow-Origin', uiOrigin);
    // The UI may be set to send credentials ("include cross-origin credentials").
    ctx.set('Access-Control-Allow-Credentials', 'true');
    if (ctx.method !== 'OPTIONS') {
      await next();
      return;
    }
    ctx.set('Access-Control-Allow-Methods', 'POST');
    ctx.set('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Namespace');
    ctx.set('Access-Control-Max-Age', '600');
    ctx.status = 204;
  };
}
