import assert from 'node:assert/strict';
import type { ErrorBody } from '../src/contract/errors.js';
import type { Job, JobBatchResult } from '../src/contract/job.js';
import type { Schedule } from '../src/contract/schedule.js';
import type { z } from 'zod';
import { TestService, uniqueJobId } from './support/service.js';

const keys = { acme: 'acme-key-0123456789abcdef', globex: 'globex-key-0123456789abcdef' };
const apiKeys = `acme:${keys.acme},globex:${keys.globex}`;
const blockedJob = { type: 'sleep', priority: 'normal', input: { seconds: 600 } };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `read` until `done` holds of its value; the last value either way. */
async function waitUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(100);
    value = await read();
  }
  return value;
}

function createSchedule(service: TestService, body: Record<string, unknown>) {
  return service.request<Schedule & ErrorBody>('POST', '/api/v1/schedules', { job: blockedJob, ...body });
}

describe("Schedule create and trigger take from the tenant's submit rate", function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start({
      workers: false,
      env: {
        API_KEYS: apiKeys,
        RATE_LIMIT_SUBMITS_PER_SEC: '0.1',
        RATE_LIMIT_BURST: '2',
        SCHEDULE_MIN_INTERVAL_SECONDS: '1',
      },
    });
  });
  after(async function () {
    await service.teardown();
  });

  it('answers 429 with Retry-After once the bucket is empty, and creates or triggers nothing', async function () {
    service.apiKey = keys.acme;
    const scheduleId = uniqueJobId('rated');
    const runsOf = (id: string) => service.countWorkflows(`TemporalScheduledById = 'acme/${id}'`);
    assert.equal(
      (await createSchedule(service, { scheduleId, intervalSeconds: 3600, paused: true })).status,
      201,
      'the first token',
    );
    assert.equal(
      (await service.request('POST', `/api/v1/schedules/${scheduleId}/trigger`)).status,
      200,
      'the second token',
    );
    assert.equal(
      await waitUntil(
        () => runsOf(scheduleId),
        (runs) => runs === 1,
      ),
      1,
    );

    const refusedId = uniqueJobId('refused');
    const create = await createSchedule(service, { scheduleId: refusedId, intervalSeconds: 3600, paused: true });
    assert.equal(create.status, 429);
    assert.equal(create.body.error.code, 'rate_limited');
    assert.ok(Number(create.headers.get('retry-after')) >= 1);
    assert.equal(
      (await service.request('GET', `/api/v1/schedules/${refusedId}`)).status,
      404,
      'the refused create made no schedule',
    );

    const trigger = await service.request<ErrorBody>('POST', `/api/v1/schedules/${scheduleId}/trigger`);
    assert.equal(trigger.status, 429);
    assert.equal(trigger.body.error.code, 'rate_limited');
    assert.ok(Number(trigger.headers.get('retry-after')) >= 1);
    await sleep(1000);
    assert.equal(await runsOf(scheduleId), 1, 'the refused trigger started no run');
  });
});

describe("Scheduled runs inside the tenant's unfinished cap", function () {
  const cap = 3;
  let service: TestService;
  before(async function () {
    // Only high attempts run: the tenants' normal jobs stay unfinished; the job workflows themselves run.
    service = await TestService.start({
      workers: { high: 1 },
      env: { API_KEYS: apiKeys, MAX_UNFINISHED_JOBS_PER_TENANT: String(cap), SCHEDULE_MIN_INTERVAL_SECONDS: '1' },
    });
  });
  after(async function () {
    await service.teardown();
  });

  const unfinished = (tenant: string) =>
    service.countWorkflows(`WorkflowType = 'jobWorkflow' AND ExecutionStatus = 'Running' AND JobTenant = '${tenant}'`);

  /** Submits `cap` jobs that never run and waits until visibility counts them. */
  async function fillTheCap(tenant: string): Promise<string[]> {
    const jobIds: string[] = [];
    for (let i = 0; i < cap; i++) {
      const jobId = uniqueJobId(`${tenant}-blocked`);
      assert.equal((await service.submit({ ...blockedJob, jobId })).status, 202);
      jobIds.push(jobId);
    }
    assert.equal(
      await waitUntil(
        () => unfinished(tenant),
        (count) => count === cap,
      ),
      cap,
    );
    return jobIds;
  }

  it('answers a trigger at the cap with 429 and starts no run', async function () {
    service.apiKey = keys.acme;
    await fillTheCap('acme');
    const scheduleId = uniqueJobId('at-cap');
    assert.equal((await createSchedule(service, { scheduleId, intervalSeconds: 3600, paused: true })).status, 201);
    const trigger = await service.request<ErrorBody>('POST', `/api/v1/schedules/${scheduleId}/trigger`);
    assert.equal(trigger.status, 429);
    assert.equal(trigger.body.error.code, 'rate_limited');
    assert.match(trigger.body.error.message, /unfinished/);
    assert.ok(trigger.headers.get('retry-after'));
    await sleep(1000);
    assert.equal(await service.countWorkflows(`TemporalScheduledById = 'acme/${scheduleId}'`), 0);
    assert.equal(await unfinished('acme'), cap);
  });

  it('skips and counts the runs of a 1-second schedule while the tenant is at its cap, and runs them again below it', async function () {
    service.apiKey = keys.globex;
    const blocked = await fillTheCap('globex');
    const scheduleId = uniqueJobId('every-second');
    // allow_all: each run starts whatever the previous one does, as an incident's schedule plus triggers did.
    assert.equal((await createSchedule(service, { scheduleId, intervalSeconds: 1, overlap: 'allow_all' })).status, 201);
    // Runs still counting before they skip themselves are unfinished for a moment (on a busy machine several
    // overlap, one a second), so they are left out of the samples; that none of them went ahead is asserted
    // below: every run was skipped.
    const unfinishedBesidesRuns = () =>
      service.countWorkflows(
        `WorkflowType = 'jobWorkflow' AND ExecutionStatus = 'Running' AND JobTenant = 'globex' AND TemporalScheduledById IS NULL`,
      );
    let most = 0;
    for (const end = Date.now() + 6000; Date.now() < end;) {
      most = Math.max(most, await unfinishedBesidesRuns());
      await sleep(200);
    }
    assert.equal((await service.request('POST', `/api/v1/schedules/${scheduleId}/pause`)).status, 200);
    assert.equal(most, cap, "the unfinished jobs besides the scheduled runs: just the cap's");
    // A run that went ahead would stay unfinished (no normal worker here): the wait is only for skips under way.
    assert.equal(
      await waitUntil(
        () => unfinished('globex'),
        (count) => count === cap,
      ),
      cap,
      'no scheduled run is left unfinished',
    );

    const schedule = (await service.request<Schedule>('GET', `/api/v1/schedules/${scheduleId}`)).body;
    assert.ok(schedule.recentJobs.length >= 3, `runs: ${schedule.recentJobs.length}`);
    assert.equal(schedule.skippedRuns, schedule.recentJobs.length, 'every run was skipped');
    assert.ok(schedule.lastSkippedAt && Date.parse(schedule.lastSkippedAt) > Date.now() - 10_000);
    const skipped = (await service.getJob(schedule.recentJobs[0]!.jobId)).body;
    assert.equal(skipped.status, 'cancelled');
    assert.equal(skipped.error?.type, 'Skipped');
    assert.match(skipped.error?.message ?? '', /cap of 3 unfinished jobs/);

    // Below the cap again, a run goes ahead (and no more than the cap's worth of jobs is unfinished).
    assert.equal((await service.cancel(blocked[0]!)).status, 202);
    assert.equal(
      await waitUntil(
        () => unfinished('globex'),
        (count) => count === cap - 1,
      ),
      cap - 1,
    );
    assert.equal((await service.request('POST', `/api/v1/schedules/${scheduleId}/unpause`)).status, 200);
    // The run admitted, alone once the runs fired after it have skipped themselves (on a busy machine one is still
    // counting when the first is seen); that it went ahead is what the unfinished count shows after the pause.
    const admitted = await waitUntil(
      () => service.countWorkflows(`TemporalScheduledById = 'globex/${scheduleId}' AND ExecutionStatus = 'Running'`),
      (count) => count === 1,
    );
    assert.equal(admitted, 1);
    await sleep(3000);
    assert.equal((await service.request('POST', `/api/v1/schedules/${scheduleId}/pause`)).status, 200);
    await sleep(500);
    // The runs fired just before the pause may still be counting before they skip themselves, as above.
    assert.equal(
      await waitUntil(
        () => unfinished('globex'),
        (count) => count === cap,
      ),
      cap,
    );
    const after = (await service.request<Schedule>('GET', `/api/v1/schedules/${scheduleId}`)).body;
    assert.ok(after.skippedRuns > schedule.skippedRuns, 'the runs after the admitted one were skipped again');
  });
});

describe('Schedule frequency and count limits', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start({
      workers: false,
      env: { API_KEYS: apiKeys, SCHEDULE_MIN_INTERVAL_SECONDS: '120', MAX_SCHEDULES_PER_TENANT: '2' },
    });
  });
  after(async function () {
    await service.teardown();
  });

  it('refuses an interval or a cron more frequent than SCHEDULE_MIN_INTERVAL_SECONDS with 400 naming it', async function () {
    service.apiKey = keys.acme;
    for (const spec of [
      { intervalSeconds: 119 },
      { cron: '* * * * *' },
      { cron: '0,1 3 * * *' },
      { cron: '*/1 * * * *' },
    ]) {
      const scheduleId = uniqueJobId('too-often');
      const response = await createSchedule(service, { scheduleId, ...spec });
      assert.equal(response.status, 400, JSON.stringify(spec));
      assert.equal(response.body.error.code, 'invalid_request');
      assert.match(response.body.error.message, /SCHEDULE_MIN_INTERVAL_SECONDS/);
      assert.match(response.body.error.message, /120/);
      assert.equal((await service.request('GET', `/api/v1/schedules/${scheduleId}`)).status, 404);
    }
    // Only five-field crons: Temporal's @every and seconds fields would slip past the minute-level reading.
    for (const cron of ['@every 1s', '*/1 * * * * * *']) {
      assert.equal((await createSchedule(service, { scheduleId: uniqueJobId('other-cron'), cron })).status, 400, cron);
    }
  });

  it('refuses the schedule beyond MAX_SCHEDULES_PER_TENANT with 409 naming it, per tenant', async function () {
    service.apiKey = keys.globex;
    const kept = [uniqueJobId('first'), uniqueJobId('second')];
    assert.equal(
      (await createSchedule(service, { scheduleId: kept[0], intervalSeconds: 120, paused: true })).status,
      201,
      'the minimum itself',
    );
    assert.equal(
      (await createSchedule(service, { scheduleId: kept[1], cron: '*/5 * * * *', paused: true })).status,
      201,
    );
    const listed = () =>
      service
        .request<{ schedules: Schedule[] }>('GET', '/api/v1/schedules')
        .then((response) => response.body.schedules.length);
    assert.equal(await waitUntil(listed, (count) => count === 2), 2);

    const third = uniqueJobId('third');
    const refused = await createSchedule(service, { scheduleId: third, intervalSeconds: 600, paused: true });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'conflict');
    assert.match(refused.body.error.message, /MAX_SCHEDULES_PER_TENANT \(2\)/);
    assert.equal((await service.request('GET', `/api/v1/schedules/${third}`)).status, 404);

    service.apiKey = keys.acme;
    assert.equal(
      (await createSchedule(service, { scheduleId: third, intervalSeconds: 600, paused: true })).status,
      201,
      'another tenant has its own count',
    );
    service.apiKey = keys.globex;
    assert.equal((await service.request('DELETE', `/api/v1/schedules/${kept[0]}`)).status, 204);
    assert.equal(await waitUntil(listed, (count) => count === 1), 1);
    assert.equal(
      (await createSchedule(service, { scheduleId: third, intervalSeconds: 600, paused: true })).status,
      201,
      'a deleted schedule frees its place',
    );
  });
});

describe('Batches take one token per item', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start({
      workers: false,
      env: { API_KEYS: apiKeys, RATE_LIMIT_SUBMITS_PER_SEC: '0.1', RATE_LIMIT_BURST: '3' },
    });
  });
  after(async function () {
    await service.teardown();
  });

  it('accepts exactly the burst of a larger batch, refuses the rest with 429, and starts only the accepted', async function () {
    service.apiKey = keys.acme;
    const jobs = Array.from({ length: 5 }, () => ({ ...blockedJob, jobId: uniqueJobId('batched') }));
    const response = await service.request<z.infer<typeof JobBatchResult>>('POST', '/api/v1/job-batches', { jobs });
    assert.equal(response.status, 200);
    const accepted = response.body.results.filter((result) => result.status === 202);
    const refused = response.body.results.filter((result) => result.status === 429);
    assert.equal(accepted.length, 3, JSON.stringify(response.body.results.map((result) => result.status)));
    assert.equal(refused.length, 2);
    assert.ok(refused.every((result) => result.error?.code === 'rate_limited'));
    await sleep(500);
    assert.equal(await service.countWorkflows(`WorkflowType = 'jobWorkflow' AND JobTenant = 'acme'`), 3);
    const started = new Set(accepted.map((result) => (result.job as Job).jobId));
    for (const result of refused)
      assert.equal((await service.getJob(jobs[result.index]!.jobId)).status, 404, 'a refused item started nothing');
    assert.equal(started.size, 3);
  });
});
