import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import type { DataConverter, Logger } from '@temporalio/common';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { z } from 'zod';
import type { JobAttempt } from './attempt.js';
import {
  DeclareWorker,
  jobPriorities,
  problemWith,
  workerProtocolVersion,
  WorkerQueues,
} from './job-type-declaration.js';
import type { JobType } from './job-type.js';
import { jsonPayloadConverterPath, parsePayloadKey, PayloadEncryptionCodec } from './payload-codec.js';
import { RegistryLease } from './registry.js';
import { createAttemptWorkers, newWorkerId } from './serve.js';
import { startTracing } from './tracing.js';

export interface RunWorkerOptions {
  /** The job types this process serves (defineJobType). */
  readonly jobTypes: readonly JobType[];
  /** Where Temporal is: the service's TEMPORAL_ADDRESS (default localhost:7233) and TEMPORAL_NAMESPACE (default). */
  readonly temporal?: { readonly address?: string; readonly namespace?: string };
  /** The service's JOBS_TASK_QUEUE_PREFIX (default "jobs"). */
  readonly taskQueuePrefix?: string;
  /**
   * Attempts run at once per priority, shared by all the job types (docs/worker-protocol.md, "Capacity"); a priority
   * left out is not served.
   */
  readonly queues: WorkerQueues;
  /** The service's PAYLOAD_ENCRYPTION_KEY, when it has one (64 hex digits or base64 of 32 bytes). */
  readonly payloadEncryptionKey?: string;
  /** The service's PAYLOAD_DECRYPTION_KEYS: older keys, still read. */
  readonly payloadDecryptionKeys?: readonly string[];
  /** Counted as live this long after each renewal (2–300 s, default 10): a killed worker stops counting within it. */
  readonly leaseSeconds?: number;
  /** How long running attempts may go on after a stop signal before they are cancelled (default 10 s). */
  readonly shutdownGraceSeconds?: number;
  /**
   * How long the attempts cancelled at the end of the grace time may take to end (default 5 s). Those still running
   * then are abandoned: runWorker logs each, stops without them and rejects with AttemptsAbandonedError.
   */
  readonly shutdownForceSeconds?: number;
  /** Stops the worker as SIGTERM does; runWorker also stops on SIGTERM and SIGINT. */
  readonly signal?: AbortSignal;
  /** Defaults to Temporal's runtime logger. */
  readonly logger?: Logger;
}

/** Thrown by runWorker when its options cannot serve anything. */
export class WorkerOptionsInvalidError extends Error {
  override readonly name = 'WorkerOptionsInvalidError';
}

/**
 * Thrown by runWorker when attempts were still running past the stop's grace and force times: it stopped without
 * them (their jobs retry them after their heartbeat timeout), but their handlers may still run in this process, their
 * timers keeping it alive: exit it (`process.exit`).
 */
export class AttemptsAbandonedError extends Error {
  override readonly name = 'AttemptsAbandonedError';

  constructor(
    readonly attempts: readonly JobAttempt[],
    options?: ErrorOptions,
  ) {
    const named = attempts.map((each) => `job ${each.jobId} (${each.type}) attempt ${each.attempt}`).join(', ');
    super(`stopped without ${attempts.length} attempt(s) that ignored their cancellation: ${named}`, options);
  }
}

/** A number of seconds from 0 (a grace or force time). */
const Seconds = z.number().min(0).max(86_400);

const TaskQueuePrefix = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be 1–100 characters of [A-Za-z0-9._-], as JOBS_TASK_QUEUE_PREFIX');

const encodedFailuresPath = fileURLToPath(new URL('../encoded-failures.cjs', import.meta.url));

function dataConverterFor(options: RunWorkerOptions): DataConverter {
  const payloadConverterPath = jsonPayloadConverterPath;
  if (!options.payloadEncryptionKey) return { payloadConverterPath };
  const codec = new PayloadEncryptionCodec(
    parsePayloadKey(options.payloadEncryptionKey),
    (options.payloadDecryptionKeys ?? []).map(parsePayloadKey),
  );
  // Failures' messages and stack traces are encrypted too, as the service's own workers do.
  return { payloadConverterPath, payloadCodecs: [codec], failureConverterPath: encodedFailuresPath };
}

function checked(options: RunWorkerOptions): { prefix: string; queues: WorkerQueues } {
  const prefix = TaskQueuePrefix.safeParse(options.taskQueuePrefix ?? 'jobs');
  if (!prefix.success) throw new WorkerOptionsInvalidError(`taskQueuePrefix ${prefix.error.issues[0]!.message}`);
  const queues = WorkerQueues.safeParse(options.queues);
  if (!queues.success) throw new WorkerOptionsInvalidError(`queues: ${z.prettifyError(queues.error)}`);
  if (!jobPriorities.some((priority) => (queues.data[priority] ?? 0) > 0))
    throw new WorkerOptionsInvalidError('queues: give at least one priority a slot, e.g. { normal: 4 }');
  const names = options.jobTypes.map((type) => type.declaration.name);
  if (names.length === 0) throw new WorkerOptionsInvalidError('jobTypes: give at least one job type');
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice) throw new WorkerOptionsInvalidError(`jobTypes: "${twice}" is given twice`);
  for (const option of ['shutdownGraceSeconds', 'shutdownForceSeconds'] as const)
    if (!Seconds.safeParse(options[option] ?? 0).success)
      throw new WorkerOptionsInvalidError(
        `${option} must be a number of seconds from 0 to 86400, not ${options[option]}`,
      );
  return { prefix: prefix.data, queues: queues.data };
}

/**
 * With WORKER_METRICS_PORT set, the Temporal SDK's metrics (activity slots used and available, polls, latencies) in
 * Prometheus form on WORKER_METRICS_HOST (default 127.0.0.1) and that port. It installs the SDK's runtime, which a
 * process does once: only when asked.
 */
function installMetricsRuntime(env: NodeJS.ProcessEnv = process.env): void {
  const port = env['WORKER_METRICS_PORT'];
  if (!port) return;
  if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535)
    throw new WorkerOptionsInvalidError(`WORKER_METRICS_PORT must be a port number from 1 to 65535, not "${port}"`);
  const bindAddress = `${env['WORKER_METRICS_HOST'] || '127.0.0.1'}:${port}`;
  try {
    Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress } } } });
  } catch (err) {
    throw new WorkerOptionsInvalidError(
      `WORKER_METRICS_PORT is set, but this process installed the Temporal runtime already: give its telemetryOptions the Prometheus exporter instead (${(err as Error).message})`,
    );
  }
}

/**
 * Serves `jobTypes` until SIGTERM, SIGINT or `signal`: one Temporal worker per job type and priority, each polling
 * that pair's task queue, the types sharing the priority's slots; the process is declared to the service's job
 * type registry and keeps its lease while it runs. Resolves once every running attempt has ended or been cancelled;
 * rejects with AttemptsAbandonedError when some ignored their cancellation (`shutdownForceSeconds`).
 */
export async function runWorker(options: RunWorkerOptions): Promise<void> {
  const { prefix, queues } = checked(options);
  const workerId = newWorkerId();
  const declaration: DeclareWorker = {
    protocolVersion: workerProtocolVersion,
    workerId,
    identity: `@durable-jobs/worker (TypeScript) pid ${process.pid} on ${hostname()}`,
    jobTypes: options.jobTypes.map((type) => type.declaration),
    queues,
    leaseSeconds: options.leaseSeconds ?? 10,
  };
  // What the registry would refuse at every renewal (a lease of 1 s, 101 types) fails the start instead: the worker
  // would serve its queues, but the API would never know its types.
  const refused = problemWith(DeclareWorker, declaration);
  if (refused) throw new WorkerOptionsInvalidError(`the registry would refuse this worker: ${refused}`);
  installMetricsRuntime();
  const log = options.logger ?? Runtime.instance().logger;
  const address = options.temporal?.address ?? 'localhost:7233';
  const namespace = options.temporal?.namespace ?? 'default';
  const dataConverter = dataConverterFor(options);
  // Before connecting: a tracing setup that cannot load fails the start, not the first attempt.
  const tracing = await startTracing('durable-jobs-handler-worker');

  const graceSeconds = options.shutdownGraceSeconds ?? 10;
  const forceSeconds = options.shutdownForceSeconds ?? 5;
  const nativeConnection = await NativeConnection.connect({ address });
  const stopping = new AbortController();
  const running = new Set<JobAttempt>();
  try {
    // On the workers' own connection: each attempt signals its start through this client, and a second, JavaScript
    // gRPC connection cost the process more CPU per job than the workers' (issue 25).
    const client = new Client({
      connection: nativeConnection,
      namespace,
      dataConverter,
      ...(tracing ? { interceptors: tracing.clientInterceptors } : {}),
    });
    const workers = await createAttemptWorkers({
      connection: nativeConnection,
      client,
      namespace,
      taskQueuePrefix: prefix,
      jobTypes: options.jobTypes,
      queues,
      dataConverter,
      identity: workerId,
      ...(tracing ? { interceptors: tracing.workerInterceptors } : {}),
      shutdownGraceSeconds: graceSeconds,
      shutdownForceSeconds: forceSeconds,
      runningAttempts: running,
    });

    const lease = new RegistryLease(client, prefix, declaration, log);
    const stop = (): void => {
      if (stopping.signal.aborted) return;
      log.info('stopping: running attempts get the grace time to finish');
      stopping.abort();
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    };
    const onSignal = (): void => stop();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    options.signal?.addEventListener('abort', stop, { once: true });
    if (options.signal?.aborted) stop();
    try {
      // Leaves as soon as the stop begins: the running attempts drain without new ones counting on this process.
      const keeping = lease.keep(stopping.signal).then(() => lease.leave());
      const runs = workers.map((worker) => worker.run());
      try {
        await Promise.all(runs);
      } catch (err) {
        if (!stopping.signal.aborted) throw err;
        // Past the force time, each worker with an attempt that has not ended rejects (the SDK's shutdownForceTime,
        // whose error the SDK's own "Worker still in use" hides): the worker stops without its attempts.
        await Promise.allSettled(runs);
        const abandoned = [...running];
        if (abandoned.length === 0) throw err;
        for (const each of abandoned)
          log.error(
            `abandoned attempt ${each.attempt} of job ${each.jobId} (${each.type}): still running ${forceSeconds} s after it was cancelled at the end of the ${graceSeconds} s grace time; its job retries it after its heartbeat timeout, as its retry policy allows`,
            { jobId: each.jobId, jobType: each.type, jobAttempt: each.attempt },
          );
        await keeping;
        throw new AttemptsAbandonedError(abandoned, { cause: err });
      }
      stop();
      await keeping;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      options.signal?.removeEventListener('abort', stop);
    }
  } finally {
    await nativeConnection.close();
    await tracing?.shutdown();
  }
}
