// The job workflow's timing on the time-skipping test server: hours of timeouts and backoff in seconds of wall time.
import assert from 'node:assert/strict';
import { Client } from '@temporalio/client';
import { sleepJob } from '../src/activities/sleep.js';
import { loadConfig } from '../src/config.js';
import { createJobs, declaredJobTypes, ReadCaches, type Jobs } from '../src/jobs/index.js';
import { defaultTenant } from '../src/workflows/job-state.js';
import { jobStateQuery } from '../src/workflows/messages.js';
import { runScenario, scenarioNamed } from './support/job-scenarios.js';
import {
  attemptScheduledTimes,
  attemptTimeouts,
  cancelRequestToCancelledMs,
  eventually,
  eventTimeMs,
  jobOutcome,
  skipToShortlyBefore,
  stallingJobType,
  timerStartTimes,
  waitForJobState,
  JobWorkflowTestbed,
  type JobHandle,
  type TestQueues,
} from './support/time-skipping.js';

const second = 1000;
const minute = 60 * second;
const day = 24 * 3600 * second;
/** Wall time the server spends between a timer firing and the next attempt being scheduled, at most. */
const schedulingSlackMs = 2 * second;

function assertBetween(actual: number, low: number, high: number, what: string): void {
  assert.ok(actual >= low && actual < high, `${what}: ${actual} ms, expected in [${low}, ${high})`);
}

describe('Job workflow under skipped time', function () {
  let testbed: JobWorkflowTestbed;
  before(async function () {
    testbed = await JobWorkflowTestbed.start();
  });
  after(async function () {
    await testbed?.teardown();
  });

  it('ends timed_out when an attempt runs past timeoutSeconds (an hour, in seconds of wall time)', async function () {
    const { outcome, history, wallMs } = await runScenario(testbed, scenarioNamed('timeout'));

    assert.ok(outcome.closedAs === 'failed');
    assert.equal(outcome.failureType, 'Timeout');
    assert.equal(outcome.state.status, 'timed_out');
    assert.equal(outcome.state.attempt, 1);
    assert.deepEqual(outcome.state.error, { type: 'Timeout', message: 'the attempt ran past timeoutSeconds' });
    const [scheduledAt] = attemptScheduledTimes(history);
    const [timeout] = attemptTimeouts(history);
    assert.equal(timeout?.type, 'START_TO_CLOSE');
    assertBetween(
      timeout.atMs - scheduledAt!,
      3600 * second,
      3600 * second + schedulingSlackMs,
      'attempt scheduled → timed out',
    );
    assert.ok(wallMs < 15 * second, `took ${wallMs} ms of wall time`);
  });

  it('backs off 10 s, 20 s, 40 s between attempts, queued with the last error meanwhile, and fails after the 4th', async function () {
    const backoffSeconds = [10, 20, 40];
    const queues = testbed.queues();
    const request = await testbed.request(queues, {
      type: 'sleep',
      input: { seconds: 0, failAttempts: 100 },
      retry: { maxAttempts: 4, initialIntervalSeconds: 10, backoffCoefficient: 2, maximumIntervalSeconds: 3600 },
    });
    await testbed.withWorkers(queues, async () => {
      const handle = await testbed.start(queues, request);
      for (const [index, seconds] of backoffSeconds.entries()) {
        const attempt = index + 1;
        // Server time passes at wall-clock speed until the test skips it: the job is still waiting for its retry.
        const waiting = await waitForJobState(
          handle,
          (state) => state.status === 'queued' && state.attempt === attempt,
          `attempt ${attempt} failing`,
        );
        assert.equal(waiting.lastError?.type, 'TransientError');
        assert.match(waiting.lastError?.message ?? '', new RegExp(`attempt ${attempt} `));
        assert.equal(waiting.error, null);
        await testbed.env.sleep(seconds * second);
      }

      const outcome = await jobOutcome(handle);
      assert.ok(outcome.closedAs === 'failed');
      assert.equal(outcome.failureType, 'TransientError');
      assert.equal(outcome.state.status, 'failed');
      assert.equal(outcome.state.attempt, 4);
      assert.match(outcome.state.error?.message ?? '', /attempt 4 /);

      const scheduled = attemptScheduledTimes(await handle.fetchHistory());
      assert.equal(scheduled.length, 4);
      for (const [index, seconds] of backoffSeconds.entries()) {
        assertBetween(
          scheduled[index + 1]! - scheduled[index]!,
          seconds * second,
          seconds * second + schedulingSlackMs,
          `attempt ${index + 1} → ${index + 2}`,
        );
      }
    });
  });

  it('ends cancelled when cancelled during a retry backoff, with no attempt scheduled after', async function () {
    const { outcome, history } = await runScenario(testbed, scenarioNamed('cancel-during-backoff'));

    assert.equal(outcome.closedAs, 'cancelled');
    assert.equal(outcome.state.status, 'cancelled');
    assert.equal(outcome.state.attempt, 1);
    assert.equal(outcome.state.error?.type, 'Cancelled');
    assert.equal(attemptScheduledTimes(history).length, 1);
    // At once, not when the hour of backoff would have ended.
    assertBetween(cancelRequestToCancelledMs(history), 0, schedulingSlackMs, 'cancel requested → cancelled');
  });

  describe('a job delayed by a day (runAt)', function () {
    const delayed = scenarioNamed('delayed');

    /** Returns once the job's first workflow task has started the delay's timer. */
    async function delayStarted(handle: JobHandle): Promise<void> {
      await eventually(
        () => handle.fetchHistory(),
        (history) => timerStartTimes(history).length === 1,
        'the delay starting',
      );
    }

    it('stays queued with runAt set through the day, and runs its first attempt when the day has passed, not before', async function () {
      const queues = testbed.queues();
      await testbed.withWorkers(queues, async () => {
        const request = await testbed.request(queues, delayed.job);
        const runAtMs = Date.parse(request.runAt!);
        const handle = await testbed.start(queues, request);
        await delayStarted(handle);
        const queued = await handle.query(jobStateQuery);
        assert.equal(queued.status, 'queued');
        assert.equal(queued.runAt, request.runAt);
        assert.equal(queued.attempt, 0);
        assert.equal(queued.startedAt, null);

        // Only the delay's timer is outstanding, so the server skips straight to a minute before it fires.
        await testbed.env.sleep(runAtMs - minute - (await testbed.env.currentTimeMs()));
        const almost = await handle.query(jobStateQuery);
        assert.equal(almost.status, 'queued');
        assert.equal(almost.attempt, 0);
        assert.deepEqual(attemptScheduledTimes(await handle.fetchHistory()), []);

        const outcome = await jobOutcome(handle);
        assert.equal(outcome.state.status, 'succeeded');
        assert.equal(outcome.state.attempt, 1);
        assert.equal(outcome.state.runAt, request.runAt);
        const history = await handle.fetchHistory();
        const startedAtMs = eventTimeMs(history.events![0]!);
        const [scheduledAt] = attemptScheduledTimes(history);
        // runAt is a day after the server time read just before the start: the attempt waits for runAt itself.
        assertBetween(startedAtMs - (runAtMs - day), 0, schedulingSlackMs, 'runAt − 24 h → workflow started');
        assertBetween(scheduledAt! - runAtMs, 0, schedulingSlackMs, 'runAt → attempt scheduled');
      });
    });

    it('ends cancelled with no attempt when cancelled during the delay, at once', async function () {
      const { outcome, history } = await runScenario(testbed, scenarioNamed('cancel-during-delay'));

      assert.equal(outcome.closedAs, 'cancelled');
      assert.equal(outcome.state.status, 'cancelled');
      assert.equal(outcome.state.attempt, 0);
      assert.equal(outcome.state.startedAt, null);
      assert.notEqual(outcome.state.runAt, null);
      assert.equal(outcome.state.error?.type, 'Cancelled');
      assert.deepEqual(attemptScheduledTimes(history), []);
      assertBetween(cancelRequestToCancelledMs(history), 0, schedulingSlackMs, 'cancel requested → cancelled');
    });

    it('runs after its delay all the same when its worker is replaced during the delay', async function () {
      const queues = testbed.queues();
      const request = await testbed.request(queues, delayed.job);
      const runAtMs = Date.parse(request.runAt!);
      // The test server sends a workflow's tasks and queries to the sticky queue of the worker that cached it even
      // after that worker stops (it ignores the sticky schedule-to-start timeout; ResetStickyTaskQueue is
      // unimplemented), so the first worker caches nothing, as a real server would treat it once that timeout passed.
      const firstWorker = await testbed.workflowWorker(queues, { maxCachedWorkflows: 0 });
      const handle = await firstWorker.runUntil(async () => {
        const started = await testbed.start(queues, request);
        await delayStarted(started);
        return started;
      });

      // Half the day passes with no worker at all: the delay is a timer on the server, not in a worker's memory.
      await testbed.env.sleep(day / 2);
      await testbed.withWorkers(queues, async () => {
        // New workers have never seen the job: they rebuild its state by replaying its history.
        const queued = await handle.query(jobStateQuery);
        assert.equal(queued.status, 'queued');
        assert.equal(queued.runAt, request.runAt);
        assert.equal(queued.attempt, 0);

        const outcome = await jobOutcome(handle);
        assert.equal(outcome.state.status, 'succeeded');
        assert.equal(outcome.state.attempt, 1);
        const [scheduledAt] = attemptScheduledTimes(await handle.fetchHistory());
        assertBetween(scheduledAt! - runAtMs, 0, schedulingSlackMs, 'runAt → attempt scheduled');
      });
    });
  });

  it('retries an attempt that stops heartbeating once its heartbeat timeout passes', async function () {
    const heartbeatTimeoutSeconds = 300;
    const backoffSeconds = 60;
    const queues = testbed.queues();
    const request = await testbed.request(queues, {
      type: stallingJobType,
      input: {},
      timeoutSeconds: 3600,
      heartbeatTimeoutSeconds,
      retry: {
        maxAttempts: 2,
        initialIntervalSeconds: backoffSeconds,
        backoffCoefficient: 2,
        maximumIntervalSeconds: 3600,
      },
    });
    await testbed.withWorkers(queues, async () => {
      const handle = await testbed.start(queues, request);
      await waitForJobState(handle, (state) => state.status === 'running' && state.attempt === 1, 'attempt 1 starting');
      const [firstScheduledAt] = attemptScheduledTimes(await handle.fetchHistory());
      await skipToShortlyBefore(testbed.env, firstScheduledAt! + heartbeatTimeoutSeconds * second);

      const waiting = await waitForJobState(
        handle,
        (state) => state.status === 'queued' && state.attempt === 1,
        'attempt 1 timing out',
      );
      assert.deepEqual(waiting.lastError, { type: 'HeartbeatTimeout', message: 'the attempt stopped heartbeating' });

      const outcome = await jobOutcome(handle);
      assert.equal(outcome.closedAs, 'completed');
      assert.equal(outcome.state.status, 'succeeded');
      assert.equal(outcome.state.attempt, 2);
      assert.deepEqual(outcome.state.result, { attempt: 2 });

      const history = await handle.fetchHistory();
      const [scheduledAt, secondScheduledAt] = attemptScheduledTimes(history);
      const [timeout] = attemptTimeouts(history);
      assert.equal(timeout?.type, 'HEARTBEAT');
      assertBetween(
        timeout.atMs - scheduledAt!,
        heartbeatTimeoutSeconds * second,
        heartbeatTimeoutSeconds * second + schedulingSlackMs,
        'attempt 1 scheduled → timed out',
      );
      assertBetween(
        secondScheduledAt! - timeout.atMs,
        backoffSeconds * second,
        backoffSeconds * second + schedulingSlackMs,
        'timed out → attempt 2 scheduled',
      );
    });
  });

  it('reports a job queued until a worker serving its attempts appears, then running', async function () {
    const queues = testbed.queues();
    const request = await testbed.request(queues, { type: 'sleep', input: { seconds: 2 } });
    // No worker polls the attempts' queue yet, so the attempt waits on it untouched.
    const workflowWorker = await testbed.workflowWorker(queues);
    await workflowWorker.runUntil(async () => {
      const handle = await testbed.start(queues, request);
      await eventually(
        () => handle.fetchHistory(),
        (history) => attemptScheduledTimes(history).length === 1,
        'the attempt being scheduled',
      );
      const queued = await handle.query(jobStateQuery);
      assert.equal(queued.status, 'queued');
      assert.equal(queued.attempt, 0);
      assert.equal(queued.startedAt, null);

      const attemptWorker = await testbed.attemptWorker(queues);
      await attemptWorker.runUntil(async () => {
        const running = await waitForJobState(handle, (state) => state.status !== 'queued', 'the attempt starting');
        assert.equal(running.status, 'running');
        assert.equal(running.attempt, 1);
        assert.notEqual(running.startedAt, null);
        assert.equal((await jobOutcome(handle)).state.status, 'succeeded');
      });
    });
  });

  describe('waiting for a job with a deadline, as the API does (JobWaits.waitForFinish)', function () {
    /**
     * The API's side of Temporal, on the test's queues and over a plain client as the API has, so that server time
     * moves only while the test sleeps. The environment's own client unlocks time skipping around result() and
     * locks it again after, but under a passed deadline that lock call fails too, which would leave time skipping
     * unlocked for the rest of the file.
     */
    function apiJobs(queues: TestQueues): Jobs {
      const config = loadConfig({ JOBS_TASK_QUEUE_PREFIX: queues.prefix });
      return createJobs({
        client: new Client({ connection: testbed.env.connection, namespace: config.TEMPORAL_NAMESPACE }),
        namespace: config.TEMPORAL_NAMESPACE,
        uiUrl: config.TEMPORAL_UI_URL,
        requests: {
          ...declaredJobTypes([sleepJob.declaration]),
          taskQueuePrefix: config.JOBS_TASK_QUEUE_PREFIX,
          callbacks: { enabled: false, refusal: () => undefined },
        },
        caches: new ReadCaches(),
      });
    }

    /** Submits a job whose first attempt fails at once, and returns its id once it waits an hour for its retry. */
    async function submitRetryingInAnHour(jobs: Jobs): Promise<string> {
      const request = await jobs.requests.resolve(defaultTenant, {
        type: 'sleep',
        priority: 'normal',
        input: { seconds: 0, failAttempts: 1 },
        retry: { maxAttempts: 2, initialIntervalSeconds: 3600, maximumIntervalSeconds: 3600 },
      });
      await jobs.commands.submit(defaultTenant, request);
      await eventually(
        () => jobs.reads.read(defaultTenant, request.jobId),
        (state) => state.status === 'queued' && state.attempt === 1,
        'attempt 1 failing',
      );
      return request.jobId;
    }

    it('returns the final state of a job that finishes before the deadline', async function () {
      const queues = testbed.queues();
      const jobs = apiJobs(queues);
      await testbed.withWorkers(queues, async () => {
        const jobId = await submitRetryingInAnHour(jobs);

        const [finished] = await Promise.all([
          jobs.waits.waitForFinish(defaultTenant, jobId, 10),
          testbed.env.sleep(2 * 3600 * second),
        ]);
        assert.equal(finished?.status, 'succeeded');
        assert.equal(finished?.attempt, 2);
      });
    });

    it('answers a job that is still going at the deadline as it is then, and leaves it running', async function () {
      const queues = testbed.queues();
      const jobs = apiJobs(queues);
      await testbed.withWorkers(queues, async () => {
        const jobId = await submitRetryingInAnHour(jobs);

        const waitStartedAt = performance.now();
        // Half of the hour of backoff passes: the retry is not due yet when the 1 s deadline comes.
        const [unfinished] = await Promise.all([
          jobs.waits.waitForFinish(defaultTenant, jobId, 1),
          testbed.env.sleep(1800 * second),
        ]);
        assert.ok(performance.now() - waitStartedAt >= 900, 'waited for the deadline');
        // The job as it is at the deadline: waiting for its retry.
        assert.equal(unfinished?.status, 'queued');
        assert.equal(unfinished?.attempt, 1);

        // The rest of the hour: the job ends, leaving nothing outstanding on the server for later tests.
        const [finished] = await Promise.all([
          jobs.waits.waitForFinish(defaultTenant, jobId, 10),
          testbed.env.sleep(1800 * second),
        ]);
        assert.equal(finished?.status, 'succeeded');
      });
    });
  });
});
