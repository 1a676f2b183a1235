import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleOverlapPolicy,
} from '@temporalio/client';
import { canonicalTimeZone, type CreateScheduleBody, type Schedule } from '../contract/schedule.js';
import { redactedInput } from '../contract/job-json.js';
import { jobIdOf, workflowIdOf, type JobRequest } from '../workflows/job-state.js';
import { jobWorkflow } from '../workflows/index.js';
import { JobTenantKey, skippedRunsQuery, visibilityLiteral } from '../workflows/search-attributes.js';
import { cronNeverFiresReason, shortestCronGapSeconds } from './cron.js';
import { ApiError, JobConflictError, RequestInvalidError } from './errors.js';
import { ScheduleLimitReachedError, type ScheduleLimits } from './schedule-limits.js';
import type { JobRequests } from '../jobs/index.js';

/** Thrown when no schedule has the requested id (for the caller's tenant). */
export class ScheduleNotFoundApiError extends ApiError {
  override readonly name = 'ScheduleNotFoundApiError';
  constructor(scheduleId: string) {
    super('not_found', `no schedule with id "${scheduleId}"`);
  }
}

/** The schedule's job body as the caller gave it, with its input's secrets redacted as in every job. */
function redactedJob(job: unknown): Record<string, unknown> {
  if (typeof job !== 'object' || job === null) return {};
  const body = job as Record<string, unknown>;
  return typeof body['type'] === 'string' && 'input' in body
    ? { ...body, input: redactedInput(body['type'], body['input']) }
    : body;
}

/** How long a create waits for visibility to show its schedule before counting the tenant's schedules again. */
const visibleWithinMs = 2000;

const overlapPolicies: Record<NonNullable<CreateScheduleBody['overlap']>, ScheduleOverlapPolicy> = {
  skip: 'SKIP',
  buffer_one: 'BUFFER_ONE',
  buffer_all: 'BUFFER_ALL',
  cancel_other: 'CANCEL_OTHER',
  terminate_other: 'TERMINATE_OTHER',
  allow_all: 'ALLOW_ALL',
};

/**
 * One tenant's schedules: Temporal Schedules whose action starts a job workflow. Temporal names each run's
 * workflow `<schedule's workflow id>-<scheduled time>`, so each run is an ordinary job with that id.
 */
export class Schedules {
  constructor(
    private readonly client: Client,
    private readonly requests: JobRequests,
    private readonly limits: ScheduleLimits,
    private readonly tenant: string,
  ) {}

  private scheduleIdOf(scheduleId: string): string {
    return workflowIdOf(this.tenant, scheduleId);
  }

  private get tenantQuery(): string {
    return `${JobTenantKey.name} = ${visibilityLiteral(this.tenant)}`;
  }

  async create(body: CreateScheduleBody): Promise<Schedule> {
    if ('children' in body.job) throw new RequestInvalidError('job.children: scheduled jobs cannot have children');
    this.checkFrequency(body);
    const resolved = await this.requests.resolveOne(this.tenant, { ...body.job, jobId: body.scheduleId });
    const request = {
      ...resolved,
      scheduled: true,
      ...(this.limits.unfinishedCap ? { unfinishedCap: this.limits.unfinishedCap } : {}),
    };
    this.limits.takeToken(this.tenant);
    await this.limits.createTurns.inTurn(this.tenant, async () => {
      await this.checkCount();
      await this.createInTemporal(body, request);
      await this.checkCountAfterCreate(body.scheduleId);
    });
    return this.get(body.scheduleId);
  }

  private async createInTemporal(body: CreateScheduleBody, request: JobRequest): Promise<void> {
    const { args, memo, typedSearchAttributes, taskQueue, workflowId } = this.requests.startOptions(
      this.tenant,
      request,
    );
    // As the time zone database spells it: Temporal's server knows `Europe/Berlin`, not `europe/berlin`.
    const timezone = body.timezone === undefined ? undefined : canonicalTimeZone(body.timezone);
    try {
      await this.client.schedule.create({
        scheduleId: this.scheduleIdOf(body.scheduleId),
        spec: body.cron
          ? { cronExpressions: [body.cron], timezone: timezone ?? 'UTC' }
          : { intervals: [{ every: body.intervalSeconds! * 1000 }] },
        action: {
          type: 'startWorkflow',
          workflowType: jobWorkflow,
          workflowId,
          taskQueue,
          args,
          memo,
          typedSearchAttributes,
        },
        policies: { overlap: overlapPolicies[body.overlap ?? 'skip'] },
        state: { paused: body.paused ?? false },
        // Temporal turns a cron expression into calendars; the memo keeps what the caller gave.
        memo: {
          job: body.job,
          overlap: body.overlap ?? 'skip',
          cron: body.cron ?? null,
          timezone: body.cron === undefined ? null : (timezone ?? 'UTC'),
          intervalSeconds: body.intervalSeconds ?? null,
        },
        typedSearchAttributes: [{ key: JobTenantKey, value: this.tenant }],
      });
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning)
        throw new JobConflictError(body.scheduleId, `schedule "${body.scheduleId}" exists`);
      // The client turns the server's "Invalid schedule spec" into a TypeError (RangeError for a calendar it encodes).
      // A zone Node's time zone data knows may be missing from the server's (SystemV/EST5): that is the zone's fault.
      if ((err instanceof TypeError || err instanceof RangeError) && timezone && /time ?zone/i.test(err.message))
        throw new RequestInvalidError(
          `timezone: the Temporal server does not know "${timezone}" (${err.message}); give an IANA name it has, e.g. Europe/Berlin`,
        );
      if (err instanceof TypeError || err instanceof RangeError)
        throw new RequestInvalidError(`${body.cron === undefined ? 'intervalSeconds' : 'cron'}: ${err.message}`);
      throw err;
    }
  }

  /** Refuses a schedule that would fire more often than SCHEDULE_MIN_INTERVAL_SECONDS allows, or never. */
  private checkFrequency(body: CreateScheduleBody): void {
    const min = this.limits.minIntervalSeconds;
    if (body.intervalSeconds !== undefined && body.intervalSeconds < min) {
      throw new RequestInvalidError(`intervalSeconds: must be at least ${min} (SCHEDULE_MIN_INTERVAL_SECONDS)`);
    }
    if (body.cron === undefined) return;
    const neverFires = cronNeverFiresReason(body.cron);
    if (neverFires) throw new RequestInvalidError(`cron: never runs: ${neverFires}`);
    // A five-field cron fires at most once a minute; finer minimums need its gaps.
    if (min <= 60) return;
    const gap = shortestCronGapSeconds(body.cron);
    if (gap === undefined) {
      throw new RequestInvalidError(
        `cron: with SCHEDULE_MIN_INTERVAL_SECONDS at ${min}, its minute and hour fields must be numbers, ranges, steps or lists`,
      );
    }
    if (gap < min)
      throw new RequestInvalidError(
        `cron: fires ${gap} seconds apart; the minimum is ${min} (SCHEDULE_MIN_INTERVAL_SECONDS)`,
      );
  }

  /**
   * Refuses a schedule beyond MAX_SCHEDULES_PER_TENANT, counted in visibility, so it holds across API replicas; a
   * create in another replica that visibility does not show yet is caught by checkCountAfterCreate.
   */
  private async checkCount(): Promise<void> {
    let count = 0;
    for await (const _summary of this.client.schedule.list({ query: this.tenantQuery })) {
      if (++count >= this.limits.maxPerTenant)
        throw new ScheduleLimitReachedError(this.tenant, this.limits.maxPerTenant);
    }
  }

  /**
   * Counts the tenant's schedules again once visibility shows the one just created, and deletes it if they are
   * over the max: creates in other API processes are not in this one's turns. Of two racing creates at least one
   * sees the other, so they end within the max (both may give way).
   */
  private async checkCountAfterCreate(scheduleId: string): Promise<void> {
    const id = this.scheduleIdOf(scheduleId);
    const deadline = Date.now() + visibleWithinMs;
    let count: number;
    for (;;) {
      count = 0;
      let shown = false;
      for await (const summary of this.client.schedule.list({ query: this.tenantQuery })) {
        count++;
        shown ||= summary.scheduleId === id;
      }
      if (shown) break;
      if (Date.now() >= deadline) {
        count++;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (count <= this.limits.maxPerTenant) return;
    await this.client.schedule.getHandle(id).delete();
    throw new ScheduleLimitReachedError(this.tenant, this.limits.maxPerTenant);
  }

  async get(scheduleId: string): Promise<Schedule> {
    return this.toJson(await this.describe(scheduleId), await this.skippedRuns(scheduleId));
  }

  async list(): Promise<Schedule[]> {
    const schedules: Schedule[] = [];
    for await (const summary of this.client.schedule.list({ query: this.tenantQuery })) {
      // Visibility lags: a schedule deleted since (a delete, or a create over the limit undone) is left out, not a 404.
      const schedule = await this.get(jobIdOf(this.tenant, summary.scheduleId)).catch((err: unknown) => {
        if (err instanceof ScheduleNotFoundApiError) return undefined;
        throw err;
      });
      if (schedule) schedules.push(schedule);
    }
    return schedules;
  }

  async delete(scheduleId: string): Promise<void> {
    await this.describe(scheduleId);
    await this.client.schedule.getHandle(this.scheduleIdOf(scheduleId)).delete();
  }

  async pause(scheduleId: string, paused: boolean): Promise<Schedule> {
    await this.describe(scheduleId);
    const handle = this.client.schedule.getHandle(this.scheduleIdOf(scheduleId));
    await (paused ? handle.pause('paused through the API') : handle.unpause('unpaused through the API'));
    return this.get(scheduleId);
  }

  async trigger(scheduleId: string): Promise<Schedule> {
    await this.describe(scheduleId);
    await this.limits.admitRun(this.tenant);
    // An explicit run now starts even while another runs, whatever the overlap policy says.
    await this.client.schedule.getHandle(this.scheduleIdOf(scheduleId)).trigger('ALLOW_ALL');
    return this.get(scheduleId);
  }

  private async describe(scheduleId: string): Promise<ScheduleDescription> {
    try {
      const description = await this.client.schedule.getHandle(this.scheduleIdOf(scheduleId)).describe();
      if (description.typedSearchAttributes.get(JobTenantKey) !== this.tenant)
        throw new ScheduleNotFoundApiError(scheduleId);
      return description;
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) throw new ScheduleNotFoundApiError(scheduleId);
      throw err;
    }
  }

  /** The runs skipped at the tenant's unfinished cap, as long as Temporal keeps them (the namespace's retention). */
  private async skippedRuns(scheduleId: string): Promise<Pick<Schedule, 'skippedRuns' | 'lastSkippedAt'>> {
    const query = skippedRunsQuery(this.scheduleIdOf(scheduleId));
    const { count } = await this.client.workflow.count(query);
    if (count === 0) return { skippedRuns: 0, lastSkippedAt: null };
    // Visibility lists closed workflows newest close first.
    for await (const run of this.client.workflow.list({ query, pageSize: 1 })) {
      return { skippedRuns: count, lastSkippedAt: run.closeTime?.toISOString() ?? null };
    }
    return { skippedRuns: count, lastSkippedAt: null };
  }

  private toJson(description: ScheduleDescription, skipped: Pick<Schedule, 'skippedRuns' | 'lastSkippedAt'>): Schedule {
    const memo = description.memo ?? {};
    return {
      scheduleId: jobIdOf(this.tenant, description.scheduleId),
      cron: typeof memo['cron'] === 'string' ? memo['cron'] : null,
      // Schedules made before time zones were read their cron in UTC.
      timezone:
        typeof memo['timezone'] === 'string' ? memo['timezone'] : typeof memo['cron'] === 'string' ? 'UTC' : null,
      intervalSeconds: typeof memo['intervalSeconds'] === 'number' ? memo['intervalSeconds'] : null,
      job: redactedJob(memo['job']),
      paused: description.state.paused,
      overlap: typeof memo['overlap'] === 'string' ? memo['overlap'] : 'skip',
      nextRunTimes: description.info.nextActionTimes.map((time) => time.toISOString()),
      recentJobs: description.info.recentActions.map((action) => ({
        jobId: jobIdOf(this.tenant, action.action.workflow.workflowId),
        scheduledAt: action.scheduledAt.toISOString(),
      })),
      createdAt: description.info.createdAt.toISOString(),
      ...skipped,
    };
  }
}
