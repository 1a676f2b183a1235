import type { Context, Next } from 'koa';
import type { ErrorBody, ErrorCode } from '../contract/errors.js';
import { ApiError, isTemporalUnavailable, TemporalUnavailableError } from '../jobs/errors.js';
import { quoted } from '../jobs/suggest.js';
import type { Logger } from '../logger.js';

// The refusals are thrown by the jobs module too; the API's files take them from here.
export {
  ApiError,
  isTemporalNotFound,
  isTemporalUnavailable,
  JobConflictError,
  JobNotFoundError,
  JobStartOutcomeUnknownError,
  PayloadTooLargeError,
  RequestInvalidError,
  TemporalUnavailableError,
} from '../jobs/errors.js';

export function errorBody(code: ErrorCode, message: string, details?: unknown[]): ErrorBody {
  return { error: { code, message, ...(details ? { details } : {}) } };
}

/** The refusal an error stands for, or undefined for an unexpected one (a bug: 500). */
export function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (isTemporalUnavailable(err)) return new TemporalUnavailableError(err);
  return undefined;
}

/** Turns every error into the contract's error body, in one place; unexpected ones are logged and hidden. */
export async function errorResponses(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
    if (ctx.body === undefined || ctx.body === null) {
      // The path is the caller's: quoted cut short. The answer says where things are for one who guessed.
      if (ctx.status === 404)
        throw new ApiError(
          'not_found',
          `no route ${ctx.method} ${quoted(ctx.path)}; the API is under /api/v1 (its reference at /docs, ` +
            'the OpenAPI document at /openapi.json), the dashboard at /ui/',
        );
      // The router answers 405 (or 501 for methods it has never heard of) with an Allow header and no body.
      if (ctx.status === 405 || ctx.status === 501)
        throw new ApiError('method_not_allowed', `${ctx.method} is not allowed on ${quoted(ctx.path)}`);
    }
  } catch (err) {
    const apiError = toApiError(err);
    if (apiError) {
      // Which call failed and how is in the cause, which the answer does not carry: the log line does.
      if (apiError instanceof TemporalUnavailableError)
        (ctx.state as { log?: Logger }).log?.warn({ err: apiError.cause }, apiError.message);
      ctx.status = apiError.status;
      ctx.body = errorBody(apiError.code, apiError.message, apiError.details);
      ctx.set(apiError.headers);
      return;
    }
    ctx.status = 500;
    ctx.body = errorBody('internal', 'internal error');
    ctx.app.emit('error', err, ctx);
  }
}
