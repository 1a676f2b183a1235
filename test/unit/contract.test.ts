// The REST contract's zod schemas (src/contract/job.ts) on the edge cases a client hits: what is accepted, and
// which field a refusal names.
import assert from 'node:assert/strict';
import type { z } from 'zod';
import { JobId, RetrySettings, SubmitJobBody, WaitQuery } from '../../src/contract/job.js';
import { ListJobsQuery } from '../../src/contract/job-list.js';
import { CreateScheduleBody } from '../../src/contract/schedule.js';

/** A table row: the value, and either `ok` or the path of the field the first refusal names. */
type Row = readonly [name: string, value: unknown, expected: 'ok' | readonly (string | number)[]];

function check(schema: z.ZodType, rows: readonly Row[]): void {
  for (const [name, value, expected] of rows) {
    it(`${expected === 'ok' ? 'accepts' : 'refuses'} ${name}`, function () {
      const parsed = schema.safeParse(value);
      if (expected === 'ok') {
        assert.ok(parsed.success, `refused: ${JSON.stringify(parsed.error?.issues)}`);
      } else {
        assert.ok(!parsed.success, 'accepted');
        assert.deepEqual(parsed.error.issues[0]?.path, expected, JSON.stringify(parsed.error.issues));
      }
    });
  }
}

describe('A job id is 1–128 characters of [A-Za-z0-9._:-], starting with a letter or digit', function () {
  check(JobId, [
    ['a single letter', 'a', 'ok'],
    ['a single digit', '7', 'ok'],
    ['every allowed character', 'Order-42_v1.2:retry', 'ok'],
    ['128 characters', 'a'.repeat(128), 'ok'],
    ['129 characters', 'a'.repeat(129), []],
    ['the empty string', '', []],
    ['a leading dash', '-job', []],
    ['a leading dot', '.job', []],
    ['a slash (tenant separator in workflow ids)', 'acme/job', []],
    ['a # (callback workflow separator)', 'job#callback', []],
    ['a space', 'my job', []],
    ['non-ASCII letters', 'jöb', []],
    ['a number', 42, []],
  ]);

  it('tells the client which characters it takes', function () {
    const parsed = JobId.safeParse('bad/id');
    assert.match(parsed.error?.issues[0]?.message ?? '', /1–128 characters of \[A-Za-z0-9\._:-\]/);
  });
});

describe('A submit body is checked before any job starts', function () {
  it('needs only a type, and defaults the priority to normal', function () {
    assert.deepEqual(SubmitJobBody.parse({ type: 'sleep' }), { type: 'sleep', priority: 'normal' });
  });

  it('passes any input through untouched (the job type checks it)', function () {
    const input = { seconds: 1, nested: [1, { x: null }] };
    assert.deepEqual(SubmitJobBody.parse({ type: 'sleep', input }).input, input);
  });

  check(SubmitJobBody, [
    [
      'a full body',
      {
        type: 'sleep',
        input: { seconds: 1 },
        jobId: 'job-1',
        priority: 'high',
        timeoutSeconds: 60,
        heartbeatTimeoutSeconds: 10,
        retry: { maxAttempts: 5 },
        callbackUrl: 'https://example.com/hook',
        delaySeconds: 5,
      },
      'ok',
    ],
    ['no type', {}, ['type']],
    ['an empty type', { type: '' }, ['type']],
    ['a 129-character type', { type: 'x'.repeat(129) }, ['type']],
    ['an unknown field (a typo is not ignored)', { type: 'sleep', timeout: 60 }, []],
    ['a priority outside high/normal/low', { type: 'sleep', priority: 'urgent' }, ['priority']],
    ['a bad jobId', { type: 'sleep', jobId: 'a/b' }, ['jobId']],
    ['timeoutSeconds 0', { type: 'sleep', timeoutSeconds: 0 }, ['timeoutSeconds']],
    ['a fractional timeoutSeconds', { type: 'sleep', timeoutSeconds: 1.5 }, ['timeoutSeconds']],
    ['timeoutSeconds of a week', { type: 'sleep', timeoutSeconds: 604_800 }, 'ok'],
    ['timeoutSeconds over a week', { type: 'sleep', timeoutSeconds: 604_801 }, ['timeoutSeconds']],
    ['timeoutSeconds as a string', { type: 'sleep', timeoutSeconds: '60' }, ['timeoutSeconds']],
    [
      'heartbeatTimeoutSeconds over a day',
      { type: 'sleep', heartbeatTimeoutSeconds: 86_401 },
      ['heartbeatTimeoutSeconds'],
    ],
    ['part of the retry settings', { type: 'sleep', retry: { backoffCoefficient: 1.5 } }, 'ok'],
    ['an unknown retry setting', { type: 'sleep', retry: { attempts: 3 } }, ['retry']],
    ['retry.maxAttempts 0', { type: 'sleep', retry: { maxAttempts: 0 } }, ['retry', 'maxAttempts']],
    [
      'an http callbackUrl (its host is checked at delivery)',
      { type: 'sleep', callbackUrl: 'http://127.0.0.1:8080/hook' },
      'ok',
    ],
    ['an ftp callbackUrl', { type: 'sleep', callbackUrl: 'ftp://example.com/hook' }, ['callbackUrl']],
    ['a callbackUrl that is no URL', { type: 'sleep', callbackUrl: 'example.com/hook' }, ['callbackUrl']],
    [
      'a callbackUrl over 2048 characters',
      { type: 'sleep', callbackUrl: `https://example.com/${'a'.repeat(2048)}` },
      ['callbackUrl'],
    ],
    ['a negative delaySeconds', { type: 'sleep', delaySeconds: -1 }, ['delaySeconds']],
    ['a delaySeconds over a year', { type: 'sleep', delaySeconds: 31_536_001 }, ['delaySeconds']],
    ['runAt in UTC', { type: 'sleep', runAt: '2030-01-01T00:00:00Z' }, 'ok'],
    ['runAt with an offset', { type: 'sleep', runAt: '2030-01-01T00:00:00+02:00' }, 'ok'],
    ['runAt as a date alone', { type: 'sleep', runAt: '2030-01-01' }, ['runAt']],
    ['runAt without a zone', { type: 'sleep', runAt: '2030-01-01T00:00:00' }, ['runAt']],
    [
      'children',
      { type: 'sleep', children: [{ type: 'sleep' }, { type: 'command' }], onChildFailure: 'continue' },
      'ok',
    ],
    ['an empty children list', { type: 'sleep', children: [] }, ['children']],
    ['101 children', { type: 'sleep', children: Array.from({ length: 101 }, () => ({ type: 'sleep' })) }, ['children']],
    [
      'grandchildren (a child has no children)',
      { type: 'sleep', children: [{ type: 'sleep', children: [{ type: 'sleep' }] }] },
      ['children', 0],
    ],
    [
      'a child with a bad field',
      { type: 'sleep', children: [{ type: 'sleep' }, { type: 'sleep', priority: 'top' }] },
      ['children', 1, 'priority'],
    ],
    ['an onChildFailure other than fail/continue', { type: 'sleep', onChildFailure: 'ignore' }, ['onChildFailure']],
    ['a body that is an array', [{ type: 'sleep' }], []],
  ]);
});

describe('Retry settings stay within what Temporal is asked to do', function () {
  const valid = { maxAttempts: 3, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 60 };
  check(RetrySettings, [
    ["the sleep job's defaults", valid, 'ok'],
    [
      'one attempt, no waiting, no backoff',
      { maxAttempts: 1, initialIntervalSeconds: 0, backoffCoefficient: 1, maximumIntervalSeconds: 0 },
      'ok',
    ],
    [
      'the largest values',
      { maxAttempts: 100, initialIntervalSeconds: 86_400, backoffCoefficient: 100, maximumIntervalSeconds: 86_400 },
      'ok',
    ],
    ['a fractional interval', { ...valid, initialIntervalSeconds: 0.5 }, 'ok'],
    ['maxAttempts 101', { ...valid, maxAttempts: 101 }, ['maxAttempts']],
    ['a fractional maxAttempts', { ...valid, maxAttempts: 2.5 }, ['maxAttempts']],
    ['a backoffCoefficient under 1', { ...valid, backoffCoefficient: 0.5 }, ['backoffCoefficient']],
    ['a negative initial interval', { ...valid, initialIntervalSeconds: -1 }, ['initialIntervalSeconds']],
    ['a maximum interval over a day', { ...valid, maximumIntervalSeconds: 86_401 }, ['maximumIntervalSeconds']],
    [
      'a missing field (only a submit body may leave some out)',
      { maxAttempts: 3, initialIntervalSeconds: 1, backoffCoefficient: 2 },
      ['maximumIntervalSeconds'],
    ],
    ['an unknown field', { ...valid, jitter: 0.1 }, []],
  ]);
});

describe('A schedule is made with exactly one of cron and intervalSeconds', function () {
  const job = { type: 'sleep', input: { seconds: 1 } };
  check(CreateScheduleBody, [
    ['a cron', { scheduleId: 'nightly', cron: '0 3 * * *', job }, 'ok'],
    ['an interval', { scheduleId: 'often', intervalSeconds: 60, job, overlap: 'buffer_one', paused: true }, 'ok'],
    ['a cron with spaces around it', { scheduleId: 's', cron: '  */5 * * * *  ', job }, 'ok'],
    ['neither', { scheduleId: 's', job }, []],
    ['both', { scheduleId: 's', cron: '0 3 * * *', intervalSeconds: 60, job }, []],
    ['a cron of four fields', { scheduleId: 's', cron: '00 03 * *', job }, ['cron']],
    ['a cron of six fields (seconds)', { scheduleId: 's', cron: '0 0 3 * * *', job }, ['cron']],
    ['intervalSeconds 0', { scheduleId: 's', intervalSeconds: 0, job }, ['intervalSeconds']],
    ['a fractional intervalSeconds', { scheduleId: 's', intervalSeconds: 1.5, job }, ['intervalSeconds']],
    [
      'a job with a jobId (each run gets its own)',
      { scheduleId: 's', intervalSeconds: 60, job: { ...job, jobId: 'x' } },
      ['job'],
    ],
    ['a job with a delay', { scheduleId: 's', intervalSeconds: 60, job: { ...job, delaySeconds: 5 } }, ['job']],
    ['a job with children', { scheduleId: 's', intervalSeconds: 60, job: { ...job, children: [job] } }, ['job']],
    ['no job', { scheduleId: 's', intervalSeconds: 60 }, ['job']],
    ['an unknown overlap policy', { scheduleId: 's', intervalSeconds: 60, job, overlap: 'never' }, ['overlap']],
    ['a 101-character scheduleId', { scheduleId: 's'.repeat(101), intervalSeconds: 60, job }, ['scheduleId']],
    ['a scheduleId with a slash', { scheduleId: 'a/b', intervalSeconds: 60, job }, ['scheduleId']],
  ]);

  it('says so when given neither or both', function () {
    const parsed = CreateScheduleBody.safeParse({ scheduleId: 's', job });
    assert.equal(parsed.error?.issues[0]?.message, 'give exactly one of cron and intervalSeconds');
  });
});

describe('A list of jobs is asked for with a query string', function () {
  it('reads limit and wait from their text, limit defaulting to 20', function () {
    assert.deepEqual(ListJobsQuery.parse({}), { limit: 20 });
    assert.deepEqual(ListJobsQuery.parse({ limit: '5', status: 'running' }), { limit: 5, status: 'running' });
    assert.deepEqual(WaitQuery.parse({ wait: '30' }), { wait: 30 });
  });

  describe('the list', function () {
    check(ListJobsQuery, [
      ['limit 100', { limit: '100' }, 'ok'],
      ['limit 0', { limit: '0' }, ['limit']],
      ['limit 101', { limit: '101' }, ['limit']],
      ['a limit that is no number', { limit: 'ten' }, ['limit']],
      ['a status outside the enum', { status: 'done' }, ['status']],
      ['a cursor this API would give', { cursor: `${'a'.repeat(40)}.abcdefghijkl` }, 'ok'],
      ['a cursor this API never gives', { cursor: 'page-2' }, ['cursor']],
      ['an unknown parameter', { page: '2' }, []],
      ['a tag', { tag: 'workspace:acme-eu' }, 'ok'],
      ['tags', { tag: ['workspace:acme-eu', 'team:data'] }, 'ok'],
      ['a tag without its key', { tag: 'acme-eu' }, ['tag']],
      ['a tag with a quote', { tag: "ws:x'OR'1'='1" }, ['tag']],
      ['eleven tags', { tag: Array.from({ length: 11 }, (_, i) => `n:${i}`) }, ['tag']],
      ['a total asked for', { total: 'true' }, 'ok'],
      ['a total that is no boolean', { total: 'yes' }, ['total']],
    ]);
  });

  describe('a wait', function () {
    check(WaitQuery, [
      ['wait 0', { wait: '0' }, 'ok'],
      ['wait 300', { wait: '300' }, 'ok'],
      ['wait 301', { wait: '301' }, ['wait']],
      ['a fractional wait', { wait: '1.5' }, ['wait']],
    ]);
  });
});
