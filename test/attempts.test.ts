import assert from 'node:assert/strict';
import type { JobAttempts } from '../src/contract/attempts.js';
import type { ErrorBody } from '../src/contract/errors.js';
import { withHourlySchedule } from './support/schedules.js';
import { uniqueJobId, type TestService } from './support/service.js';
import { asTenant, startWithTenants, twoTenants as keys } from './support/tenants.js';
import { until } from './support/until.js';

describe("A job's attempts", function () {
  let service: TestService;
  before(async function () {
    service = await startWithTenants(keys);
  });
  after(async function () {
    await service.teardown();
  });

  const attemptsOf = (jobId: string) =>
    service.request<JobAttempts & ErrorBody>('GET', `/api/v1/jobs/${encodeURIComponent(jobId)}/attempts`);

  /** How many times the API has read a workflow's history from Temporal. */
  async function historyReads(): Promise<number> {
    const { body } = await service.request<string>('GET', '/metrics');
    return Number(/durable_jobs_temporal_reads_total\{call="history"\} (\d+)/.exec(body)?.[1] ?? 0);
  }

  it('lists each attempt with its start, end, outcome and error, the backoff between them', async function () {
    const jobId = uniqueJobId('attempts');
    await service.submit({
      type: 'sleep',
      input: { seconds: 0.3, failAttempts: 2 },
      retry: { maxAttempts: 3, initialIntervalSeconds: 1, backoffCoefficient: 1 },
      jobId,
    });
    await service.waitFor(jobId, ['succeeded', 'failed']);
    const { status, body } = await attemptsOf(jobId);
    assert.equal(status, 200);
    assert.equal(body.jobId, jobId);
    assert.equal(body.run, 1);
    assert.equal(body.scheduleId, null);
    assert.equal(body.nextAttemptAt, null);
    assert.deepEqual(
      body.attempts.map(({ attempt, outcome }) => [attempt, outcome]),
      [
        [1, 'failed'],
        [2, 'failed'],
        [3, 'succeeded'],
      ],
    );
    const [first, second, third] = body.attempts;
    assert.match(first!.error!.message, /planned failure of attempt 1/);
    assert.equal(first!.error!.type, 'TransientError');
    assert.equal(third!.error, null);
    for (const attempt of body.attempts) {
      assert.ok(attempt.startedAt && attempt.endedAt, `attempt ${attempt.attempt} started and ended`);
      assert.ok(Date.parse(attempt.scheduledAt) <= Date.parse(attempt.startedAt));
      assert.equal(attempt.durationMs, Date.parse(attempt.endedAt) - Date.parse(attempt.startedAt));
    }
    assert.ok(third!.durationMs! >= 250, `the succeeding attempt slept 0.3 s (${third!.durationMs} ms)`);
    const backoffMs = Date.parse(second!.scheduledAt) - Date.parse(first!.endedAt!);
    assert.ok(backoffMs >= 950, `the second attempt waited out the 1 s backoff (${backoffMs} ms)`);
  });

  it('shows a running attempt without an end, and the next attempt during a backoff', async function () {
    const jobId = uniqueJobId('running-attempt');
    await service.submit({
      type: 'sleep',
      input: { seconds: 2, failAttempts: 1 },
      retry: { maxAttempts: 2, initialIntervalSeconds: 30 },
      jobId,
    });
    await service.waitFor(jobId, (job) => job.lastError !== null);
    const waiting = (await attemptsOf(jobId)).body;
    assert.equal(waiting.attempts.length, 1);
    assert.equal(waiting.attempts[0]!.outcome, 'failed');
    assert.ok(waiting.nextAttemptAt, 'the backoff says when the next attempt comes');
    const waitMs = Date.parse(waiting.nextAttemptAt) - Date.parse(waiting.attempts[0]!.endedAt!);
    assert.ok(waitMs >= 29_000 && waitMs <= 31_000, `the next attempt ≈ 30 s after the first ended (${waitMs} ms)`);
    await service.cancel(jobId);

    const runningId = uniqueJobId('running-attempt');
    await service.submit({ type: 'sleep', input: { seconds: 30 }, jobId: runningId });
    await service.waitFor(runningId, ['running']);
    const running = (await attemptsOf(runningId)).body.attempts;
    assert.equal(running.length, 1);
    assert.equal(running[0]!.outcome, 'running');
    assert.ok(running[0]!.startedAt);
    assert.equal(running[0]!.endedAt, null);
    assert.equal(running[0]!.durationMs, null);
    await service.cancel(runningId);
    await service.waitFor(runningId, ['cancelled']);
    const cancelled = (await attemptsOf(runningId)).body.attempts;
    assert.equal(cancelled[0]!.outcome, 'cancelled');
    assert.ok(cancelled[0]!.endedAt);
  });

  it("reads a finished run's history once, then answers from memory", async function () {
    const jobId = uniqueJobId('cached');
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId });
    await service.waitFor(jobId, ['succeeded']);
    const first = await attemptsOf(jobId);
    const before = await historyReads();
    const again = await attemptsOf(jobId);
    assert.deepEqual(again.body, first.body);
    assert.equal(await historyReads(), before, 'no history read for the second answer');
  });

  it("shares one read of a running job's history between reads that arrive together, until the history grows", async function () {
    const jobId = uniqueJobId('shared');
    await service.submit({ type: 'sleep', input: { seconds: 60 }, jobId });
    await service.waitFor(jobId, ['running']);
    const path = (what: string) => `/api/v1/jobs/${encodeURIComponent(jobId)}/${what}`;
    const parallel = 8;
    for (const what of ['attempts', 'logs']) {
      const before = await historyReads();
      const answers = await Promise.all(
        Array.from({ length: parallel }, () => service.request<{ attempts: unknown }>('GET', path(what))),
      );
      assert.deepEqual(
        answers.map(({ status }) => status),
        Array(parallel).fill(200),
      );
      assert.equal((await historyReads()) - before, 1, `${parallel} parallel reads of its ${what}: one history read`);
      // The history has not grown since: its answer stands, and the running attempt is still read from the describe.
      const again = await service.request<JobAttempts>('GET', path(what));
      assert.equal(again.status, 200);
      assert.equal((await historyReads()) - before, 1, `a later read of its ${what} while its history is unchanged`);
    }
    const running = (await attemptsOf(jobId)).body.attempts;
    assert.deepEqual(
      running.map(({ outcome }) => outcome),
      ['running'],
    );
    await service.cancel(jobId);
    await service.waitFor(jobId, ['cancelled']);
    const before = await historyReads();
    const ended = (await attemptsOf(jobId)).body.attempts;
    assert.deepEqual(
      ended.map(({ outcome }) => outcome),
      ['cancelled'],
    );
    assert.equal((await historyReads()) - before, 1, 'the grown history is read again');
  });

  it('names the schedule that started a job', async function () {
    await withHourlySchedule(service, 'origin', async (scheduleId) => {
      await service.request('POST', `/api/v1/schedules/${scheduleId}/trigger`);
      const jobId = await until(
        'the trigger started a job',
        async () =>
          (await service.request<{ recentJobs: { jobId: string }[] }>('GET', `/api/v1/schedules/${scheduleId}`)).body
            .recentJobs[0]?.jobId,
        () => true,
        15_000,
      );
      assert.equal((await attemptsOf(jobId)).body.scheduleId, scheduleId);
    });
  });

  it('answers 404 for an unknown job or one of another tenant, 400 for a bad id', async function () {
    const jobId = uniqueJobId('acme-only');
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId });
    const other = await asTenant(service, keys.globex, () => attemptsOf(jobId));
    assert.equal(other.status, 404);
    assert.equal(other.body.error.code, 'not_found');
    assert.equal((await attemptsOf(uniqueJobId('nobody'))).status, 404);
    const bad = await attemptsOf('-bad id-');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /^jobId: /);
  });
});
