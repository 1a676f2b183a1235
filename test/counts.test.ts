import assert from 'node:assert/strict';
import type { z } from 'zod';
import type { ErrorBody } from '../src/contract/errors.js';
import type { JobCounts, JobList } from '../src/contract/job-list.js';
import { TestService, uniqueJobId } from './support/service.js';

type Counts = z.infer<typeof JobCounts>;
const none: Counts['counts'] = { queued: 0, running: 0, succeeded: 0, failed: 0, timed_out: 0, cancelled: 0 };

describe('Counting jobs', function () {
  let service: TestService;
  /** The counts once visibility agrees with `expected` (it lags writes by about a second), or the last answer. */
  async function countsOnce(query: string, expected: Counts): Promise<Counts> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { status, body } = await service.request<Counts>('GET', `/api/v1/jobs/counts${query}`);
      assert.equal(status, 200, JSON.stringify(body));
      if (JSON.stringify(body) === JSON.stringify(expected) || Date.now() > deadline) return body;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  before(async function () {
    service = await TestService.start();
    const sleep = (tags: string[], input: Record<string, unknown> = { seconds: 0 }, extra = {}) =>
      service.submit(
        { type: 'sleep', input, tags, jobId: uniqueJobId('counted'), ...extra },
        'delaySeconds' in extra ? '' : '?wait=10',
      );
    await sleep(['team:a']);
    await sleep(['team:a', 'env:prod']);
    await sleep(['team:a'], { seconds: 0, failAttempts: 1, failure: 'non_retryable' });
    await sleep(['team:b']);
    // Stays queued: its first attempt is an hour away.
    await sleep(['team:a', 'env:prod'], { seconds: 0 }, { delaySeconds: 3600 });
    const cancelled = await sleep(['team:a'], { seconds: 0 }, { delaySeconds: 3600 });
    assert.equal((await service.cancel(cancelled.body.jobId)).status, 202);
  });
  after(async function () {
    await service.teardown();
  });

  it('counts the jobs per status under the filters, as the list takes them', async function () {
    const teamA: Counts = { total: 5, counts: { ...none, queued: 1, succeeded: 2, failed: 1, cancelled: 1 } };
    assert.deepEqual(await countsOnce('?tag=team:a', teamA), teamA);
    assert.deepEqual(await service.client.counts({ tag: ['team:a'] }), teamA, 'through the TypeScript client');
    const prod: Counts = { total: 2, counts: { ...none, queued: 1, succeeded: 1 } };
    assert.deepEqual(await countsOnce('?tag=team:a&tag=env:prod', prod), prod);
    const failed: Counts = { total: 1, counts: { ...none, failed: 1 } };
    assert.deepEqual(await countsOnce('?tag=team:a&status=failed', failed), failed);
    const all: Counts = { total: 6, counts: { ...none, queued: 1, succeeded: 3, failed: 1, cancelled: 1 } };
    assert.deepEqual(await countsOnce('?type=sleep', all), all);
    assert.deepEqual(await countsOnce('?priority=high', { total: 0, counts: none }), { total: 0, counts: none });
  });

  it("gives the list's total when asked, and only then", async function () {
    const { body } = await service.request<z.infer<typeof JobList>>(
      'GET',
      '/api/v1/jobs?tag=team:a&limit=2&total=true',
    );
    assert.equal(body.jobs.length, 2);
    assert.equal(body.total, 5, 'every page together');
    assert.ok(body.nextCursor);
    const next = await service.request<z.infer<typeof JobList>>(
      'GET',
      `/api/v1/jobs?tag=team:a&limit=2&total=true&cursor=${body.nextCursor}`,
    );
    assert.equal(next.body.total, 5);
    const without = await service.request<z.infer<typeof JobList>>('GET', '/api/v1/jobs?tag=team:a');
    assert.equal(without.body.total, undefined);
    assert.equal((await service.request('GET', '/api/v1/jobs?total=yes')).status, 400);
  });

  it('refuses what the list refuses, and a job of id "counts", which could not be read', async function () {
    for (const query of ['?status=done', '?type=nope', '?tag=nocolon', '?limit=5', '?bogus=1']) {
      const { status, body } = await service.request<ErrorBody>('GET', `/api/v1/jobs/counts${query}`);
      assert.equal(status, 400, query);
      assert.equal(body.error.code, 'invalid_request');
    }
    const refused = await service.request<ErrorBody>('POST', '/api/v1/jobs', {
      type: 'sleep',
      input: { seconds: 0 },
      jobId: 'counts',
    });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, /jobId: "counts" is reserved/);
  });
});
