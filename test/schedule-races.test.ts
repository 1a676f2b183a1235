// The schedule limits under races: creates at the same moment, runs that fire at the same instant, and crons
// only Temporal's parser refuses.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ErrorBody } from '../src/contract/errors.js';
import type { Job } from '../src/contract/job.js';
import type { Schedule } from '../src/contract/schedule.js';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/api/app.js';
import { TestService, uniqueJobId } from './support/service.js';

const apiKey = 'acme-key-0123456789abcdef';
const globexKey = 'globex-key-0123456789abcdef';
const blockedJob = { type: 'sleep', priority: 'normal', input: { seconds: 600 } };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function createSchedule(service: TestService, body: Record<string, unknown>) {
  return service.request<Schedule & ErrorBody>('POST', '/api/v1/schedules', { job: blockedJob, ...body });
}

/** The tenant's schedules as Temporal holds them (not through the API). */
async function schedulesInTemporal(service: TestService, tenant: string): Promise<number> {
  let count = 0;
  for await (const _summary of service.temporal.client.schedule.list({ query: `JobTenant = '${tenant}'` })) count++;
  return count;
}

describe('MAX_SCHEDULES_PER_TENANT under concurrent creates', function () {
  const max = 3;
  let service: TestService;
  before(async function () {
    service = await TestService.start({
      workers: false,
      env: { API_KEYS: `acme:${apiKey},globex:${globexKey}`, MAX_SCHEDULES_PER_TENANT: String(max) },
    });
    service.apiKey = apiKey;
  });
  after(async function () {
    await service.teardown();
  });

  it('of 12 creates at once with a max of 3, exactly 3 are created and the rest answer 409', async function () {
    const ids = Array.from({ length: 12 }, () => uniqueJobId('racing'));
    const responses = await Promise.all(
      ids.map((scheduleId) => createSchedule(service, { scheduleId, intervalSeconds: 3600, paused: true })),
    );
    const statuses = responses.map((response) => response.status);
    assert.equal(statuses.filter((status) => status === 201).length, max, JSON.stringify(statuses));
    assert.equal(statuses.filter((status) => status === 409).length, ids.length - max, JSON.stringify(statuses));
    for (const response of responses.filter((each) => each.status === 409))
      assert.equal(response.body.error.code, 'conflict');
    // Visibility catches up with every create (and every delete of one over the max) within moments.
    await sleep(2000);
    assert.equal(await schedulesInTemporal(service, 'acme'), max);
    const created = ids.filter((_id, i) => statuses[i] === 201);
    for (const [i, scheduleId] of ids.entries()) {
      assert.equal(
        (await service.request('GET', `/api/v1/schedules/${scheduleId}`)).status,
        statuses[i] === 201 ? 200 : 404,
        scheduleId,
      );
    }
    assert.equal(created.length, max);
  });

  it('of 12 creates at once through two API processes, no more than 3 are kept and each refused one is gone', async function () {
    // A second app on the same Temporal stands for another replica: it does not share the first one's turns.
    const replica = createApp({ client: service.temporal.client, config: service.config });
    const server = replica.koa.listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const replicaUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const ids = Array.from({ length: 12 }, () => uniqueJobId('replicas'));
      const statuses = await Promise.all(
        ids.map(async (scheduleId, i) => {
          const response = await fetch(`${i % 2 === 0 ? service.baseUrl : replicaUrl}/api/v1/schedules`, {
            method: 'POST',
            headers: { authorization: `Bearer ${globexKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ scheduleId, intervalSeconds: 3600, paused: true, job: blockedJob }),
          });
          await response.body?.cancel();
          return response.status;
        }),
      );
      const kept = statuses.filter((status) => status === 201).length;
      assert.ok(kept >= 1 && kept <= max, JSON.stringify(statuses));
      assert.equal(statuses.filter((status) => status === 409).length, ids.length - kept, JSON.stringify(statuses));
      await sleep(2000);
      assert.equal(await schedulesInTemporal(service, 'globex'), kept);
    } finally {
      replica.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('Scheduled runs that fire at the same instant, under the unfinished cap', function () {
  const cap = 2;
  const jobSeconds = 1;
  let service: TestService;
  before(async function () {
    service = await TestService.start({
      workers: { high: 10 },
      env: {
        API_KEYS: `acme:${apiKey}`,
        MAX_UNFINISHED_JOBS_PER_TENANT: String(cap),
        SCHEDULE_MIN_INTERVAL_SECONDS: '1',
      },
    });
    service.apiKey = apiKey;
  });
  after(async function () {
    await service.teardown();
  });

  it("admits up to the cap of each round's runs whenever the tenant has room, and never more than the cap at once", async function () {
    this.timeout(180_000);
    const job = { type: 'sleep', priority: 'high', input: { seconds: jobSeconds } };
    const scheduleIds = Array.from({ length: 3 }, () => uniqueJobId('same-instant'));
    // Interval schedules align on the epoch: all three fire at every whole second.
    for (const scheduleId of scheduleIds) {
      assert.equal(
        (await createSchedule(service, { scheduleId, intervalSeconds: 1, overlap: 'allow_all', job })).status,
        201,
      );
    }
    // A dozen seconds, and on until enough admitted runs have succeeded to have filled the cap five times: on a busy
    // machine each admitted run takes longer, so fewer rounds find room in the same time.
    const scheduledBy = scheduleIds.map((scheduleId) => `'acme/${scheduleId}'`).join(', ');
    const succeeded = `TemporalScheduledById IN (${scheduledBy}) AND JobStatus = 'succeeded'`;
    await sleep(12_000);
    const deadline = Date.now() + 60_000;
    while ((await service.countWorkflows(succeeded)) < 5 * cap && Date.now() < deadline) await sleep(500);
    for (const scheduleId of scheduleIds)
      assert.equal((await service.request('POST', `/api/v1/schedules/${scheduleId}/pause`)).status, 200);
    await sleep((jobSeconds + 2) * 1000);

    const runs: { job: Job; round: number; admitted: boolean }[] = [];
    for (const scheduleId of scheduleIds) {
      for await (const run of service.temporal.client.workflow.list({
        query: `TemporalScheduledById = 'acme/${scheduleId}'`,
      })) {
        // Temporal names a run <schedule's workflow id>-<scheduled time>.
        const round = Date.parse(run.workflowId.slice(`acme/${scheduleId}-`.length));
        // A run fired just before the pause may still be running its 1 s job, or counting before it skips itself,
        // a busy machine's moment past the sleep above.
        const body = await service.waitFor(run.workflowId.slice('acme/'.length), (job) => job.finishedAt !== null);
        runs.push({ job: body, round, admitted: body.error?.type !== 'Skipped' });
      }
    }
    const admitted = runs.filter((run) => run.admitted);
    for (const run of admitted) assert.equal(run.job.status, 'succeeded', run.job.jobId);

    // The admitted jobs at once, from each one's first attempt (after its check) to its end: never more than the cap.
    const edges = admitted
      .flatMap((run) => [
        { at: Date.parse(run.job.startedAt!), step: 1 },
        { at: Date.parse(run.job.finishedAt!), step: -1 },
      ])
      .sort((a, b) => a.at - b.at || a.step - b.step);
    let running = 0;
    let most = 0;
    for (const edge of edges) most = Math.max(most, (running += edge.step));
    assert.ok(most <= cap, `${most} admitted jobs ran at once; the cap is ${cap}`);

    // A run skips itself only at the cap: when it counted, no earlier than its own start, at least `cap` jobs begun
    // before it were unfinished. Visibility shows an end a moment late (most of a second on a busy machine), so a job
    // that ended up to a second before the run began may still have counted.
    const skipped = runs.filter((run) => !run.admitted);
    for (const run of skipped) {
      const begun = Date.parse(run.job.createdAt);
      const unfinished = runs.filter(
        (other) =>
          other !== run && Date.parse(other.job.createdAt) <= begun && Date.parse(other.job.finishedAt!) > begun - 1000,
      ).length;
      assert.ok(unfinished >= cap, `${run.job.jobId} skipped itself with ${unfinished} jobs unfinished`);
    }
    // And the cap both held runs back and let them through, round after round.
    const admittingRounds = new Set(admitted.map((run) => run.round)).size;
    assert.ok(
      skipped.length >= cap && admittingRounds >= 3,
      `${skipped.length} skipped, ${admittingRounds} rounds admitted`,
    );
  });
});

describe('Crons that only Temporal refuses', function () {
  let service: TestService;
  before(async function () {
    // A minimum under a minute leaves every five-field cron to Temporal's parser.
    service = await TestService.start({
      workers: false,
      env: { API_KEYS: `acme:${apiKey}`, SCHEDULE_MIN_INTERVAL_SECONDS: '1', MAX_SCHEDULES_PER_TENANT: '100000' },
    });
    service.apiKey = apiKey;
  });
  after(async function () {
    await service.teardown();
  });

  async function assertRefusedOrCreated(cron: string): Promise<number> {
    const scheduleId = uniqueJobId('cron');
    const response = await createSchedule(service, { scheduleId, cron, paused: true });
    assert.ok(
      response.status === 201 || response.status === 400,
      `${JSON.stringify(cron)}: ${response.status} ${JSON.stringify(response.body)}`,
    );
    if (response.status === 400) {
      assert.equal(response.body.error.code, 'invalid_request');
      assert.match(response.body.error.message, /cron/);
      assert.equal((await service.request('GET', `/api/v1/schedules/${scheduleId}`)).status, 404);
    }
    return response.status;
  }

  it('answers 400 invalid_request naming cron for malformed crons, never 500', async function () {
    for (const cron of [
      '@every 1s x x x',
      '@hourly x x x x',
      '@daily 1 2 3 4',
      'x x x x x',
      '61 * * * *',
      '* 25 * * *',
      '* * 32 * *',
      '* * * 13 *',
      '*/0 * * * *',
      '5-1 * * * *',
    ]) {
      assert.equal(await assertRefusedOrCreated(cron), 400, cron);
    }
  });

  it('never answers 500 for five-field strings of cron-like tokens', async function () {
    this.timeout(120_000);
    const token = fc.oneof(
      fc.constantFrom('*', '?', 'L', 'W', '#', '@every', '@hourly', '1s', 'MON', 'jan', '-', '/', ',', 'x'),
      fc.stringMatching(/^[0-9*,/\-@a-zA-Z#?]{1,8}$/),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(token, { minLength: 5, maxLength: 5 }), async (fields) => {
        await assertRefusedOrCreated(fields.join(' '));
      }),
      { numRuns: 60 },
    );
  });
});
