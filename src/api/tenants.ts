import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { TenantKey } from '../config.js';
import { ApiError } from './errors.js';
import { defaultTenant } from './jobs.js';

/** Thrown when a request under /api/v1 carries no API key, or one nobody was given. */
export class UnauthorizedError extends ApiError {
  override readonly name = 'UnauthorizedError';
  constructor(message: string) {
    super('unauthorized', message, undefined, { headers: { 'WWW-Authenticate': 'Bearer realm="durable-jobs"' } });
  }
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** The configured keys, compared in constant time: every key is compared, and only digests of equal length. */
export class ApiKeys {
  private readonly entries: ReadonlyArray<{ tenant: string; digest: Buffer }>;

  constructor(keys: readonly TenantKey[]) {
    this.entries = keys.map(({ tenant, key }) => ({ tenant, digest: digest(key) }));
  }

  get open(): boolean {
    return this.entries.length === 0;
  }

  tenantOf(presented: string): string | undefined {
    const candidate = digest(presented);
    let tenant: string | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, candidate)) tenant = entry.tenant;
    }
    return tenant;
  }
}

/** Sets `ctx.state.tenant` from the bearer key, or to the default tenant when the API is open. */
export function authenticate(keys: ApiKeys) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (keys.open) {
      ctx.state['tenant'] = defaultTenant;
      return next();
    }
    const match = /^Bearer ([\x21-\x7e]+)$/i.exec(ctx.get('authorization'));
    if (!match) throw new UnauthorizedError('send an API key as "Authorization: Bearer <key>"');
    const tenant = keys.tenantOf(match[1]!);
    if (!tenant) throw new UnauthorizedError('the API key is not valid');
    ctx.state['tenant'] = tenant;
    return next();
  };
}
