// What bounds a tenant's schedules: how often they may fire, how many it may have, and the turns that make the count
// hold within one API process.
import { ApiError } from './errors.js';

/** Thrown by a schedule's create when its tenant already has as many schedules as MAX_SCHEDULES_PER_TENANT allows. */
export class ScheduleLimitReachedError extends ApiError {
  override readonly name = 'ScheduleLimitReachedError';
  constructor(
    readonly tenant: string,
    readonly limit: number,
  ) {
    // A conflict with what the tenant has, not a rate: waiting does not lift it, deleting a schedule does.
    super(
      'conflict',
      `tenant "${tenant}" has ${limit} schedules, the most MAX_SCHEDULES_PER_TENANT (${limit}) allows; delete one first`,
    );
  }
}

/** Runs each tenant's schedule creates one after another within this API process, so each counts the ones before. */
export class ScheduleCreateTurns {
  private readonly tails = new Map<string, Promise<unknown>>();

  inTurn<T>(tenant: string, create: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(tenant) ?? Promise.resolve()).then(create, create);
    const tail = result.catch(() => undefined);
    this.tails.set(tenant, tail);
    void tail.then(() => {
      if (this.tails.get(tenant) === tail) this.tails.delete(tenant);
    });
    return result;
  }
}

/** What bounds a tenant's schedules; the token and admit functions throw RateLimitedError. */
export interface ScheduleLimits {
  readonly minIntervalSeconds: number;
  readonly maxPerTenant: number;
  /** Goes into each run's request: a run that finds its tenant at this many unfinished jobs skips itself. */
  readonly unfinishedCap?: number;
  /** Takes one of the tenant's submit tokens (a create). */
  readonly takeToken: (tenant: string) => void;
  /** Admits one more job for the tenant now, as a submit is admitted (a trigger). */
  readonly admitRun: (tenant: string) => Promise<void>;
  /** Shared by every request of the process. */
  readonly createTurns: ScheduleCreateTurns;
}
