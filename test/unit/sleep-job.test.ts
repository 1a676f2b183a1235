// The `sleep` job type (src/activities/sleep.ts) run by hand, and the SDK's activity that runs a job type's handler
// (packages/worker/src/attempt.ts, what the service's worker serves it with) under MockActivityEnvironment.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { defineJobType, UnrecoverableError, type JobContext } from '@durable-jobs/worker';
import { attemptActivity } from '@durable-jobs/worker/serve';
import { z } from 'zod';
import { freePort } from '../../dev/parts.js';
import { sleepJob, TransientError } from '../../src/activities/sleep.js';
import { createLazyClient } from '../../src/temporal/connection.js';
import type { AttemptOutcome } from '../../src/workflows/job-state.js';
import type { HeartbeatDetails } from '../../src/workflows/messages.js';
import { until } from '../support/until.js';

const logger = new DefaultLogger('ERROR');

/** A JobContext for one attempt, recording each progress report. */
function contextFor(attempt: number, signal = new AbortController().signal) {
  const reports: { percent: number | null; message: string | null }[] = [];
  const context: JobContext = {
    jobId: 'job-1',
    tenant: 'default',
    log: Object.assign(Object.create(logger) as DefaultLogger, { keep: () => undefined }),
    attempt,
    signal,
    progress: (percent, message) => reports.push({ percent, message: message ?? null }),
  };
  return { context, reports };
}

describe('A sleep job sleeps, reporting progress', function () {
  it('reports 100% at once and returns for 0 seconds', async function () {
    const { context, reports } = contextFor(1);
    assert.deepEqual(await sleepJob.run({ seconds: 0 }, context), { sleptSeconds: 0, message: null });
    assert.deepEqual(reports, [{ percent: 100, message: 'slept 0 of 0 s' }]);
  });

  it('reports from 0% up to 100% and returns its message', async function () {
    const { context, reports } = contextFor(1);
    const started = performance.now();
    const result = await sleepJob.run({ seconds: 0.2, message: 'hi' }, context);
    assert.ok(performance.now() - started >= 190, 'it slept');
    assert.deepEqual(result, { sleptSeconds: 0.2, message: 'hi' });
    assert.deepEqual(reports[0], { percent: 0, message: 'slept 0 of 0.2 s' });
    assert.deepEqual(reports.at(-1), { percent: 100, message: 'slept 0 of 0.2 s' });
    const percents = reports.map(({ percent }) => percent ?? -1);
    assert.deepEqual(
      percents,
      [...percents].sort((a, b) => a - b),
      'progress never goes back',
    );
  });

  it('stops promptly when its signal is aborted (a cancel or a timeout)', async function () {
    const controller = new AbortController();
    const { context } = contextFor(1, controller.signal);
    const started = performance.now();
    const running = sleepJob.run({ seconds: 60 }, context);
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(running, { name: 'AbortError' });
    assert.ok(performance.now() - started < 1000, 'it did not wait for its next second');
  });
});

describe('A sleep job fails its first failAttempts attempts, as asked', function () {
  const rows: [
    input: Parameters<typeof sleepJob.run>[0],
    attempt: number,
    outcome: 'succeeds' | typeof TransientError | typeof UnrecoverableError,
  ][] = [
    [{ seconds: 0, failAttempts: 2 }, 1, TransientError],
    [{ seconds: 0, failAttempts: 2 }, 2, TransientError],
    [{ seconds: 0, failAttempts: 2 }, 3, 'succeeds'],
    [{ seconds: 0, failAttempts: 0 }, 1, 'succeeds'],
    [{ seconds: 0, failAttempts: 1, failure: 'retryable' }, 1, TransientError],
    [{ seconds: 0, failAttempts: 1, failure: 'non_retryable' }, 1, UnrecoverableError],
    [{ seconds: 0, failAttempts: 1, failure: 'non_retryable' }, 2, 'succeeds'],
  ];
  for (const [input, attempt, outcome] of rows) {
    const name = outcome === 'succeeds' ? 'succeeds' : `throws ${outcome.name}`;
    it(`attempt ${attempt} of ${JSON.stringify(input)} ${name}`, async function () {
      const running = sleepJob.run(input, contextFor(attempt).context);
      if (outcome === 'succeeds') {
        assert.deepEqual(await running, { sleptSeconds: 0, message: null });
      } else {
        await assert.rejects(running, (err: unknown) => {
          assert.ok(err instanceof outcome);
          // The name is the failure type Temporal matches against nonRetryableErrorTypes.
          assert.equal((err as Error).name, outcome.name);
          assert.equal(
            (err as Error).message,
            `planned failure of attempt ${attempt} (failAttempts: ${input.failAttempts})`,
          );
          return true;
        });
      }
    });
  }
});

/** Whether the sleep type's own parse takes the input (what its worker checks each attempt against). */
function safeParses(input: unknown): boolean {
  try {
    sleepJob.parseInput(input);
    return true;
  } catch {
    return false;
  }
}

describe("A sleep job's input is checked against its schema", function () {
  const rows: [input: unknown, ok: boolean][] = [
    [{ seconds: 0 }, true],
    [{ seconds: 86_400, message: 'done', failAttempts: 100, failure: 'non_retryable' }, true],
    [{}, false],
    [{ seconds: -1 }, false],
    [{ seconds: 86_401 }, false],
    [{ seconds: '1' }, false],
    [{ seconds: 1, failAttempts: 101 }, false],
    [{ seconds: 1, failAttempts: 0.5 }, false],
    [{ seconds: 1, failure: 'sometimes' }, false],
    [{ seconds: 1, extra: true }, false],
  ];
  for (const [input, ok] of rows) {
    it(`${ok ? 'accepts' : 'refuses'} ${JSON.stringify(input)}`, function () {
      assert.equal(safeParses(input), ok);
    });
  }
});

/**
 * A real client of a Temporal that is not there: the attempt's start signal fails once its retries are out (5 s).
 * The start signal itself, sent 250 ms into an attempt and not at all for a shorter one, is tested against the dev
 * server in test/worker-sdk.test.ts.
 */
async function unreachableClient(): Promise<Client> {
  return createLazyClient(`127.0.0.1:${await freePort()}`, 'default');
}

describe("A job's attempt runs its type's handler as an activity", function () {
  /** One per test: once cancelled, an environment's context stays cancelled. Logs only errors. */
  const environment = () =>
    new MockActivityEnvironment(
      { workflowExecution: { workflowId: 'acme/job-1', runId: 'run-1' } },
      { logger: new DefaultLogger('ERROR') },
    );

  it('returns the result with the last progress, and when the attempt began', async function () {
    const before = Date.now();
    const outcome: AttemptOutcome = await environment().run(
      attemptActivity(sleepJob, await unreachableClient()),
      { seconds: 0, message: 'hi' },
      { jobId: 'job-1', tenant: 'default', attempt: 2 },
    );
    const { startedAt, ...rest } = outcome;
    assert.deepEqual(rest, {
      result: { sleptSeconds: 0, message: 'hi' },
      progress: { percent: 100, message: 'slept 0 of 0 s' },
      logs: { lines: [], dropped: 0 },
    });
    const startedMs = Date.parse(startedAt ?? '');
    assert.ok(startedMs >= before && startedMs <= Date.now(), `startedAt ${startedAt}`);
  });

  it('sends no heartbeat for an attempt shorter than a second: its outcome carries the progress', async function () {
    const env = environment();
    const beats: HeartbeatDetails[] = [];
    env.on('heartbeat', (details: HeartbeatDetails) => beats.push(details));
    const outcome: AttemptOutcome = await env.run(
      attemptActivity(sleepJob, await unreachableClient()),
      { seconds: 0.1 },
      { jobId: 'job-1', tenant: 'default', attempt: 1 },
    );
    assert.deepEqual(beats, []);
    assert.deepEqual(outcome.progress, { percent: 100, message: 'slept 0 of 0.1 s' });
  });

  it('heartbeats first after a second, with the progress reported until then, then with each report', async function () {
    const env = environment();
    const beats: HeartbeatDetails[] = [];
    const started = performance.now();
    let firstBeatAfterMs: number | undefined;
    env.on('heartbeat', (details: HeartbeatDetails) => {
      firstBeatAfterMs ??= performance.now() - started;
      beats.push(details);
    });
    await env.run(
      attemptActivity(sleepJob, await unreachableClient()),
      { seconds: 1.3 },
      { jobId: 'job-1', tenant: 'default', attempt: 1 },
    );
    const noLines = { lines: [], dropped: 0 };
    assert.ok(
      firstBeatAfterMs !== undefined && firstBeatAfterMs >= 950,
      `the first beat came after ${firstBeatAfterMs} ms`,
    );
    assert.notEqual(beats[0]?.progress, null, 'the first beat carries the progress reported before it');
    assert.deepEqual(beats.at(-1), { progress: { percent: 100, message: 'slept 1 of 1.3 s' }, logs: noLines });
  });

  it('heartbeats a burst of progress reports a few times, not once each, the last report in the last beat', async function () {
    const reporter = defineJobType({
      name: 'reporter',
      description: 'Reports its progress 10,000 times at once, a second in.',
      input: z.object({}),
      async run(_input, context) {
        await delay(1100);
        for (let row = 1; row <= 10_000; row++) context.progress(50, `row ${row}`);
        await delay(300);
        return null;
      },
    });
    const env = environment();
    const beats: HeartbeatDetails[] = [];
    env.on('heartbeat', (details: HeartbeatDetails) => beats.push(details));
    await env.run(
      attemptActivity(reporter, await unreachableClient()),
      {},
      { jobId: 'job-1', tenant: 'default', attempt: 1 },
    );
    assert.ok(beats.length <= 5, `${beats.length} heartbeats`);
    assert.deepEqual(beats.at(-1)?.progress, { percent: 50, message: 'row 10000' });
  });

  it('runs the attempt even when the started signal fails, logging the error', async function () {
    const errors: unknown[] = [];
    const warnings = new DefaultLogger('WARN', (entry) => errors.push(entry.meta?.['error']));
    const env = new MockActivityEnvironment(
      { workflowExecution: { workflowId: 'acme/job-1', runId: 'run-1' } },
      { logger: warnings },
    );
    const activity = attemptActivity(sleepJob, await unreachableClient());
    const outcome: AttemptOutcome = await env.run(
      activity,
      { seconds: 0.5 },
      { jobId: 'job-1', tenant: 'default', attempt: 1 },
    );
    assert.deepEqual(outcome.result, { sleptSeconds: 0.5, message: null });
    const logged = await until(
      'the failed signal logged',
      () => Promise.resolve(errors[0]),
      (error) => error !== undefined,
      15_000,
    );
    assert.match(String(logged), /Failed to signal/);
  });

  it("adds a parent job's children's results to its input after checking it, so a strict schema does not refuse them", async function () {
    const env = environment();
    const childResults = [{ jobId: 'child-1', status: 'succeeded' as const, result: 1, error: null }];
    const activity = attemptActivity(sleepJob, await unreachableClient());
    const outcome: AttemptOutcome = await env.run(
      activity,
      { seconds: 0 },
      { jobId: 'job-1', tenant: 'default', attempt: 1, childResults },
    );
    assert.deepEqual(outcome.result, { sleptSeconds: 0, message: null });
  });

  it("refuses an input its type's schema refuses", async function () {
    const env = environment();
    const activity = attemptActivity(sleepJob, await unreachableClient());
    await assert.rejects(env.run(activity, { seconds: -1 }, { jobId: 'job-1', tenant: 'default', attempt: 1 }), {
      type: 'InputRejected',
    });
  });

  it('ends promptly when cancelled, and reports a cancellation whatever the handler threw', async function () {
    const env = environment();
    const activity = attemptActivity(sleepJob, await unreachableClient());
    const started = performance.now();
    const running = env.run(activity, { seconds: 60 }, { jobId: 'job-1', tenant: 'default', attempt: 1 });
    setTimeout(() => env.cancel(), 50);
    await assert.rejects(running, (err: unknown) => err instanceof CancelledFailure);
    assert.ok(performance.now() - started < 1000);
  });
});
