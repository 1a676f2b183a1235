import { hostname } from 'node:os';
import type { Client } from '@temporalio/client';
import type { Logger, PayloadCodec } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createAttemptWorkers, newWorkerId, RegistryLease, type Tracing } from '@durable-jobs/worker/serve';
import { jobPriorities, workerProtocolVersion, type WorkerQueues } from '../contract/job-type-declaration.js';
import { dataConverterFor } from '../temporal/payload-codec.js';
import { commandJobType, type CommandSettings } from '../activities/command.js';
import { sleepJob } from '../activities/sleep.js';
import { createCallbackActivities, type CallbackSettings } from '../activities/callback.js';
import { createTenantActivities } from '../activities/unfinished-jobs.js';
import type { JobMetrics } from '../telemetry/job-metrics.js';
import { taskQueueFor, workflowTaskQueueFor } from '../workflows/task-queues.js';

export interface JobWorkersOptions {
  readonly connection: NativeConnection;
  readonly client: Client;
  readonly namespace: string;
  readonly taskQueuePrefix: string;
  /** The priorities this process serves and the concurrent attempts (slots) of each. */
  readonly queues: WorkerQueues;
  /** Built with `encodeFailures` when there are payload codecs (see WorkflowBundleVariant). */
  readonly workflowBundle: WorkflowBundleOption;
  /** Whether this process also runs job workflows (default true); one process may hold one such worker. */
  readonly runWorkflows?: boolean;
  /** The most job workflows kept in memory between their tasks (WORKER_MAX_CACHED_WORKFLOWS); others replay. */
  readonly maxCachedWorkflows?: number;
  readonly settings: CommandSettings;
  /** For delivering finished jobs to their callbackUrl. */
  readonly callbacks: CallbackSettings;
  readonly shutdownGraceSeconds?: number;
  /** payloadCodecsFor(config): the same as the client's, or workflows could not read what the API wrote; with any, failures are encoded too. */
  readonly payloadCodecs?: PayloadCodec[];
  readonly logger: Logger;
  /** Counted as live in the job type registry this long after each renewal (default 10 s). */
  readonly leaseSeconds?: number;
  /** startTracing's, when traces are exported: then `workflowBundle` must be a traced one. */
  readonly tracing?: Tracing;
  /** Where the job workflows report their ends and callback deliveries are counted (WORKER_JOB_METRICS_PORT serves it). */
  readonly jobMetrics: JobMetrics;
}

/** The service's workers, and its place in the job type registry, which `run` keeps until they stop. */
export interface JobWorkers {
  readonly workers: readonly Worker[];
  /** Runs the workers and keeps the built-in types declared until every worker has stopped. */
  run(): Promise<void>;
  /** Leaves the registry, then stops polling (running attempts get the grace time). */
  shutdown(): Promise<void>;
  /** Settles once the registry has the built-in types: the API then accepts their jobs. */
  readonly declared: Promise<void>;
}

/**
 * The job workflows' worker, plus the built-in job types (sleep, command) served as any handler worker serves its
 * own (@durable-jobs/worker): a worker per type and priority on `<prefix>:<type>:<priority>`, the priority's slots
 * shared by the types, the process declared to the job type registry. Each priority's queue from before per-type
 * queues (`<prefix>-<priority>`) is polled too, with the same slots, so that jobs started before the upgrade finish:
 * their workflows keep scheduling retries where their request says.
 */
export async function createJobWorkers(options: JobWorkersOptions): Promise<JobWorkers> {
  const dataConverter = dataConverterFor(options.payloadCodecs ?? []);
  const jobTypes = [
    sleepJob,
    await commandJobType(options.settings, (problem) => {
      options.logger.warn(problem);
    }),
  ];
  const workerId = newWorkerId();
  const callbackActivities = createCallbackActivities(options.callbacks);
  const workflowWorkers =
    options.runWorkflows === false
      ? []
      : [
          await Worker.create({
            connection: options.connection,
            namespace: options.namespace,
            dataConverter,
            taskQueue: workflowTaskQueueFor(options.taskQueuePrefix),
            workflowBundle: options.workflowBundle,
            // The SDK's default sizes the cache by the heap (hundreds of workflows here): every queued job's workflow
            // stays in memory, about 100 KB plus its request, input included. Past the bound a workflow is replayed
            // at its next task, which for a job's short history costs milliseconds.
            ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
            // The workflow queue's activities are short and not jobs: callback deliveries, and a scheduled run's cap check.
            activities: {
              ...callbackActivities,
              deliverCallback: options.jobMetrics.countDeliveries(
                (delivery: Parameters<typeof callbackActivities.deliverCallback>[0]) =>
                  callbackActivities.deliverCallback(delivery),
              ),
              ...createTenantActivities(options.client),
            },
            sinks: { ...options.tracing?.sinks, ...options.jobMetrics.sinks() },
            ...(options.tracing ? { interceptors: options.tracing.workerInterceptors } : {}),
          }),
        ];
  const attemptWorkers = await createAttemptWorkers({
    connection: options.connection,
    client: options.client,
    namespace: options.namespace,
    taskQueuePrefix: options.taskQueuePrefix,
    jobTypes,
    queues: options.queues,
    dataConverter,
    // Temporal's own default identity first (pid@host), as the workflow worker's: what dev/parts.ts looks for.
    identity: `${process.pid}@${hostname()}`,
    // WORKER_QUEUES gives each built-in type its priority's slots, as before job types shared them: a busy sleep type
    // runs them all at once (a shared budget lets only about as many polls open as slots free, one at a time per queue).
    slots: 'per-type',
    sharedTaskQueues: Object.fromEntries(
      jobPriorities.map((priority) => [priority, taskQueueFor(options.taskQueuePrefix, priority)]),
    ),
    ...(options.shutdownGraceSeconds !== undefined ? { shutdownGraceSeconds: options.shutdownGraceSeconds } : {}),
    ...(options.tracing ? { interceptors: options.tracing.workerInterceptors } : {}),
  });
  const workers = [...workflowWorkers, ...attemptWorkers];
  const lease = new RegistryLease(
    options.client,
    options.taskQueuePrefix,
    {
      protocolVersion: workerProtocolVersion,
      workerId,
      identity: `durable-jobs service worker, pid ${process.pid} on ${hostname()}`,
      jobTypes: jobTypes.map((jobType) => jobType.declaration),
      queues: options.queues,
      leaseSeconds: options.leaseSeconds ?? 10,
    },
    options.logger,
  );
  const stopping = new AbortController();
  let leaving: Promise<void> | undefined;
  // Leaves before the workers stop: this process may run the registry's workflow, which must take the update.
  const leave = (): Promise<void> => {
    stopping.abort();
    return (leaving ??= lease.leave());
  };
  return {
    workers,
    declared: lease.declared,
    async shutdown() {
      await leave();
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    },
    async run() {
      const keeping = lease.keep(stopping.signal);
      try {
        await Promise.all(workers.map((worker) => worker.run()));
      } finally {
        await leave();
        await keeping;
      }
    },
  };
}
