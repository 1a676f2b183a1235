import { createHash, timingSafeEqual } from 'node:crypto';
import type { TenantKey } from '../config.js';
import { ApiError } from './errors.js';

/** Thrown when a request off the public list carries no API key, or one nobody was given. */
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
