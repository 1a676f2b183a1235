// The job's state machine (src/workflows/job-state.ts): pure transitions the workflow applies and the API shows.
import assert from 'node:assert/strict';
import type { JobState, JobStatus } from '../../src/contract/job.js';
import {
  attemptFailed,
  attemptStarted,
  attemptStartTime,
  callbackWorkflowIdOf,
  defaultTenant,
  ended,
  initialJobState,
  isFinished,
  jobIdOf,
  priorityOf,
  retryDelaySeconds,
  runRequest,
  succeeded,
  workflowIdOf,
  type JobRequest,
} from '../../src/workflows/job-state.js';
import { sampleJobRequest } from '../support/job-request.js';

const { retry } = sampleJobRequest();

const t1 = '2025-01-01T00:00:01.000Z';
const t2 = '2025-01-01T00:00:02.000Z';
const t3 = '2025-01-01T00:00:03.000Z';
const boom = { type: 'TransientError', message: 'boom' };

describe("A job's state starts queued, as submitted", function () {
  it("is queued with no attempt, no result, no error and the retry policy's attempts", function () {
    assert.deepEqual(initialJobState(sampleJobRequest()), {
      jobId: 'job-1',
      type: 'sleep',
      priority: 'normal',
      status: 'queued',
      attempt: 0,
      maxAttempts: 3,
      progress: null,
      input: { seconds: 1 },
      result: null,
      error: null,
      lastError: null,
      createdAt: '2025-01-01T00:00:00.000Z',
      startedAt: null,
      finishedAt: null,
      runAt: null,
      run: 1,
      callback: null,
      children: null,
    });
  });

  const rows: { name: string; overrides: Partial<JobRequest>; expect: Partial<JobState> }[] = [
    { name: 'a delayed job shows when it may start', overrides: { runAt: t3 }, expect: { runAt: t3 } },
    { name: 'a retried finished job counts its run', overrides: { run: 4 }, expect: { run: 4 } },
    {
      name: 'a job with a callbackUrl has a pending delivery with no attempts',
      overrides: { callbackUrl: 'https://example.com/hook' },
      expect: { callback: { status: 'pending', attempts: 0, lastError: null } },
    },
    {
      name: 'a parent job lists its children, each queued',
      overrides: {
        children: [
          { request: sampleJobRequest({ jobId: 'child-a' }), requestHash: 'a' },
          { request: sampleJobRequest({ jobId: 'child-b' }), requestHash: 'b' },
        ],
      },
      expect: {
        children: [
          { jobId: 'child-a', status: 'queued' },
          { jobId: 'child-b', status: 'queued' },
        ],
      },
    },
    {
      name: 'maxAttempts comes from the retry settings',
      overrides: { retry: { ...retry, maxAttempts: 7 } },
      expect: { maxAttempts: 7 },
    },
  ];
  for (const { name, overrides, expect } of rows) {
    it(name, function () {
      const state = initialJobState(sampleJobRequest(overrides));
      for (const [field, value] of Object.entries(expect))
        assert.deepEqual(state[field as keyof JobState], value, field);
    });
  }
});

describe("A job's state moves through its attempts", function () {
  const queued = initialJobState(sampleJobRequest());

  it('is running once an attempt starts, and keeps the first start time across attempts', function () {
    const first = attemptStarted(queued, 1, t1);
    assert.equal(first.status, 'running');
    assert.equal(first.attempt, 1);
    assert.equal(first.startedAt, t1);
    const second = attemptStarted(attemptFailed(first, 1, boom), 2, t2);
    assert.equal(second.attempt, 2);
    assert.equal(second.startedAt, t1, 'startedAt is when the job first started, not the latest attempt');
  });

  it('is queued again after a failed attempt that will be retried, showing the failure as lastError, not error', function () {
    const retrying = attemptFailed(attemptStarted(queued, 1, t1), 1, boom);
    assert.equal(retrying.status, 'queued');
    assert.equal(retrying.attempt, 1);
    assert.deepEqual(retrying.lastError, boom);
    assert.equal(retrying.error, null);
    assert.equal(retrying.finishedAt, null);
  });

  it('succeeds with the result and the final progress, clearing lastError', function () {
    const retried = attemptStarted(attemptFailed(attemptStarted(queued, 1, t1), 1, boom), 2, t2);
    const done = succeeded(retried, 2, { result: { ok: true }, progress: { percent: 100, message: 'done' } }, t3);
    assert.equal(done.status, 'succeeded');
    assert.equal(done.attempt, 2);
    assert.deepEqual(done.result, { ok: true });
    assert.deepEqual(done.progress, { percent: 100, message: 'done' });
    assert.equal(done.lastError, null);
    assert.equal(done.error, null);
    assert.equal(done.startedAt, t1);
    assert.equal(done.finishedAt, t3);
  });

  it('keeps the last reported progress when the attempt returns none, and shows an undefined result as null', function () {
    const running = { ...attemptStarted(queued, 1, t1), progress: { percent: 40, message: 'halfway' } };
    const done = succeeded(running, 1, { result: undefined, progress: null }, t2);
    assert.deepEqual(done.progress, { percent: 40, message: 'halfway' });
    assert.equal(done.result, null);
  });

  it('has a start time even when it succeeds without a started attempt being seen', function () {
    const done = succeeded(queued, 1, { result: 1, progress: null }, t2);
    assert.equal(done.startedAt, t2);
  });

  it('starts when the attempt that succeeded unseen says it started, unless an earlier attempt was seen starting', function () {
    assert.equal(succeeded(queued, 1, { result: 1, progress: null }, t3, t2).startedAt, t2);
    const retried = attemptFailed(attemptStarted(queued, 1, t1), 1, boom);
    assert.equal(succeeded(retried, 2, { result: 1, progress: null }, t3, t2).startedAt, t1);
  });

  const endings: { status: 'failed' | 'timed_out' | 'cancelled'; error: { type: string; message: string } }[] = [
    { status: 'failed', error: { type: 'UnrecoverableError', message: 'bad input' } },
    { status: 'timed_out', error: { type: 'TimedOut', message: 'the job ran longer than 60 s' } },
    { status: 'cancelled', error: { type: 'Cancelled', message: 'cancelled by request' } },
  ];
  for (const { status, error } of endings) {
    it(`ends ${status} with the error, its finish time, and no lastError`, function () {
      const before = attemptFailed(attemptStarted(queued, 1, t1), 1, boom);
      const after = ended(before, status, error, t2);
      assert.equal(after.status, status);
      assert.deepEqual(after.error, error);
      assert.equal(after.lastError, null);
      assert.equal(after.finishedAt, t2);
      assert.equal(after.attempt, 1, 'the attempts made so far stay counted');
      assert.equal(after.startedAt, t1);
    });
  }

  it('never changes the state it is given', function () {
    const frozen = Object.freeze(attemptStarted(queued, 1, t1));
    const copy = structuredClone(frozen);
    attemptFailed(frozen, 1, boom);
    succeeded(frozen, 1, { result: 1, progress: null }, t2);
    ended(frozen, 'cancelled', boom, t2);
    assert.deepEqual(frozen, copy);
  });
});

describe("An attempt's start is its worker's report, within when the workflow scheduled it and heard of it", function () {
  // The workflow scheduled the attempt at t1 and hears of it (the signal, or the outcome) at t3.
  const rows: [what: string, reported: unknown, startedAt: string][] = [
    ['a time between the two is taken', '2025-01-01T00:00:02.345Z', '2025-01-01T00:00:02.345Z'],
    ['the bounds themselves are taken', t1, t1],
    ['a time with an offset is taken, shown in UTC', '2025-01-01T02:00:02.500+02:00', '2025-01-01T00:00:02.500Z'],
    ['a time before the attempt was scheduled is moved up to then', '2025-01-01T00:00:00.200Z', t1],
    ['a time long before (a skewed clock) is moved up to the schedule', '1970-01-01T00:00:00.000Z', t1],
    ['a time after the workflow heard of it is moved back to then', '2025-01-01T00:00:03.001Z', t3],
    ['a time far ahead is moved back to when the workflow heard of it', '2999-12-31T23:59:59.999Z', t3],
    ['no time at all (a worker from before) is when the workflow heard of it', undefined, t3],
    ['null is no time', null, t3],
    ['a string that is no date is no time', 'yesterday', t3],
    ['an empty string is no time', '', t3],
    ['a number is no time, even a plausible one', Date.parse(t2), t3],
    ['an object is no time', { startedAt: t2 }, t3],
  ];
  for (const [what, reported, startedAt] of rows) {
    it(`${what}: ${JSON.stringify(reported) ?? 'undefined'} → ${startedAt}`, function () {
      assert.equal(attemptStartTime(reported, t1, t3), startedAt);
    });
  }

  it("is the job's startedAt when it is the first attempt's", function () {
    const queued = initialJobState(sampleJobRequest());
    const started = attemptStarted(queued, 1, attemptStartTime('2025-01-01T00:00:01.500Z', t1, t3));
    assert.equal(started.startedAt, '2025-01-01T00:00:01.500Z');
  });
});

describe('A job is finished once it succeeded, failed, timed out or was cancelled', function () {
  const rows: [JobStatus, boolean][] = [
    ['queued', false],
    ['running', false],
    ['succeeded', true],
    ['failed', true],
    ['timed_out', true],
    ['cancelled', true],
  ];
  for (const [status, finished] of rows) {
    it(`${status}: ${finished ? 'finished' : 'not finished'}`, function () {
      assert.equal(isFinished(status), finished);
    });
  }
});

describe("A retry waits as Temporal's retry policy computes it", function () {
  const rows: [settings: typeof retry, failedAttempt: number, seconds: number][] = [
    [retry, 1, 1],
    [retry, 2, 2],
    [retry, 3, 4],
    [retry, 7, 60],
    [{ ...retry, backoffCoefficient: 1 }, 5, 1],
    [{ ...retry, initialIntervalSeconds: 0 }, 3, 0],
    [{ ...retry, initialIntervalSeconds: 10, maximumIntervalSeconds: 5 }, 1, 5],
  ];
  for (const [settings, failedAttempt, seconds] of rows) {
    it(`after attempt ${failedAttempt} (initial ${settings.initialIntervalSeconds} s × ${settings.backoffCoefficient}, at most ${settings.maximumIntervalSeconds} s): ${seconds} s`, function () {
      assert.equal(retryDelaySeconds(settings, failedAttempt), seconds);
    });
  }
});

describe("A job's workflow id keeps tenants apart", function () {
  const rows: [tenant: string, jobId: string, workflowId: string][] = [
    [defaultTenant, 'job-1', 'job-1'],
    ['acme', 'job-1', 'acme/job-1'],
    ['acme', 'a.b:c-d', 'acme/a.b:c-d'],
    ['default-2', 'x', 'default-2/x'],
  ];
  for (const [tenant, jobId, workflowId] of rows) {
    it(`${tenant}'s ${jobId} runs as workflow ${workflowId}, and maps back`, function () {
      assert.equal(workflowIdOf(tenant, jobId), workflowId);
      assert.equal(jobIdOf(tenant, workflowId), jobId);
    });
  }

  it("gives two tenants' jobs of the same id two workflows", function () {
    assert.notEqual(workflowIdOf('acme', 'job-1'), workflowIdOf('globex', 'job-1'));
    assert.notEqual(workflowIdOf(defaultTenant, 'job-1'), workflowIdOf('acme', 'job-1'));
  });

  it("delivers a job's callback from a workflow of its own, beside the job's", function () {
    assert.equal(callbackWorkflowIdOf('acme/job-1'), 'acme/job-1#callback');
  });
  it("names a scheduled run's job after the run's own workflow id, read from the workflow or its history alike", function () {
    const startTime = new Date('2026-12-01T05:00:00.000Z');
    const template = sampleJobRequest({ jobId: 'nightly', tenant: 'acme', scheduled: true });
    const run = runRequest(template, { workflowId: 'acme/nightly-2026-12-01T05:00:00Z', startTime });
    assert.equal(run.jobId, 'nightly-2026-12-01T05:00:00Z');
    assert.equal(run.submittedAt, '2026-12-01T05:00:00.000Z');
    const submitted = sampleJobRequest();
    assert.equal(runRequest(submitted, { workflowId: 'job-1', startTime }), submitted);
  });
});

describe("A job's priority orders it within Temporal's queues, its tenant shares them fairly", function () {
  const rows: [
    priority: JobRequest['priority'],
    tenant: string | undefined,
    expected: ReturnType<typeof priorityOf>,
  ][] = [
    ['high', 'acme', { priorityKey: 1, fairnessKey: 'acme' }],
    ['normal', 'acme', { priorityKey: 3, fairnessKey: 'acme' }],
    ['low', 'acme', { priorityKey: 5, fairnessKey: 'acme' }],
    ['normal', undefined, { priorityKey: 3 }],
  ];
  for (const [priority, tenant, expected] of rows) {
    it(`${priority}${tenant ? ` for ${tenant}` : ' from before tenants'}: ${JSON.stringify(expected)}`, function () {
      assert.deepEqual(priorityOf({ priority, ...(tenant ? { tenant } : {}) }), expected);
    });
  }
});
