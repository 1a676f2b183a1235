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
 * What one tenant may hold at once on this process (open event streams, held `?wait`s), counted per tenant so that
 * one tenant's flood leaves the others theirs.
 */
export class TenantPlaces {
  private readonly held = new Map<string, number>();

  constructor(
    private readonly max: number,
    /** Why a place is refused to a tenant holding `held` of them, and what to do instead. */
    private readonly refusal: (tenant: string, held: number) => string,
  ) {}

  /** Takes one of the tenant's places, or throws RateLimitedError at the cap; the function it answers gives it back (once, however often it is called). */
  take(tenant: string): () => void {
    const held = this.held.get(tenant) ?? 0;
    if (held >= this.max) throw new RateLimitedError(this.refusal(tenant, held), 5);
    this.held.set(tenant, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.held.get(tenant) ?? 1) - 1;
      if (left > 0) this.held.set(tenant, left);
      else this.held.delete(tenant);
    };
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
