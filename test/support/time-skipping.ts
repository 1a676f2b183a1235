// The job workflow on the native time-skipping test server: the real workflow code and job handlers, workers per test.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, decodeTimeoutType, type TimeoutType } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions, type WorkflowBundle } from '@temporalio/worker';
import { createCallbackActivities } from '../../src/activities/callback.js';
import { attemptActivity } from '@durable-jobs/worker/serve';
import { commandJobType } from '../../src/activities/command.js';
import { sleepJob } from '../../src/activities/sleep.js';
import { loadConfig } from '../../src/config.js';
import { JobMetrics } from '../../src/telemetry/job-metrics.js';
import { z } from 'zod';
import { Job, type JobState } from '../../src/contract/job.js';
import { startTimeSkippingServer } from '../../dev/temporal/dev-server.js';
import { bundleJobWorkflows } from '../../dev/workflow-bundle.js';
import { jobWorkflow } from '../../src/workflows/index.js';
import type { JobActivities, TenantActivities } from '../../src/workflows/job-workflow.js';
import type { JobRequest } from '../../src/workflows/job-state.js';
import { attemptStartedSignal, jobStateQuery } from '../../src/workflows/messages.js';
import { jobTypeTaskQueue } from '../../src/contract/job-type-declaration.js';
import { workflowTaskQueueFor } from '../../src/workflows/task-queues.js';
import { workflowVersion } from '../../src/workflows/version.js';

export type JobHandle = WorkflowHandle<typeof jobWorkflow>;
type HistoryEvent = NonNullable<History['events']>[number];

/** A test's own task queues, named from a fresh prefix as production names them. */
export interface TestQueues {
  readonly prefix: string;
  readonly workflows: string;
  readonly attempts: string;
}

/** What a test says about its job; the rest of the request gets defaults. */
export interface JobSpec
  extends
    Pick<JobRequest, 'type' | 'input'>,
    Partial<
      Pick<
        JobRequest,
        | 'timeoutSeconds'
        | 'heartbeatTimeoutSeconds'
        | 'retry'
        | 'onChildFailure'
        | 'run'
        | 'scheduled'
        | 'unfinishedCap'
      >
    > {
  /** Sets `runAt` this long after the server's current time, which skipped time leaves far from the wall clock's. */
  readonly delaySeconds?: number;
  /** Jobs that run first, as child workflows on the parent's workers. */
  readonly children?: readonly JobSpec[];
  /** Gives the job a callbackUrl: the testbed's receiver, which accepts every delivery, or the URL given. */
  readonly callback?: boolean | string;
}

/** A test-only job type: its first attempt stops heartbeating and hangs until its worker stops; later attempts succeed. */
export const stallingJobType = 'test-stalls-first-attempt';

/** Test doubles of job handlers, keeping the real activities' contract: report the attempt's start, then run. */
function testJobActivities(client: Client): JobActivities {
  return {
    async [stallingJobType](_input, { attempt }) {
      const startedAt = new Date().toISOString();
      const activity = Context.current();
      const execution = activity.info.workflowExecution;
      assert.ok(execution, 'an attempt runs for a workflow');
      await client.workflow
        .getHandle(execution.workflowId, execution.runId)
        .signal(attemptStartedSignal, { attempt, startedAt });
      if (attempt === 1) {
        activity.heartbeat();
        await activity.cancelled;
      }
      return { result: { attempt }, progress: null, startedAt };
    },
  };
}

/**
 * A scheduled run's count of its tenant's other unfinished jobs, always 0, so that a run's outcome does not hang
 * on what else the shared server runs: a run is skipped only under a cap of 0.
 */
const noOtherUnfinishedJobs: TenantActivities = {
  countUnfinishedJobs() {
    return Promise.resolve(0);
  },
};

/** Answers every job callback 204, on a free local port. */
async function startCallbackReceiver(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume().on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback` };
}

const callbackSecret = 'time-skipping-callback-secret';

/**
 * The time-skipping server with the job search attributes registered, the job workflow bundle built once, and a
 * receiver for job callbacks.
 */
export class JobWorkflowTestbed {
  protected constructor(
    readonly env: TestWorkflowEnvironment,
    readonly workflowBundle: WorkflowBundle,
    private readonly callbackReceiver: { server: Server; url: string },
  ) {}

  static async start(): Promise<JobWorkflowTestbed> {
    const env = await startTimeSkippingServer();
    try {
      return new JobWorkflowTestbed(env, await bundleJobWorkflows(), await startCallbackReceiver());
    } catch (err) {
      await env.teardown();
      throw err;
    }
  }

  /** Closes the receiver and the server each on its own, so that one failing does not leave the other open. */
  async teardown(): Promise<void> {
    const { server } = this.callbackReceiver;
    server.closeAllConnections();
    const results = await Promise.allSettled([
      new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
      this.env.teardown(),
    ]);
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
  }

  queues(): TestQueues {
    const prefix = `test-${randomUUID()}`;
    // One attempt queue serves every type here; it is the one the API's request building gives a normal sleep job.
    return { prefix, workflows: workflowTaskQueueFor(prefix), attempts: jobTypeTaskQueue(prefix, 'sleep', 'normal') };
  }

  async request(queues: TestQueues, job: JobSpec): Promise<JobRequest> {
    const { delaySeconds, children, callback, ...spec } = job;
    return {
      jobId: `job-${randomUUID()}`,
      priority: 'normal',
      timeoutSeconds: 600,
      heartbeatTimeoutSeconds: 60,
      retry: { maxAttempts: 1, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 3600 },
      ...spec,
      taskQueue: queues.attempts,
      submittedAt: new Date().toISOString(),
      // As the API makes it (src/jobs/request.ts): the fixtures of older versions cover requests without it.
      commandsVersion: workflowVersion,
      ...(delaySeconds !== undefined
        ? { runAt: new Date((await this.env.currentTimeMs()) + delaySeconds * 1000).toISOString() }
        : {}),
      // The workflow only copies a child's request hash into its memo; the API's idempotency check is not under test here.
      ...(children
        ? {
            children: await Promise.all(
              children.map(async (child) => ({ request: await this.request(queues, child), requestHash: 'unchecked' })),
            ),
          }
        : {}),
      ...(callback ? { callbackUrl: typeof callback === 'string' ? callback : this.callbackReceiver.url } : {}),
    };
  }

  /** Starts the job's workflow as the API does: the job id is the workflow id, the workflow on its own queue. */
  start(queues: TestQueues, request: JobRequest): Promise<JobHandle> {
    return this.env.client.workflow.start(jobWorkflow, {
      args: [request],
      workflowId: request.jobId,
      taskQueue: queues.workflows,
    });
  }

  /** Runs job workflows and, as in production, their callback deliveries: attempts scheduled meanwhile wait on their own queue. */
  workflowWorker(
    queues: TestQueues,
    options: Pick<WorkerOptions, 'maxCachedWorkflows' | 'debugMode'> = {},
  ): Promise<Worker> {
    return Worker.create({
      ...options,
      connection: this.env.nativeConnection,
      taskQueue: queues.workflows,
      workflowBundle: this.workflowBundle,
      activities: {
        ...createCallbackActivities({
          secret: callbackSecret,
          uiUrl: loadConfig({}).TEMPORAL_UI_URL,
          namespace: this.env.namespace ?? 'default',
          allowHosts: [new URL(this.callbackReceiver.url).host],
        }),
        ...noOtherUnfinishedJobs,
      },
      // The job workflows report their ends to it, as to the service's worker.
      sinks: new JobMetrics().sinks(),
    });
  }

  /** Runs attempts: the real job types and the test-only ones. */
  async attemptWorker(queues: TestQueues): Promise<Worker> {
    const client = this.env.client;
    const commandJob = await commandJobType({ commandsDir: loadConfig({}).JOBS_COMMANDS_DIR });
    return Worker.create({
      connection: this.env.nativeConnection,
      taskQueue: queues.attempts,
      activities: {
        sleep: attemptActivity(sleepJob, client),
        command: attemptActivity(commandJob, client),
        ...testJobActivities(client),
      },
    });
  }

  /** Runs `fn` while both workers serve the test's queues, and stops them after. */
  async withWorkers<T>(queues: TestQueues, fn: () => Promise<T>): Promise<T> {
    const [workflows, attempts] = await Promise.all([this.workflowWorker(queues), this.attemptWorker(queues)]);
    return workflows.runUntil(() => attempts.runUntil(fn));
  }
}

// A state has tags and traceId only when the job has them (JobState).
const JobStateSchema = Job.omit({ links: true }).extend({
  tags: Job.shape.tags.optional(),
  traceId: z.string().optional(),
});

/** How a job's workflow ended, with the final state read the way a client reads it. */
export type JobOutcome =
  | { readonly closedAs: 'completed'; readonly state: JobState }
  | { readonly closedAs: 'failed'; readonly failureType: string | undefined; readonly state: JobState }
  | { readonly closedAs: 'cancelled'; readonly state: JobState };

/**
 * Awaits the end of the job (which lets the server skip time) and reads its final state: the result of a
 * completed run, details[0] of a failed run's ApplicationFailure, the `finalJob` memo of a cancelled run.
 */
export async function jobOutcome(handle: JobHandle): Promise<JobOutcome> {
  try {
    return { closedAs: 'completed', state: JobStateSchema.parse(await handle.result()) };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    if (err.cause instanceof CancelledFailure) {
      const { memo } = await handle.describe();
      return { closedAs: 'cancelled', state: JobStateSchema.parse(memo?.['finalJob']) };
    }
    if (err.cause instanceof ApplicationFailure) {
      return {
        closedAs: 'failed',
        failureType: err.cause.type ?? undefined,
        state: JobStateSchema.parse(err.cause.details?.[0]),
      };
    }
    throw err;
  }
}

/** Reads `read()` every 50 ms of wall time until `matches` holds; fails after `timeoutMs` with the last value seen. */
export async function eventually<T>(
  read: () => Promise<T>,
  matches: (value: T) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (matches(value)) return value;
    if (Date.now() > deadline)
      assert.fail(`${what} did not happen within ${timeoutMs} ms; last seen: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The job's state, as its query answers, once it matches. */
export function waitForJobState(
  handle: JobHandle,
  matches: (state: JobState) => boolean,
  what: string,
): Promise<JobState> {
  return eventually(() => handle.query(jobStateQuery), matches, what);
}

export function eventTimeMs(event: HistoryEvent): number {
  const seconds = event.eventTime?.seconds;
  const nanos = event.eventTime?.nanos ?? 0;
  return (typeof seconds === 'number' ? seconds : (seconds?.toNumber() ?? 0)) * 1000 + Math.floor(nanos / 1e6);
}

/** Server times (ms) of the job's TimerStarted events: a delay, or a backoff between attempts. */
export function timerStartTimes(history: History): number[] {
  return (history.events ?? []).filter((event) => event.timerStartedEventAttributes).map(eventTimeMs);
}

/** Server times (ms) of the job's ActivityTaskScheduled events: one per attempt. */
export function attemptScheduledTimes(history: History): number[] {
  return (history.events ?? []).filter((event) => event.activityTaskScheduledEventAttributes).map(eventTimeMs);
}

/** Server time (ms) from the request to cancel the job's workflow to its WorkflowExecutionCanceled event, which must end the history. */
export function cancelRequestToCancelledMs(history: History): number {
  const events = history.events ?? [];
  const requested = events.find((event) => event.workflowExecutionCancelRequestedEventAttributes);
  const closed = events.at(-1);
  assert.ok(
    requested && closed?.workflowExecutionCanceledEventAttributes,
    'a cancel request, and WorkflowExecutionCanceled last',
  );
  return eventTimeMs(closed) - eventTimeMs(requested);
}

/** The job's ActivityTaskTimedOut events: when (server time, ms) and which timeout. */
export function attemptTimeouts(history: History): { atMs: number; type: TimeoutType | undefined }[] {
  return (history.events ?? []).flatMap((event) => {
    const timedOut = event.activityTaskTimedOutEventAttributes;
    return timedOut
      ? [{ atMs: eventTimeMs(event), type: decodeTimeoutType(timedOut.failure?.timeoutFailureInfo?.timeoutType) }]
      : [];
  });
}

/**
 * Moves the server's clock to 1 s before `deadlineMs` while an attempt is outstanding; that last second passes in
 * wall time. The test server skips time only when nothing holds it: the environment holds it from the start (a
 * sleep or an awaited result lifts that hold meanwhile), and so does every scheduled activity until it ends. Two
 * sleeps at once lift both. They must end before the activity does, or the server's hold count would go below zero,
 * which it refuses, leaving time held for the rest of the environment: hence the margin, and a `deadlineMs` no
 * later than the attempt's real deadline.
 */
export async function skipToShortlyBefore(env: TestWorkflowEnvironment, deadlineMs: number): Promise<void> {
  const skipMs = deadlineMs - 1000 - (await env.currentTimeMs());
  assert.ok(skipMs > 0, `the deadline is less than a second away (${skipMs + 1000} ms)`);
  await Promise.all([env.sleep(skipMs), env.sleep(skipMs)]);
}
