import assert from 'node:assert/strict';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import { attemptStartedSignalName } from '../src/contract/protocol-names.js';
import { JobPriorityKey, JobStatusKey, JobTypeKey } from '../src/workflows/search-attributes.js';
import { TestService, uniqueJobId } from './support/service.js';

describe('Submitting a job', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start();
  });
  after(async function () {
    await service.teardown();
  });

  it('answers 202 with the queued job and its Location, and the job runs to succeeded', async function () {
    const jobId = uniqueJobId('submit');
    const { status, headers, body } = await service.submit({
      type: 'sleep',
      input: { seconds: 0.2, message: 'hello' },
      jobId,
    });
    assert.equal(status, 202);
    assert.equal(headers.get('location'), `/api/v1/jobs/${jobId}`);
    assert.equal(body.jobId, jobId);
    assert.equal(body.type, 'sleep');
    assert.equal(body.priority, 'normal');
    assert.equal(body.status, 'queued');
    assert.equal(body.attempt, 0);
    assert.equal(body.maxAttempts, 3);
    assert.deepEqual(body.input, { seconds: 0.2, message: 'hello' });
    assert.deepEqual(body.links, {
      self: `/api/v1/jobs/${jobId}`,
      ui: `http://localhost:8233/namespaces/default/workflows/${jobId}`,
    });
    assert.ok(!Number.isNaN(Date.parse(body.createdAt)));

    const done = await service.waitFor(jobId, ['succeeded']);
    assert.deepEqual(done.result, { sleptSeconds: 0.2, message: 'hello' });
    assert.equal(done.attempt, 1);
    assert.equal(done.error, null);
    assert.ok(done.startedAt && done.finishedAt && done.finishedAt >= done.startedAt);
  });

  it('makes a job id when none is given', async function () {
    const { status, body } = await service.submit({ type: 'sleep', input: { seconds: 0 } });
    assert.equal(status, 202);
    assert.match(body.jobId, /^[A-Za-z0-9][A-Za-z0-9._:-]*$/);
    await service.waitFor(body.jobId, ['succeeded']);
  });

  it('starts the job as workflow jobWorkflow whose id is the job id, with its search attributes and memo', async function () {
    const jobId = uniqueJobId('workflow');
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId, priority: 'high' });
    await service.waitFor(jobId, ['succeeded']);
    const description = await service.temporal.client.workflow.getHandle(jobId).describe();
    assert.equal(description.type, 'jobWorkflow');
    assert.equal(description.memo?.['jobType'], 'sleep');
    assert.equal(description.memo?.['jobPriority'], 'high');
    assert.equal(description.typedSearchAttributes.get(JobStatusKey), 'succeeded');
    assert.equal(description.typedSearchAttributes.get(JobTypeKey), 'sleep');
    assert.equal(description.typedSearchAttributes.get(JobPriorityKey), 'high');
  });
});

describe("A job's startedAt is when its first attempt started, as its history records it", function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start();
    // A fresh worker's first attempt is slower to start (measured 55 ms from its task's start to the handler's): not
    // the one measured here.
    assert.equal((await service.submit({ type: 'sleep', input: { seconds: 0 } }, '?wait=10')).body.status, 'succeeded');
  });
  after(async function () {
    await service.teardown();
  });

  /**
   * How far from the attempt's ActivityTaskStarted event a startedAt may be: the worker reads its clock as the handler
   * is called, a few ms after the server handed it the task (on the same machine, so on the same clock).
   */
  const toleranceMs = 100;

  /**
   * Runs a sleep job to its end through the API, polling it every 50 ms, and reads its history: the startedAt of every
   * poll that had one (it must not move while the job runs), the attempt's start there, and its start signals.
   */
  async function runAndRead(seconds: number) {
    const jobId = uniqueJobId('started-at');
    assert.equal((await service.submit({ type: 'sleep', input: { seconds }, jobId })).status, 202);
    const seen = new Set<string>();
    for (;;) {
      const { body } = await service.getJob(jobId);
      if (body.startedAt) seen.add(body.startedAt);
      if (body.status === 'succeeded') break;
      assert.ok(['queued', 'running'].includes(body.status), `the job is ${body.status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const events = (await service.temporal.client.workflow.getHandle(jobId).fetchHistory()).events ?? [];
    const started = events.filter((event) => event.activityTaskStartedEventAttributes);
    assert.equal(started.length, 1, 'one attempt');
    const signals = events.filter(
      (event) => event.workflowExecutionSignaledEventAttributes?.signalName === attemptStartedSignalName,
    ).length;
    return { seen: [...seen], attemptStartedMs: optionalTsToMs(started[0]!.eventTime)!, signals };
  }

  function assertNear(seen: string[], attemptStartedMs: number): void {
    assert.ok(seen.length > 0, 'some poll shows a startedAt');
    for (const startedAt of seen) {
      const offMs = Date.parse(startedAt) - attemptStartedMs;
      assert.ok(
        Math.abs(offMs) <= toleranceMs,
        `startedAt ${startedAt} is ${offMs} ms from the attempt's start, ${new Date(attemptStartedMs).toISOString()}`,
      );
    }
  }

  // Shorter than 250 ms, but not so short that its end is within the tolerance of its start: a zero-second job's
  // startedAt was its finish, under 100 ms after the start, before the worker said when the attempt began.
  it('a 0.15-second job, whose attempt sends no start signal, says when the attempt started, not when it finished', async function () {
    const { seen, attemptStartedMs, signals } = await runAndRead(0.15);
    assert.equal(signals, 0, 'an attempt shorter than 250 ms tells its start in its outcome only');
    assertNear(seen, attemptStartedMs);
  });

  it('a 1.5-second job, whose attempt signals its start 250 ms in, says when the attempt started, not when the signal came', async function () {
    const { seen, attemptStartedMs, signals } = await runAndRead(1.5);
    assert.equal(signals, 1, 'the attempt told its workflow that it started');
    // Polls read it from the pending attempt for 250 ms, then from the workflow: both within the tolerance.
    assertNear(seen, attemptStartedMs);
  });
});

describe('Submitting with ?wait', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start();
  });
  after(async function () {
    await service.teardown();
  });

  it('answers 200 with the finished job when it finishes within the wait', async function () {
    const { status, body } = await service.submit({ type: 'sleep', input: { seconds: 0.5 } }, '?wait=10');
    assert.equal(status, 200);
    assert.equal(body.status, 'succeeded');
    assert.deepEqual(body.result, { sleptSeconds: 0.5, message: null });
  });

  it('answers 200 with a failed job too, since it finished', async function () {
    const { status, body } = await service.submit(
      { type: 'sleep', input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' } },
      '?wait=10',
    );
    assert.equal(status, 200);
    assert.equal(body.status, 'failed');
  });

  it('answers 202 with the unfinished job as it is when the wait runs out, not as it was submitted', async function () {
    const started = Date.now();
    const readsBefore = await service.temporalReads('history');
    const { status, body } = await service.submit({ type: 'sleep', input: { seconds: 30 } }, '?wait=5');
    const elapsed = Date.now() - started;
    // Temporal answers the wait's long poll at once in about its last second: asked again without a pause, that
    // second was hundreds of history reads.
    const reads = (await service.temporalReads('history')) - readsBefore;
    assert.ok(reads <= 15, `the wait read the history ${reads} times`);
    assert.equal(status, 202);
    // Workers are idle: within 5 s its first attempt has started and reported progress (on a busy machine, picking
    // up a task alone can take 2 s).
    assert.equal(body.status, 'running');
    assert.equal(body.attempt, 1);
    assert.ok(body.startedAt !== null);
    assert.ok(elapsed >= 4900 && elapsed < 8000, `answered after ${elapsed} ms`);
    await service.cancel(body.jobId);
  });

  it('waits up to 300 seconds, and refuses a wait outside 0–300', async function () {
    const longest = await service.submit({ type: 'sleep', input: { seconds: 1 } }, '?wait=300');
    assert.equal(longest.status, 200);
    assert.equal(longest.body.status, 'succeeded');
    const { status, body } = await service.submit({ type: 'sleep', input: { seconds: 0 } }, '?wait=301');
    assert.equal(status, 400);
    const { error } = body as unknown as { error: { code: string; message: string } };
    assert.equal(error.code, 'invalid_request');
    assert.match(error.message, /from 0 to 300/);
  });
});

describe('Submitting the same jobId again', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start();
  });
  after(async function () {
    await service.teardown();
  });

  it('answers 200 with the existing job for an identical request, and starts nothing', async function () {
    const jobId = uniqueJobId('same');
    const request = { type: 'sleep', input: { seconds: 0.3 }, jobId };
    assert.equal((await service.submit(request)).status, 202);
    const again = await service.submit({ ...request, priority: 'normal' });
    assert.equal(again.status, 200);
    assert.equal(again.body.jobId, jobId);
    await service.waitFor(jobId, ['succeeded']);
    const afterFinish = await service.submit(request);
    assert.equal(afterFinish.status, 200);
    assert.equal(afterFinish.body.status, 'succeeded');
    assert.equal(await service.countWorkflows(`WorkflowId = '${jobId}'`), 1);
  });

  it('answers 409 conflict for a different request, running or finished', async function () {
    const jobId = uniqueJobId('differs');
    await service.submit({ type: 'sleep', input: { seconds: 0.3 }, jobId });
    const running = await service.submit({ type: 'sleep', input: { seconds: 1 }, jobId });
    assert.equal(running.status, 409);
    assert.equal((running.body as unknown as { error: { code: string } }).error.code, 'conflict');
    await service.waitFor(jobId, ['succeeded']);
    const finished = await service.submit({ type: 'sleep', input: { seconds: 0.3 }, jobId, priority: 'low' });
    assert.equal(finished.status, 409);
  });

  it("does not tell whether a command's env values match: they are not compared, as they are not shown", async function () {
    const jobId = uniqueJobId('env-guess');
    const submit = (greeting: string) =>
      service.submit(
        { type: 'command', input: { command: 'print-env', env: { GREETING: greeting } }, jobId },
        '?wait=10',
      );
    assert.equal((await submit('the-real-secret')).body.status, 'succeeded');
    for (const guess of ['a-wrong-guess', 'the-real-secret']) {
      const again = await submit(guess);
      assert.equal(again.status, 200, guess);
      assert.deepEqual((again.body.input as { env: unknown }).env, { GREETING: '***' });
    }
    const renamed = await service.submit({
      type: 'command',
      input: { command: 'print-env', env: { EMPTY: 'x' } },
      jobId,
    });
    assert.equal(renamed.status, 409, 'the names are still compared');
    assert.equal(await service.countWorkflows(`WorkflowId = '${jobId}'`), 1);
  });

  it('gives one 202 and nineteen 200s for twenty concurrent submits, and one workflow execution', async function () {
    const jobId = uniqueJobId('race');
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => service.submit({ type: 'sleep', input: { seconds: 0.5 }, jobId })),
    );
    const statuses = responses.map((response) => response.status).sort();
    assert.deepEqual(statuses, [...Array<number>(19).fill(200), 202].sort());
    for (const { body } of responses) assert.equal(body.jobId, jobId);
    await service.waitFor(jobId, ['succeeded']);
    assert.equal(await service.countWorkflows(`WorkflowId = '${jobId}'`), 1);
  });
});
