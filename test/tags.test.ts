import assert from 'node:assert/strict';
import type { ErrorBody } from '../src/contract/errors.js';
import type { Job } from '../src/contract/job.js';
import type { JobList } from '../src/contract/job-list.js';
import type { Schedule } from '../src/contract/schedule.js';
import type { z } from 'zod';
import { TestService, uniqueJobId } from './support/service.js';

type JobListBody = z.infer<typeof JobList>;

/** The ids the list answers for `query`, once visibility has `expected` of them (it lags writes by about a second). */
async function listedIds(service: TestService, query: string, expected: number): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { status, body } = await service.request<JobListBody>('GET', `/api/v1/jobs?${query}`);
    assert.equal(status, 200, JSON.stringify(body));
    const ids = body.jobs.map((job) => job.jobId).sort();
    if (ids.length >= expected || Date.now() > deadline) return ids;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const tag = (value: string): string => `tag=${encodeURIComponent(value)}`;

describe('Tagging jobs', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start({ env: { SCHEDULE_MIN_INTERVAL_SECONDS: '1' } });
  });
  after(async function () {
    await service.teardown();
  });

  it('shows the tags a job was submitted with, and none for a job without', async function () {
    const tags = ['workspace:acme-eu', 'team:data'];
    const tagged = await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: uniqueJobId('tagged'), tags });
    assert.equal(tagged.status, 202);
    assert.deepEqual(tagged.body.tags, tags);
    assert.deepEqual((await service.waitFor(tagged.body.jobId, ['succeeded'])).tags, tags);
    const plain = await service.submit({ type: 'sleep', input: { seconds: 0 } }, '?wait=10');
    assert.deepEqual(plain.body.tags, []);
  });

  it('filters the list by tag, every tag given (AND), tags of the same key apart', async function () {
    const both = uniqueJobId('both');
    const euOnly = uniqueJobId('eu-only');
    const us = uniqueJobId('us');
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: both, tags: ['ws:eu', 'team:a'] });
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: euOnly, tags: ['ws:eu'] });
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: us, tags: ['ws:us', 'team:a'] });
    assert.deepEqual(await listedIds(service, tag('ws:eu'), 2), [both, euOnly].sort());
    assert.deepEqual(await listedIds(service, `${tag('ws:eu')}&${tag('team:a')}`, 1), [both]);
    assert.deepEqual(await listedIds(service, `${tag('team:a')}&status=failed&${tag('ws:us')}`, 0), []);
    assert.deepEqual(await listedIds(service, tag('ws:e'), 0), [], 'a tag matches whole, not by prefix');
  });

  it('refuses a tag filter an attacker would widen the query with, before any query', async function () {
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: uniqueJobId('bystander'), tags: ['q:x'] });
    assert.equal((await listedIds(service, tag('q:x'), 1)).length, 1);
    const attacks = [
      "q:x'OR'1'='1",
      "q:x' OR '1'='1",
      "q:x'/**/OR/**/JobTags!='",
      'q:\\',
      "q:\\'",
      "q:x')",
      'q:x"OR"1"="1',
    ];
    for (const attack of attacks) {
      for (const path of ['/api/v1/jobs', '/api/v1/jobs/counts']) {
        const { status, body } = await service.request<ErrorBody>('GET', `${path}?${tag('q:x')}&${tag(attack)}`);
        assert.equal(status, 400, `${path} ${attack}`);
        assert.match(body.error.message, /^tag\.1: must be key:value/, attack);
      }
    }
    const quoted = await service.request<ErrorBody>('POST', '/api/v1/jobs', {
      type: 'sleep',
      input: { seconds: 0 },
      tags: ["q:it's"],
    });
    assert.equal(quoted.status, 400);
  });

  it('refuses a misspelt tag, a long one, a repeated one and more than 10, saying what a tag is', async function () {
    const refusals: [unknown, RegExp][] = [
      [['workspace'], /tags\.0.*key:value/],
      [['Workspace:acme'], /tags\.0.*key:value/],
      [['workspace:acme eu'], /tags\.0.*a value of/],
      [['ws:a\\b'], /tags\.0.*a value of/],
      [['workspace:'], /tags\.0.*key:value/],
      [[':acme'], /tags\.0.*key:value/],
      [['ws:a\nb'], /tags\.0.*a value of/],
      [[`ws:${'x'.repeat(126)}`], /tags\.0.*at most 128 characters/],
      [['ws:a', 'ws:a'], /tags.*must not repeat a tag/],
      [Array.from({ length: 11 }, (_, i) => `n:${i}`), /tags.*at most 10 tags/],
      ['ws:a', /tags/],
    ];
    for (const [tags, message] of refusals) {
      const { status, body } = await service.request<ErrorBody>('POST', '/api/v1/jobs', {
        type: 'sleep',
        input: { seconds: 0 },
        tags,
      });
      assert.equal(status, 400, JSON.stringify(tags));
      assert.equal(body.error.code, 'invalid_request');
      assert.match(body.error.message, message, JSON.stringify(tags));
    }
    const tenTags = Array.from({ length: 10 }, (_, i) => `n:${i}`);
    const ten = await service.submit({ type: 'sleep', input: { seconds: 0 }, tags: tenTags });
    assert.equal(ten.status, 202);
    assert.deepEqual(ten.body.tags, tenTags);
    for (const [query, message] of [
      [tag('nocolon'), /^tag: must be key:value/],
      // It was "tag: Invalid input".
      [Array.from({ length: 11 }, (_, i) => tag(`n:${i}`)).join('&'), /^tag: give at most 10 tags/],
    ] as const) {
      for (const path of ['/api/v1/jobs', '/api/v1/jobs/counts']) {
        const { status, body } = await service.request<ErrorBody>('GET', `${path}?${query}`);
        assert.equal(status, 400, query);
        assert.match(body.error.message, message, `${path}?${query}`);
      }
    }
  });

  it('is part of the request: the same body with other tags is a conflict', async function () {
    const jobId = uniqueJobId('tag-conflict');
    assert.equal((await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId, tags: ['a:1'] })).status, 202);
    assert.equal((await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId, tags: ['a:1'] })).status, 200);
    const other = await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId, tags: ['a:2'] });
    assert.equal(other.status, 409);
  });

  it('carries the tags to a retry, each job of a batch and each run of a schedule', async function () {
    const failing = uniqueJobId('tagged-retry');
    await service.submit(
      {
        type: 'sleep',
        input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' },
        jobId: failing,
        tags: ['carry:retry'],
      },
      '?wait=10',
    );
    const retried = await service.request<Job>('POST', `/api/v1/jobs/${failing}/retry`);
    assert.equal(retried.status, 202);
    assert.deepEqual(retried.body.tags, ['carry:retry']);
    const rerun = await service.waitFor(failing, (job) => job.run === 2 && job.status !== 'queued');
    assert.deepEqual(rerun.tags, ['carry:retry']);

    const batch = await service.request<{ results: { status: number; job?: Job }[] }>('POST', '/api/v1/job-batches', {
      jobs: [
        { type: 'sleep', input: { seconds: 0 }, tags: ['carry:batch'] },
        { type: 'sleep', input: { seconds: 0 }, tags: ['carry:batch', 'n:2'] },
      ],
    });
    assert.deepEqual(
      batch.body.results.map((result) => result.job?.tags),
      [['carry:batch'], ['carry:batch', 'n:2']],
    );
    assert.equal((await listedIds(service, tag('carry:batch'), 2)).length, 2);

    const scheduleId = uniqueJobId('tagged-schedule');
    const created = await service.request<Schedule>('POST', '/api/v1/schedules', {
      scheduleId,
      intervalSeconds: 3600,
      job: { type: 'sleep', input: { seconds: 0 }, tags: ['carry:schedule'] },
    });
    assert.equal(created.status, 201);
    assert.equal((await service.request('POST', `/api/v1/schedules/${scheduleId}/trigger`)).status, 200);
    const [run = ''] = await listedIds(service, tag('carry:schedule'), 1);
    assert.ok(run?.startsWith(`${scheduleId}-`), `a run of the schedule is listed under its tag: ${run}`);
    assert.deepEqual((await service.waitFor(run, ['succeeded'])).tags, ['carry:schedule']);
    await service.request('DELETE', `/api/v1/schedules/${scheduleId}`);
  });
});
