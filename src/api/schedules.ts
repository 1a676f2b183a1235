import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleDescription, type ScheduleOverlapPolicy } from '@temporalio/client';
import type { CreateScheduleBody, Schedule } from '../contract/job.js';
import { jobIdOf, workflowIdOf } from '../workflows/job-state.js';
import { jobWorkflow } from '../workflows/index.js';
import { JobTenantKey } from '../workflows/search-attributes.js';
import { ApiError, JobConflictError, RequestInvalidError } from './errors.js';
import type { Jobs } from './jobs.js';

/** Thrown when no schedule has the requested id (for the caller's tenant). */
export class ScheduleNotFoundApiError extends ApiError {
  override readonly name = 'ScheduleNotFoundApiError';
  constructor(scheduleId: string) {
    super('not_found', `no schedule with id "${scheduleId}"`);
  }
}

const overlapPolicies: Record<NonNullable<CreateScheduleBody['overlap']>, ScheduleOverlapPolicy> = {
  skip: 'SKIP', buffer_one: 'BUFFER_ONE', buffer_all: 'BUFFER_ALL', cancel_other: 'CANCEL_OTHER', terminate_other: 'TERMINATE_OTHER', allow_all: 'ALLOW_ALL',
};

/**
 * One tenant's schedules: Temporal Schedules whose action starts a job workflow. Temporal names each run's
 * workflow `<schedule's workflow id>-<scheduled time>`, so each run is an ordinary job with that id.
 */
export class Schedules {
  constructor(
    private readonly client: Client,
    private readonly jobs: Jobs,
  ) {}

  private scheduleIdOf(scheduleId: string): string {
    return workflowIdOf(this.jobs.tenant, scheduleId);
  }

  async create(body: CreateScheduleBody): Promise<Schedule> {
    if ('children' in body.job) throw new RequestInvalidError('job.children: scheduled jobs cannot have children');
    const request = { ...(await this.jobs.resolveOne({ ...body.job, jobId: body.scheduleId })), scheduled: true };
    const { args, memo, typedSearchAttributes, taskQueue, workflowId } = this.jobs.startOptions(request);
    try {
      await this.client.schedule.create({
        scheduleId: this.scheduleIdOf(body.scheduleId),
        spec: body.cron ? { cronExpressions: [body.cron] } : { intervals: [{ every: body.intervalSeconds! * 1000 }] },
        action: { type: 'startWorkflow', workflowType: jobWorkflow, workflowId, taskQueue, args, memo, typedSearchAttributes },
        policies: { overlap: overlapPolicies[body.overlap ?? 'skip'] },
        state: { paused: body.paused ?? false },
        // Temporal turns a cron expression into calendars; the memo keeps what the caller gave.
        memo: { job: body.job, overlap: body.overlap ?? 'skip', cron: body.cron ?? null, intervalSeconds: body.intervalSeconds ?? null },
        typedSearchAttributes: [{ key: JobTenantKey, value: this.jobs.tenant }],
      });
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning) throw new JobConflictError(body.scheduleId, `schedule "${body.scheduleId}" exists`);
      if (err instanceof Error && /invalid|cron/i.test(err.message) && !(err instanceof ApiError)) throw new RequestInvalidError(`cron: ${err.message}`);
      throw err;
    }
    return this.get(body.scheduleId);
  }

  async get(scheduleId: string): Promise<Schedule> {
    return this.toJson(await this.describe(scheduleId));
  }

  async list(): Promise<Schedule[]> {
    const schedules: Schedule[] = [];
    for await (const summary of this.client.schedule.list({ query: `${JobTenantKey.name} = '${this.jobs.tenant}'` })) {
      schedules.push(await this.get(jobIdOf(this.jobs.tenant, summary.scheduleId)));
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
    // An explicit run now starts even while another runs, whatever the overlap policy says.
    await this.client.schedule.getHandle(this.scheduleIdOf(scheduleId)).trigger('ALLOW_ALL');
    return this.get(scheduleId);
  }

  private async describe(scheduleId: string): Promise<ScheduleDescription> {
    try {
      const description = await this.client.schedule.getHandle(this.scheduleIdOf(scheduleId)).describe();
      if (description.typedSearchAttributes.get(JobTenantKey) !== this.jobs.tenant) throw new ScheduleNotFoundApiError(scheduleId);
      return description;
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) throw new ScheduleNotFoundApiError(scheduleId);
      throw err;
    }
  }

  private toJson(description: ScheduleDescription): Schedule {
    const memo = description.memo ?? {};
    return {
      scheduleId: jobIdOf(this.jobs.tenant, description.scheduleId),
      cron: typeof memo['cron'] === 'string' ? memo['cron'] : null,
      intervalSeconds: typeof memo['intervalSeconds'] === 'number' ? memo['intervalSeconds'] : null,
      job: (memo['job'] as Record<string, unknown> | undefined) ?? {},
      paused: description.state.paused,
      overlap: String(memo['overlap'] ?? 'skip'),
      nextRunTimes: description.info.nextActionTimes.map((time) => time.toISOString()),
      recentJobs: description.info.recentActions.map((action) => ({
        jobId: jobIdOf(this.jobs.tenant, action.action.workflow.workflowId),
        scheduledAt: action.scheduledAt.toISOString(),
      })),
      createdAt: description.info.createdAt.toISOString(),
    };
  }
}
