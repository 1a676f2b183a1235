import type { Client } from '@temporalio/client';
import { ApiError } from './errors.js';
import { unfinishedJobsQuery } from '../workflows/search-attributes.js';

/** Thrown when a tenant submits faster than its rate or has too many unfinished jobs. */
export class RateLimitedError extends ApiError {
  override readonly name = 'RateLimitedError';
  constructor(message: string, retryAfterSeconds: number) {
    super('rate_limited', message, undefined, {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
  }
}

/**
 * A token bucket per tenant, in this process's memory: with several API replicas each enforces the rate
 * on its own share of the traffic.
 */
export class SubmitRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes `count` tokens, or throws with the seconds until there are enough. */
  take(tenant: string, count = 1): void {
    const now = this.now();
    const bucket = this.buckets.get(tenant) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.perSecond);
    bucket.updatedAt = now;
    this.buckets.set(tenant, bucket);
    if (bucket.tokens < count) {
      throw new RateLimitedError(
        `tenant "${tenant}" submits faster than ${this.perSecond}/s`,
        (count - bucket.tokens) / this.perSecond,
      );
    }
    bucket.tokens -= count;
  }
}

/**
 * The cap on a tenant's unfinished jobs, counted by Temporal's visibility so it holds across API replicas
 * (visibility lags by moments, so a burst can overshoot it slightly).
 */
export async function checkUnfinishedCap(client: Client, tenant: string, cap: number, adding = 1): Promise<void> {
  const { count } = await client.workflow.count(unfinishedJobsQuery(tenant));
  if (count + adding > cap) {
    throw new RateLimitedError(`tenant "${tenant}" has ${count} unfinished jobs; the cap is ${cap}`, 5);
  }
}
