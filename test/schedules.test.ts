import assert from 'node:assert/strict';
import type { ErrorBody } from '../src/contract/errors.js';
import type { Job } from '../src/contract/job.js';
import type { Schedule } from '../src/contract/schedule.js';
import { TestService, uniqueJobId } from './support/service.js';
import { until } from './support/until.js';

describe('Schedules', function () {
  let service: TestService;
  before(async function () {
    // Runs every 2 s: under the default SCHEDULE_MIN_INTERVAL_SECONDS.
    service = await TestService.start({ env: { SCHEDULE_MIN_INTERVAL_SECONDS: '1' } });
  });
  after(async function () {
    await service.teardown();
  });

  it('submits a normal job <scheduleId>-<scheduled time> every interval, until paused', async function () {
    const scheduleId = uniqueJobId('every-2s');
    const created = await service.request<Schedule>('POST', '/api/v1/schedules', {
      scheduleId,
      intervalSeconds: 2,
      job: { type: 'sleep', input: { seconds: 0, message: 'tick' } },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.intervalSeconds, 2);
    assert.equal(created.body.paused, false);
    assert.ok(created.body.nextRunTimes.length > 0);

    let schedule = created.body;
    const deadline = Date.now() + 15_000;
    while (schedule.recentJobs.length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      schedule = (await service.request<Schedule>('GET', `/api/v1/schedules/${scheduleId}`)).body;
    }
    assert.ok(schedule.recentJobs.length >= 2, `runs: ${JSON.stringify(schedule.recentJobs)}`);
    for (const run of schedule.recentJobs.slice(0, 2)) {
      assert.equal(run.jobId, `${scheduleId}-${run.scheduledAt.replace(/\.\d+Z$/, 'Z')}`);
      const job = await service.waitFor(run.jobId, ['succeeded']);
      assert.equal(job.jobId, run.jobId);
      assert.deepEqual(job.result, { sleptSeconds: 0, message: 'tick' });
    }
    // The list reads visibility, which lags writes by about a second: it may not have the run's end yet.
    await until(
      'scheduled runs are listed like any job',
      async () => (await service.request<{ jobs: Job[] }>('GET', '/api/v1/jobs?status=succeeded&limit=100')).body.jobs,
      (jobs) => jobs.some((job) => job.jobId === schedule.recentJobs[0]!.jobId),
      10_000,
    );

    const paused = await service.request<Schedule>('POST', `/api/v1/schedules/${scheduleId}/pause`);
    assert.equal(paused.body.paused, true);
    const runsWhenPaused = paused.body.recentJobs.length;
    await new Promise((resolve) => setTimeout(resolve, 4500));
    const stillPaused = await service.request<Schedule>('GET', `/api/v1/schedules/${scheduleId}`);
    assert.equal(stillPaused.body.recentJobs.length, runsWhenPaused, 'no run while paused');

    const triggered = await service.request<Schedule>('POST', `/api/v1/schedules/${scheduleId}/trigger`);
    assert.equal(triggered.status, 200);
    const afterTrigger = Date.now() + 10_000;
    let count = runsWhenPaused;
    while (count === runsWhenPaused && Date.now() < afterTrigger) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      count = (await service.request<Schedule>('GET', `/api/v1/schedules/${scheduleId}`)).body.recentJobs.length;
    }
    assert.equal(count, runsWhenPaused + 1, 'trigger ran it once now');
    assert.equal(
      (await service.request<Schedule>('POST', `/api/v1/schedules/${scheduleId}/unpause`)).body.paused,
      false,
    );
  });

  it('lists, refuses a duplicate with 409 and bad specs with 400, and deletes', async function () {
    const scheduleId = uniqueJobId('nightly');
    const created = await service.request<Schedule>('POST', '/api/v1/schedules', {
      scheduleId,
      cron: '0 3 * * *',
      job: { type: 'sleep', input: { seconds: 1 } },
      paused: true,
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.cron, '0 3 * * *');
    assert.match(created.body.nextRunTimes[0] ?? '', /T03:00:00/);
    const duplicate = await service.request<ErrorBody>('POST', '/api/v1/schedules', {
      scheduleId,
      cron: '0 4 * * *',
      job: { type: 'sleep', input: { seconds: 1 } },
    });
    assert.equal(duplicate.status, 409);
    for (const bad of [
      { scheduleId: 'both', cron: '0 3 * * *', intervalSeconds: 5, job: { type: 'sleep', input: { seconds: 1 } } },
      { scheduleId: 'neither', job: { type: 'sleep', input: { seconds: 1 } } },
      { scheduleId: 'bad-input', intervalSeconds: 5, job: { type: 'sleep', input: { seconds: -1 } } },
      { scheduleId: 'has-id', intervalSeconds: 5, job: { type: 'sleep', input: { seconds: 1 }, jobId: 'fixed' } },
    ]) {
      assert.equal((await service.request('POST', '/api/v1/schedules', bad)).status, 400, JSON.stringify(bad));
    }
    const deadline = Date.now() + 5000;
    let listed: Schedule[] = [];
    while (!listed.some((schedule) => schedule.scheduleId === scheduleId) && Date.now() < deadline) {
      listed = (await service.request<{ schedules: Schedule[] }>('GET', '/api/v1/schedules')).body.schedules;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(listed.some((schedule) => schedule.scheduleId === scheduleId));
    assert.equal((await service.request('DELETE', `/api/v1/schedules/${scheduleId}`)).status, 204);
    assert.equal((await service.request('GET', `/api/v1/schedules/${scheduleId}`)).status, 404);
  });

  /** A paused schedule of a zero-second sleep on `cron`, its id `idPrefix` and a unique suffix. */
  function createPausedCron(idPrefix: string, cron: string, scheduleId = uniqueJobId(idPrefix)) {
    return service.request<Schedule & ErrorBody>('POST', '/api/v1/schedules', {
      scheduleId,
      cron,
      job: { type: 'sleep', input: { seconds: 0 } },
      paused: true,
    });
  }

  /** Each cron is a 400 whose message matches `message`, and no schedule is made. */
  async function assertCronsRefused(crons: readonly string[], message: RegExp): Promise<void> {
    for (const cron of crons) {
      const scheduleId = uniqueJobId('refused-cron');
      const response = await createPausedCron('refused-cron', cron, scheduleId);
      assert.equal(response.status, 400, cron);
      assert.match(response.body.error.message, message, JSON.stringify(response.body));
      assert.equal((await service.request('GET', `/api/v1/schedules/${scheduleId}`)).status, 404, cron);
    }
  }

  it('refuses with 400 naming cron a "#", which Temporal reads as the start of a comment', async function () {
    // Temporal ran `0 9 * * 1#2` (Quartz's second Monday) every Monday, and `0 9 1#3 * *` was "does not have 5-7 fields".
    await assertCronsRefused(
      ['0 9 * * 1#2', '0 9 * * MON#2', '0 9 1#3 * *', '0 9 * * 1 #weekly'],
      /^cron: .*"#".*comment/,
    );
  });

  it('refuses with 400 naming cron days none of its months has, which Temporal would keep and never run', async function () {
    // Temporal answered 201 with nextRunTimes [] for each of these.
    await assertCronsRefused(
      ['0 9 31 2 *', '0 9 30,31 2 *', '0 9 31 4,6,9,11 *', '0 9 31 apr-apr *', '0 9 30-31 FEB *'],
      /^cron: never runs: /,
    );
    const leapDay = await createPausedCron('leap-day', '0 9 29 2 *');
    assert.equal(leapDay.status, 201);
    assert.match(leapDay.body.nextRunTimes[0] ?? '', /-02-29T09:00:00/);
  });

  it('runs a cron giving a day of month and a day of week only on days that are both, unlike crontab', async function () {
    // docs/api.md says so: crontab(5) would run `0 9 13 * 5` on every 13th and every Friday.
    const created = await createPausedCron('friday-13th', '0 9 13 * 5');
    assert.equal(created.status, 201);
    assert.ok(created.body.nextRunTimes.length > 1);
    for (const time of created.body.nextRunTimes) {
      assert.equal(new Date(time).getUTCDate(), 13, time);
      assert.equal(new Date(time).getUTCDay(), 5, time);
    }
  });

  it('creates the Temporal schedule with overlap skip unless told otherwise', async function () {
    const [plain, buffered] = [uniqueJobId('overlap-default'), uniqueJobId('overlap-buffer')];
    await service.request<Schedule>('POST', '/api/v1/schedules', {
      scheduleId: plain,
      intervalSeconds: 3600,
      paused: true,
      job: { type: 'sleep', input: { seconds: 0 } },
    });
    await service.request<Schedule>('POST', '/api/v1/schedules', {
      scheduleId: buffered,
      intervalSeconds: 3600,
      paused: true,
      overlap: 'buffer_one',
      job: { type: 'sleep', input: { seconds: 0 } },
    });
    const overlapOf = async (scheduleId: string): Promise<string | undefined> =>
      (await service.temporal.client.schedule.getHandle(scheduleId).describe()).policies.overlap;
    assert.equal(await overlapOf(plain), 'SKIP');
    assert.equal(await overlapOf(buffered), 'BUFFER_ONE');
    for (const scheduleId of [plain, buffered])
      assert.equal((await service.request('DELETE', `/api/v1/schedules/${scheduleId}`)).status, 204);
  });

  it('runs a daily cron once a day: three days backfilled give three jobs at 03:00 UTC', async function () {
    // The time-skipping server does not implement Schedules; Temporal's backfill evaluates the same spec
    // over past days instead, on the real server.
    const scheduleId = uniqueJobId('daily');
    await service.request<Schedule>('POST', '/api/v1/schedules', {
      scheduleId,
      cron: '0 3 * * *',
      job: { type: 'sleep', input: { seconds: 0 } },
    });
    const today = new Date();
    const end = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
    const start = new Date(end.getTime() - 3 * 86_400_000);
    await service.temporal.client.schedule.getHandle(scheduleId).backfill({ start, end, overlap: 'ALLOW_ALL' });
    const expected = [3, 2, 1].map(
      (daysAgo) =>
        `${scheduleId}-${new Date(end.getTime() - daysAgo * 86_400_000 + 3 * 3_600_000).toISOString().replace('.000Z', 'Z')}`,
    );
    for (const jobId of expected) assert.equal((await service.waitFor(jobId, ['succeeded'])).jobId, jobId);
    assert.equal(await service.countWorkflows(`WorkflowId STARTS_WITH '${scheduleId}-'`), 3);
  });

  describe('reads a cron in the time zone it is given', function () {
    it('runs 0 9 * * * at 09:00 in Europe/Berlin on each side of the change to summer time', async function () {
      const scheduleId = uniqueJobId('berlin');
      const created = await service.request<Schedule>('POST', '/api/v1/schedules', {
        scheduleId,
        cron: '0 9 * * *',
        // Spelled as the time zone database does not: the schedule keeps the database's spelling.
        timezone: 'europe/berlin',
        job: { type: 'sleep', input: { seconds: 0 } },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.timezone, 'Europe/Berlin');
      const berlinClock = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Berlin',
        hour: '2-digit',
        minute: '2-digit',
      });
      assert.ok(created.body.nextRunTimes.length > 0);
      for (const time of created.body.nextRunTimes) assert.equal(berlinClock.format(new Date(time)), '09:00', time);
      // Summer time began on 2026-03-29 in Berlin: 09:00 was 08:00 UTC the days before, 07:00 UTC from then on.
      await service.temporal.client.schedule.getHandle(scheduleId).backfill({
        start: new Date('2026-03-27T00:00:00Z'),
        end: new Date('2026-03-31T00:00:00Z'),
        overlap: 'ALLOW_ALL',
      });
      const expected = ['2026-03-27T08:00:00Z', '2026-03-28T08:00:00Z', '2026-03-29T07:00:00Z', '2026-03-30T07:00:00Z'];
      for (const time of expected) await service.waitFor(`${scheduleId}-${time}`, ['succeeded']);
      assert.equal(await service.countWorkflows(`WorkflowId STARTS_WITH '${scheduleId}-'`), 4);
      const listed = await service.request<Schedule>('GET', `/api/v1/schedules/${scheduleId}`);
      assert.equal(listed.body.timezone, 'Europe/Berlin');
    });

    it('shows UTC for a cron given none, and no time zone for an interval', async function () {
      const cron = await service.request<Schedule>('POST', '/api/v1/schedules', {
        scheduleId: uniqueJobId('utc'),
        cron: '0 3 * * *',
        job: { type: 'sleep', input: { seconds: 0 } },
        paused: true,
      });
      assert.equal(cron.body.timezone, 'UTC');
      const interval = await service.request<Schedule>('POST', '/api/v1/schedules', {
        scheduleId: uniqueJobId('every'),
        intervalSeconds: 3600,
        job: { type: 'sleep', input: { seconds: 0 } },
        paused: true,
      });
      assert.equal(interval.body.timezone, null);
    });

    it('refuses with 400 naming timezone an unknown zone, an offset, a zone with an interval, and CRON_TZ', async function () {
      const job = { type: 'sleep', input: { seconds: 0 } };
      for (const [bad, names] of [
        [{ cron: '0 9 * * *', timezone: 'Mars/Olympus_Mons' }, 'timezone'],
        [{ cron: '0 9 * * *', timezone: '+02:00' }, 'timezone'],
        [{ cron: '0 9 * * *', timezone: '../../etc/passwd' }, 'timezone'],
        [{ cron: '0 9 * * *', timezone: '' }, 'timezone'],
        // Node's time zone data has it, the Temporal server's does not.
        [{ cron: '0 9 * * *', timezone: 'SystemV/EST5' }, 'timezone'],
        [{ intervalSeconds: 3600, timezone: 'Europe/Berlin' }, 'timezone'],
        [{ cron: 'CRON_TZ=Europe/Berlin 0 9 * * *' }, 'cron'],
      ] as const) {
        const response = await service.request<ErrorBody>('POST', '/api/v1/schedules', {
          scheduleId: uniqueJobId('bad-zone'),
          job,
          ...bad,
        });
        assert.equal(response.status, 400, JSON.stringify(bad));
        assert.match(response.body.error.message, new RegExp(`^${names}: `), JSON.stringify(response.body));
      }
    });
  });
});
