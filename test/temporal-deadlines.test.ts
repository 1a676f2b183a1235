// Deadlines belong to each call to Temporal, not to the request that makes many: a batch of 100 starts or a list of
// 100 unfinished jobs (a describe and a query each) takes longer than one call's deadline on a busy machine, and a
// healthy Temporal must not be answered as an outage (issue 21, item 4).
import assert from 'node:assert/strict';
import type { Job } from '../src/contract/job.js';
import { TestService, uniqueJobId } from './support/service.js';

interface BatchBody {
  results: Array<{ index: number; status: number; error?: { code: string; message: string } }>;
}

/** Delayed an hour: unfinished for the whole test, so each list row is read from its workflow, not from visibility. */
const unfinishedJob = (jobId: string) => ({ type: 'sleep', input: { seconds: 1 }, jobId, delaySeconds: 3600 });

describe('Deadlines per Temporal call', function () {
  this.timeout(180_000);
  let service: TestService;
  before(async function () {
    // A cap on unfinished jobs, as a production tenant has: each submit counts the tenant's jobs in visibility first.
    service = await TestService.start({ env: { MAX_UNFINISHED_JOBS_PER_TENANT: '100000' } });
    // 100 unfinished jobs for the lists, submitted ten at a time.
    for (let i = 0; i < 100; i += 10) {
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, j) => service.submit(unfinishedJob(uniqueJobId(`unfinished-${i + j}`)))),
      );
      assert.deepEqual(
        replies.map((reply) => reply.status),
        replies.map(() => 202),
      );
    }
  });
  after(async function () {
    await service.teardown();
  });

  it('answers every item of two parallel batches of 100 on a healthy Temporal', async function () {
    const batch = (label: string) => ({
      jobs: Array.from({ length: 100 }, (_, i) => unfinishedJob(uniqueJobId(`${label}-${i}`))),
    });
    const replies = await Promise.all([
      service.request<BatchBody>('POST', '/api/v1/job-batches', batch('batch-a')),
      service.request<BatchBody>('POST', '/api/v1/job-batches', batch('batch-b')),
    ]);
    for (const reply of replies) {
      assert.equal(reply.status, 200);
      const refused = reply.body.results.filter((result) => result.status !== 202);
      assert.deepEqual(
        refused.map((result) => `${result.index}: ${result.status} ${result.error?.code} ${result.error?.message}`),
        [],
      );
    }
  });

  it('answers 20 parallel lists of 100 unfinished jobs on a healthy Temporal, reading each job for all of them', async function () {
    const describesBefore = await service.temporalReads('describe');
    const lists = await Promise.all(
      Array.from({ length: 20 }, () => service.request<{ jobs: Job[] }>('GET', '/api/v1/jobs?limit=100&status=queued')),
    );
    assert.deepEqual(
      lists.map((list) => list.status),
      lists.map(() => 200),
      JSON.stringify(lists.find((list) => list.status !== 200)?.body),
    );
    for (const list of lists) assert.equal(list.body.jobs.length, 100);
    // A list row of an unfinished job is read by the reader polls share: the lists read the 100 jobs together, not a
    // describe (and a query) per job per list, 2,000 in all, each of which could pass its deadline on a busy machine.
    const describes = (await service.temporalReads('describe')) - describesBefore;
    console.log(`      20 lists of the same 100 unfinished jobs: ${describes} describes`);
    assert.ok(describes < 20 * 100, `${describes} describes for 20 lists of the same 100 jobs`);
  });
});
