import assert from 'node:assert/strict';
import type { BulkJobsResult } from '../src/contract/bulk.js';
import type { ErrorBody } from '../src/contract/errors.js';
import { uniqueJobId, type TestService } from './support/service.js';
import { asTenant, startWithTenants, twoTenants as keys } from './support/tenants.js';

describe('Cancelling or retrying many jobs at once', function () {
  let service: TestService;
  before(async function () {
    service = await startWithTenants(keys);
  });
  after(async function () {
    await service.teardown();
  });

  const bulk = (action: 'cancel' | 'retry', body: unknown) =>
    service.request<BulkJobsResult & ErrorBody>('POST', `/api/v1/jobs/${action}`, body);

  async function submitted(label: string, input: Record<string, unknown>, count: number): Promise<string[]> {
    const jobIds = Array.from({ length: count }, () => uniqueJobId(label));
    for (const jobId of jobIds) await service.submit({ type: 'sleep', input, jobId });
    return jobIds;
  }

  it('cancels three running jobs in one request, and only those', async function () {
    const [kept, ...cancelled] = await submitted('bulk-cancel', { seconds: 60 }, 4);
    for (const jobId of [kept!, ...cancelled]) await service.waitFor(jobId, ['running']);
    const { status, body } = await bulk('cancel', { jobIds: cancelled });
    assert.equal(status, 200);
    assert.deepEqual(
      body.results.map((result) => [result.jobId, result.status]),
      cancelled.map((jobId) => [jobId, 202]),
    );
    for (const jobId of cancelled)
      assert.equal((await service.waitFor(jobId, ['cancelled'], 10_000)).status, 'cancelled');
    assert.equal((await service.getJob(kept!)).body.status, 'running', 'a job not named runs on');

    const again = await bulk('cancel', { jobIds: [cancelled[0], kept] });
    assert.equal(again.status, 200);
    assert.equal(again.body.results[0]!.status, 409, 'a finished job answers alone: conflict');
    assert.equal(again.body.results[0]!.error?.code, 'conflict');
    assert.equal(again.body.results[1]!.status, 202, 'and the others are still cancelled');
  });

  it('retries the failed jobs named, and answers conflict for a succeeded one', async function () {
    const failed = await submitted('bulk-retry', { seconds: 0, failAttempts: 1, failure: 'non_retryable' }, 2);
    const [succeeded] = await submitted('bulk-ok', { seconds: 0 }, 1);
    for (const jobId of failed) await service.waitFor(jobId, ['failed']);
    await service.waitFor(succeeded!, ['succeeded']);
    const { status, body } = await bulk('retry', { jobIds: [...failed, succeeded] });
    assert.equal(status, 200);
    assert.deepEqual(
      body.results.map((result) => [result.status, result.jobStatus ?? result.error?.code]),
      [
        [202, 'queued'],
        [202, 'queued'],
        [409, 'conflict'],
      ],
    );
    // Each retried job runs again: its run 2 starts (and fails again, as its input says).
    for (const jobId of failed) {
      const job = await service.waitFor(jobId, (job) => job.run === 2 && job.status !== 'queued');
      assert.equal(job.run, 2);
    }
    assert.equal((await service.getJob(succeeded!)).body.run, 1);
  });

  it("answers 404 for each of another tenant's jobs, and acts on none of them", async function () {
    const [theirs] = await submitted('acme-job', { seconds: 60 }, 1);
    await asTenant(service, keys.globex, async () => {
      const { status, body } = await bulk('cancel', { jobIds: [theirs, uniqueJobId('unknown')] });
      assert.equal(status, 200);
      assert.deepEqual(
        body.results.map((result) => [result.status, result.error?.code]),
        [
          [404, 'not_found'],
          [404, 'not_found'],
        ],
      );
      assert.equal((await bulk('retry', { jobIds: [theirs] })).body.results[0]!.status, 404);
    });
    assert.notEqual((await service.getJob(theirs!)).body.status, 'cancelled');
    await service.cancel(theirs!);
  });

  it("answers 429 to bulk requests sent while the tenant's previous one runs, and acts on none of their jobs", async function () {
    // Each request names one real job and 99 unknown ids, so it takes 100 calls to Temporal: the first one
    // admitted is still running when the others, sent together, arrive.
    const requests = 6;
    const failed = await submitted(
      'bulk-flood-failed',
      { seconds: 0, failAttempts: 1, failure: 'non_retryable' },
      requests,
    );
    // The long jobs are submitted once the failing ones have failed: on a busy machine their attempts could
    // otherwise take the normal priority's 5 slots first, and the failing ones would wait a minute for one.
    for (const jobId of failed) await service.waitFor(jobId, ['failed']);
    const running = await submitted('bulk-flood-running', { seconds: 60 }, requests);
    const flood = async (action: 'cancel' | 'retry', jobIds: string[]) => {
      const answers = await Promise.all(
        jobIds.map((jobId) =>
          bulk(action, { jobIds: [jobId, ...Array.from({ length: 99 }, () => uniqueJobId('bulk-flood-unknown'))] }),
        ),
      );
      assert.ok(
        answers.some((answer) => answer.status === 429),
        `${action}: some of ${requests} requests sent at once are refused`,
      );
      for (const answer of answers) {
        if (answer.status === 200) {
          assert.equal(answer.body.results[0]!.status, 202, `${action}: an admitted request acts on its job`);
          assert.deepEqual(new Set(answer.body.results.slice(1).map((result) => result.status)), new Set([404]));
          continue;
        }
        assert.equal(answer.status, 429);
        assert.equal(answer.body.error.code, 'rate_limited');
        assert.match(answer.body.error.message, /still running .*; wait for its answer, then send the next/);
        assert.ok(Number(answer.headers.get('retry-after')) >= 1, 'with Retry-After');
      }
      return answers.map((answer) => answer.status);
    };

    const retried = await flood('retry', failed);
    for (const [index, jobId] of failed.entries()) {
      const job = (await service.getJob(jobId)).body;
      assert.equal(job.run, retried[index] === 200 ? 2 : 1, `a refused retry starts no run (${jobId})`);
    }
    const cancelled = await flood('cancel', running);
    for (const [index, jobId] of running.entries()) {
      if (cancelled[index] === 200) await service.waitFor(jobId, ['cancelled'], 10_000);
      else assert.notEqual((await service.getJob(jobId)).body.status, 'cancelled', 'a refused cancel cancels nothing');
    }
    for (const [index, jobId] of running.entries()) if (cancelled[index] === 429) await service.cancel(jobId);
  });

  it('refuses an empty list, more than 100 ids, an id twice, a bad id and a body that is not JSON', async function () {
    const cases: [unknown, RegExp][] = [
      [{ jobIds: [] }, /^jobIds: name at least one job/],
      [{ jobIds: Array.from({ length: 101 }, (_, i) => `job-${i}`) }, /^jobIds: name at most 100 jobs/],
      [{ jobIds: ['a', 'b', 'a'] }, /^jobIds: names a job twice/],
      [{ jobIds: ['ok', '-bad'] }, /^jobIds\.1: must be 1–128 characters/],
      [{}, /^jobIds: /],
      [{ jobIds: ['a'], status: 'failed' }, /^status: unknown field/],
    ];
    for (const action of ['cancel', 'retry'] as const) {
      for (const [body, message] of cases) {
        const answer = await bulk(action, body);
        assert.equal(answer.status, 400, JSON.stringify(body));
        assert.equal(answer.body.error.code, 'invalid_request');
        assert.match(answer.body.error.message, message);
      }
    }
    const notJson = await service.request<ErrorBody>('POST', '/api/v1/jobs/cancel', 'jobIds=a', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(notJson.status, 415);
  });
});
