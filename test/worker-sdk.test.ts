// The TypeScript SDK (packages/worker) as a handler worker of its own process, against the real job workflow and the
// job type registry on the dev server: the worker protocol of docs/worker-protocol.md, end to end below the API.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { startDevServer } from '../dev/temporal/dev-server.js';
import type { JobState } from '../src/contract/job.js';
import {
  jobTypeTaskQueue,
  registryTaskQueue,
  registryWorkflowId,
  type AttemptHeartbeat,
  type JobTypeView,
} from '../src/contract/job-type-declaration.js';
import { attemptStartedSignalName } from '../src/contract/protocol-names.js';
import { JobMetrics } from '../src/telemetry/job-metrics.js';
import { jobWorkflow } from '../src/workflows/index.js';
import type { JobRequest } from '../src/workflows/job-state.js';
import { registryStateQuery } from '../src/workflows/job-type-registry-messages.js';
import { jobTypeViews } from '../src/workflows/job-type-registry-state.js';
import { jobStateQuery } from '../src/workflows/messages.js';
import { HandlerWorker } from './support/handler-worker.js';
import { until } from './support/until.js';

const fixture = fileURLToPath(new URL('fixtures/handler-worker/main.ts', import.meta.url));

describe('A handler worker written with the TypeScript SDK', function () {
  let env: TestWorkflowEnvironment;
  let client: Client;
  let serviceWorker: Worker;
  let serviceRunning: Promise<void>;
  const prefix = `sdk-${randomUUID().slice(0, 8)}`;
  const handlers: HandlerWorker[] = [];

  const startHandler = (more: Record<string, string> = {}): HandlerWorker => {
    const handler = new HandlerWorker(
      spawn(process.execPath, ['--import', 'tsx', fixture], {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: env.address,
          JOBS_TASK_QUEUE_PREFIX: prefix,
          HANDLER_QUEUES: '{"high":1,"normal":2}',
          ...more,
        },
        stdio: 'pipe',
      }),
    );
    handlers.push(handler);
    return handler;
  };

  const views = async (): Promise<JobTypeView[]> =>
    jobTypeViews(await client.workflow.getHandle(registryWorkflowId(prefix)).query(registryStateQuery), Date.now());

  const workersOf = async (type: string) => (await views()).find((view) => view.declaration.name === type)?.workers;

  /** The job's state once its attempt runs. */
  const untilRunning = (job: WorkflowHandle): Promise<JobState> =>
    until(
      'running',
      () => job.query(jobStateQuery),
      (state: JobState) => state.status === 'running',
    );

  function startJob(type: string, input: unknown, more: Partial<JobRequest> = {}) {
    const jobId = `${type}-${randomUUID().slice(0, 8)}`;
    const request: JobRequest = {
      jobId,
      type,
      priority: 'normal',
      input,
      timeoutSeconds: 60,
      heartbeatTimeoutSeconds: 5,
      retry: { maxAttempts: 3, initialIntervalSeconds: 0, backoffCoefficient: 1, maximumIntervalSeconds: 0 },
      taskQueue: jobTypeTaskQueue(prefix, type, 'normal'),
      submittedAt: new Date().toISOString(),
      ...more,
    };
    return client.workflow.start(jobWorkflow, {
      workflowId: jobId,
      taskQueue: registryTaskQueue(prefix),
      args: [request],
    });
  }

  before(async function () {
    this.timeout(120_000);
    env = await startDevServer();
    client = env.client;
    // The service's side: the job workflows and the registry, on <prefix>-workflows.
    serviceWorker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: registryTaskQueue(prefix),
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: fileURLToPath(new URL('../src/workflows/index.ts', import.meta.url)),
        logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
      }),
      sinks: new JobMetrics().sinks(),
    });
    serviceRunning = serviceWorker.run();
    startHandler();
    await until(
      'the handler worker declared',
      () => workersOf('test.steps'),
      (workers) => workers?.normal === 1,
      60_000,
    );
  });

  after(async function () {
    await Promise.all(handlers.map((handler) => handler.stop('SIGKILL')));
    serviceWorker?.shutdown();
    await serviceRunning;
    await env?.teardown();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      for (const handler of handlers) console.error(handler.output.join('').slice(-4000));
  });

  it('declares its types with their JSON Schemas and the priorities it serves', async function () {
    const all = await views();
    assert.deepEqual(
      all.map((view) => view.declaration.name),
      ['test.fails', 'test.steps', 'test.steps-b', 'test.stubborn'],
    );
    const steps = all.find((view) => view.declaration.name === 'test.steps')!;
    assert.deepEqual(steps.workers, { high: 1, normal: 1, low: 0 });
    assert.equal(steps.declaration.inputSchema['$schema'], 'https://json-schema.org/draft/2020-12/schema');
    assert.deepEqual(steps.declaration.inputSchema['required'], ['steps', 'stepMs']);
    assert.equal(steps.declaration.defaults.timeoutSeconds, 60);
    assert.equal(steps.declaration.defaults.retry.maxAttempts, 3, 'the protocol default');
  });

  it('runs a job on its type’s queue: running, progress in heartbeats, the result', async function () {
    const job = await startJob('test.steps', { steps: 6, stepMs: 300 });
    const running = await untilRunning(job);
    assert.equal(running.attempt, 1);
    // Progress travels in the attempt's heartbeat details, where the API reads it from the pending attempt.
    const heartbeat = await until(
      'progress heartbeated',
      async () => {
        const pending = (await job.describe()).raw.pendingActivities?.[0];
        const payload = pending?.heartbeatDetails?.payloads?.[0];
        return payload ? defaultPayloadConverter.fromPayload<AttemptHeartbeat>(payload) : undefined;
      },
      (details) => (details.progress?.percent ?? 0) > 0,
    );
    assert.match(heartbeat.progress?.message ?? '', /^step \d$/);
    const final = await job.result();
    assert.equal(final.status, 'succeeded');
    assert.deepEqual(final.result, { steps: 6, tenant: 'default', peak: 1 });
    assert.deepEqual(final.progress, { percent: 100, message: 'done' });
  });

  it('tells the workflow of an attempt’s start once it has run 250 ms, and of a shorter attempt never', async function () {
    const startSignals = async (job: Awaited<ReturnType<typeof startJob>>): Promise<number> =>
      (await job.fetchHistory()).events!.filter(
        (event) => event.workflowExecutionSignaledEventAttributes?.signalName === attemptStartedSignalName,
      ).length;
    const short = await startJob('test.steps', { steps: 1, stepMs: 10 });
    const long = await startJob('test.steps', { steps: 2, stepMs: 400 });
    assert.deepEqual(
      (await Promise.all([short.result(), long.result()])).map((final) => final.status),
      ['succeeded', 'succeeded'],
    );
    assert.equal(await startSignals(short), 0, 'a zero-second attempt costs no signal and no workflow task');
    assert.equal(await startSignals(long), 1);
  });

  it("gives the handler its job's tenant", async function () {
    const job = await startJob('test.steps', { steps: 1, stepMs: 10 }, { tenant: 'acme-eu' });
    const final = await job.result();
    assert.equal(final.status, 'succeeded');
    assert.equal((final.result as { tenant: string }).tenant, 'acme-eu');
  });

  it("shares a priority's slots between its types: 2 normal slots, three 1 s jobs of each of two types", async function () {
    const began = Date.now();
    const types = ['test.steps', 'test.steps-b'];
    const jobs = await Promise.all(
      types.flatMap((type) => Array.from({ length: 3 }, () => startJob(type, { steps: 4, stepMs: 250 }))),
    );
    const finals = await Promise.all(jobs.map((job) => job.result()));
    const seconds = (Date.now() - began) / 1000;
    // The fixture counts the attempts running in the process, of every type.
    const peak = Math.max(...finals.map((final) => (final.result as { peak: number }).peak));
    console.log(`      6 jobs of 1 s of two types on 2 shared slots: ${seconds.toFixed(1)} s, at most ${peak} at once`);
    // Slots of their own would let each type run 2 (4 at once). Shared: 2, and at the instant the last slot fills the
    // other busy type's open poll may bring one more (capacity + busy types − 1; PrioritySlotPool).
    assert.ok(peak >= 2 && peak <= 3, `at most 3 at once, and both slots used: ${peak}`);
    assert.ok(seconds >= 2, `no more than 3 at once, mostly 2: ${seconds} s`);
    // Each type had an attempt start before the other type's last one finished: neither waited for the other.
    const byType = (type: string) => finals.filter((final) => final.type === type);
    const firstStart = (type: string) => Math.min(...byType(type).map((final) => Date.parse(final.startedAt!)));
    const lastFinish = (type: string) => Math.max(...byType(type).map((final) => Date.parse(final.finishedAt!)));
    assert.ok(firstStart(types[1]!) < lastFinish(types[0]!), `${types[1]} waited for every ${types[0]} job`);
    assert.ok(firstStart(types[0]!) < lastFinish(types[1]!), `${types[0]} waited for every ${types[1]} job`);
  });

  it('retries a plain error and ends at once on an UnrecoverableError', async function () {
    const retried = await (await startJob('test.fails', { failAttempts: 1 })).result();
    assert.equal(retried.status, 'succeeded');
    assert.equal(retried.attempt, 2);

    const job = await startJob('test.fails', { failAttempts: 3, unrecoverable: true });
    const failure = await job.result().catch((err: unknown) => err);
    assert.ok(failure instanceof WorkflowFailedError);
    const final = await job.query(jobStateQuery);
    assert.equal(final.status, 'failed');
    assert.equal(final.attempt, 1);
    assert.deepEqual(final.error, { type: 'UnrecoverableError', message: 'planned failure of attempt 1' });
  });

  it('stops a cancelled attempt within 2 s', async function () {
    const job = await startJob('test.steps', { steps: 200, stepMs: 100 });
    await untilRunning(job);
    const asked = Date.now();
    await job.cancel();
    await job.result().catch(() => undefined);
    assert.ok(Date.now() - asked < 2000, `ended ${Date.now() - asked} ms after the cancel`);
    assert.equal((await job.query(jobStateQuery)).status, 'cancelled');
  });

  it('ends a cancelled job whose handler ignores its signal at the heartbeat timeout, not the start-to-close one', async function () {
    // On the high queue, whose one slot no other test here uses: the handler keeps it for 15 s whatever it is told.
    const job = await startJob(
      'test.stubborn',
      { holdMs: 15_000 },
      {
        priority: 'high',
        taskQueue: jobTypeTaskQueue(prefix, 'test.stubborn', 'high'),
        heartbeatTimeoutSeconds: 2,
        timeoutSeconds: 60,
      },
    );
    await untilRunning(job);
    const asked = Date.now();
    await job.cancel();
    await job.result().catch(() => undefined);
    const endedMs = Date.now() - asked;
    assert.equal((await job.query(jobStateQuery)).status, 'cancelled');
    // The attempt beats no more once cancelled: the server ends it 2 s after its last beat.
    assert.ok(endedMs < 5000, `ended ${endedMs} ms after the cancel`);
  });

  it("starts without warnings (it runs no workflows by design) and writes its handlers' warnings", async function () {
    const quiet = startHandler({ HANDLER_QUEUES: '{"low":1}' });
    // Its workers run (and the SDK would warn) before it declares its types, which takes a round trip to Temporal.
    const started = await until(
      'declared',
      () => Promise.resolve(quiet.output.join('')),
      (output) => output.includes('[INFO] declared its job types to the registry'),
    );
    await quiet.stop('SIGTERM');
    assert.match(started, /\[INFO\] Worker state changed \{[^}]*state: 'RUNNING'/, `its workers ran: ${started}`);
    assert.doesNotMatch(started, /WARN/, 'a warning at start');

    const job = await startJob('test.fails', { failAttempts: 1 });
    await job.result();
    const written = handlers[0]!.output.join('');
    assert.match(written, /\[WARN\] failing: planned failure of attempt 1/);
  });

  it('a stopped worker leaves the registry at once; a killed one stops counting when its lease runs out', async function () {
    const stopped = startHandler({ HANDLER_QUEUES: '{"low":1}', HANDLER_LEASE_SECONDS: '60' });
    await until(
      'declared',
      () => workersOf('test.steps'),
      (workers) => workers?.low === 1,
    );
    await stopped.stop('SIGTERM');
    await until(
      'left',
      () => workersOf('test.steps'),
      (workers) => workers?.low === 0,
      1000,
    );

    const killed = startHandler({ HANDLER_QUEUES: '{"low":1}', HANDLER_LEASE_SECONDS: '3' });
    await until(
      'declared',
      () => workersOf('test.steps'),
      (workers) => workers?.low === 1,
    );
    await killed.stop('SIGKILL');
    const killedAt = Date.now();
    await until(
      'expired',
      () => workersOf('test.steps'),
      (workers) => workers?.low === 0,
      5000,
    );
    assert.ok(Date.now() - killedAt <= 3500, `counted ${Date.now() - killedAt} ms after SIGKILL`);
    assert.deepEqual(await workersOf('test.steps'), { high: 1, normal: 1, low: 0 }, 'the first worker still counts');
  });

  it('abandons at the stop an attempt that ignores its cancellation: names it, exits; its job runs again elsewhere', async function () {
    this.timeout(60_000);
    // On the low queue, which only the stopping worker serves when the job starts.
    const stopping = startHandler({
      HANDLER_QUEUES: '{"low":1}',
      HANDLER_SHUTDOWN_GRACE_SECONDS: '1',
      HANDLER_SHUTDOWN_FORCE_SECONDS: '1',
    });
    await until(
      'declared',
      () => workersOf('test.stubborn'),
      (workers) => workers?.low === 1,
    );
    const job = await startJob(
      'test.stubborn',
      { holdMs: 15_000 },
      { priority: 'low', taskQueue: jobTypeTaskQueue(prefix, 'test.stubborn', 'low'), heartbeatTimeoutSeconds: 2 },
    );
    await untilRunning(job);
    const survivor = startHandler({ HANDLER_QUEUES: '{"low":1}' });
    await until(
      'a second worker declared',
      () => workersOf('test.stubborn'),
      (workers) => workers?.low === 2,
    );
    const asked = Date.now();
    await stopping.stop('SIGTERM');
    const took = Date.now() - asked;
    const output = stopping.output.join('');
    // 1 s of grace, 1 s for the cancelled attempt to end, then the worker stops without it.
    assert.ok(took < 4000, `exited ${took} ms after SIGTERM`);
    assert.equal(stopping.child.exitCode, 1, output);
    assert.match(
      output,
      new RegExp(
        `\\[ERROR\\] abandoned attempt 1 of job ${job.workflowId} \\(test\\.stubborn\\): .* its job retries it after its heartbeat timeout`,
      ),
    );
    assert.match(output, new RegExp(`AttemptsAbandonedError: .*job ${job.workflowId} \\(test\\.stubborn\\) attempt 1`));

    const final = await job.result();
    assert.equal(final.status, 'succeeded');
    assert.equal(final.attempt, 2);
    // The abandoned attempt stopped heartbeating: Temporal timed it out, and the job workflow retried it.
    const timedOut = (await job.fetchHistory()).events!.map(
      (event) => event.activityTaskTimedOutEventAttributes?.failure?.timeoutFailureInfo?.timeoutType,
    );
    assert.ok(timedOut.includes(proto.temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT), 'a heartbeat timeout');
    await survivor.stop('SIGTERM');
    assert.equal(survivor.child.exitCode, 0, 'a worker with nothing running stops as before');
  });
});
