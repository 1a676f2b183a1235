// The parts of a handler worker, for a process that builds its own around them: runWorker is made of these, and so is
// the durable-jobs service's own worker, which serves the built-in job types beside its workflows.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkerInterceptors } from '@temporalio/worker';
import { EMPTY, type Observable } from 'rxjs';
import { attemptActivity, type JobAttempt } from './attempt.js';
import { jobPriorities, jobTypeTaskQueue, type Priority, type WorkerQueues } from './job-type-declaration.js';
import type { JobType } from './job-type.js';
import { PrioritySlotPool } from './slots.js';

export { attemptActivity, type JobAttempt } from './attempt.js';
export { RegistryLease } from './registry.js';
export { startTracing, TracingPackagesMissingError, tracingRequested, type Tracing } from './tracing.js';

/**
 * A Temporal worker of activities only. The SDK's worker warns "No workflows registered, not polling for workflow
 * tasks" when it starts without workflows, meant for a worker that lost its bundle by mistake; a handler worker has
 * none by design, so it polls no workflow tasks as the SDK would, without that warning (and only that one).
 */
class ActivityWorker extends Worker {
  protected override workflow$(): Observable<void> {
    this.workflowPollerStateSubject.next('SHUTDOWN');
    return EMPTY;
  }
}

/** Unique per process start (host, pid and a random part): a restarted process is a new worker to the registry. */
export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

export interface AttemptWorkersOptions {
  readonly connection: NativeConnection;
  /** Signals `attemptStarted` to the job workflows: the same data converter as the workers'. */
  readonly client: Client;
  readonly namespace: string;
  readonly taskQueuePrefix: string;
  readonly jobTypes: readonly JobType[];
  /** Attempts run at once per priority; a priority left out or at 0 is not served. */
  readonly queues: WorkerQueues;
  /**
   * `shared` (the default): a priority's slots are one budget for all its types (PrioritySlotPool: at the busiest
   * instant up to slots + types − 1). `per-type`: each type has the priority's slots of its own, so one busy type can
   * use them all, and a process serving ten types may run ten times its slots.
   */
  readonly slots?: 'shared' | 'per-type';
  readonly dataConverter: DataConverter;
  /** Each worker's identity is this, then its type and priority (what an activity's history shows). */
  readonly identity: string;
  readonly shutdownGraceSeconds?: number;
  /**
   * How long the attempts cancelled at the end of the grace time may take to end: past it, a worker with an attempt
   * still running stops without it (its run() rejects: Temporal's shutdownForceTime). Unset, a worker waits for its
   * attempts however long they take.
   */
  readonly shutdownForceSeconds?: number;
  /** Each running attempt is in this set while it runs: what a worker that stopped without them abandoned. */
  readonly runningAttempts?: Set<JobAttempt>;
  /**
   * Per priority, one more task queue polled with every type's activity and the priority's shared slots: the service
   * keeps serving the per-priority queues of jobs started before job types had queues of their own.
   */
  readonly sharedTaskQueues?: Partial<Record<Priority, string>>;
  /** Activity interceptors of every worker: startTracing's, when traces are exported. */
  readonly interceptors?: Pick<WorkerInterceptors, 'activity'>;
}

/**
 * One Temporal worker per job type and priority, each polling that pair's task queue with the type's one activity,
 * the types of a priority sharing its slots unless `slots` says otherwise (docs/worker-protocol.md, "Capacity"). Not
 * yet running.
 */
export async function createAttemptWorkers(options: AttemptWorkersOptions): Promise<Worker[]> {
  const activities = Object.fromEntries(
    options.jobTypes.map((jobType) => [
      jobType.declaration.name,
      attemptActivity(jobType, options.client, options.runningAttempts),
    ]),
  );
  const graceSeconds = options.shutdownGraceSeconds ?? 10;
  const workers: Promise<Worker>[] = [];
  for (const priority of jobPriorities) {
    const slots = options.queues[priority] ?? 0;
    if (slots === 0) continue;
    const pool = options.slots === 'per-type' ? undefined : new PrioritySlotPool(slots);
    const serve = (taskQueue: string, name: string, served: typeof activities) =>
      ActivityWorker.create({
        connection: options.connection,
        namespace: options.namespace,
        taskQueue,
        identity: `${options.identity} ${name}/${priority}`,
        dataConverter: options.dataConverter,
        activities: served,
        ...(options.interceptors ? { interceptors: options.interceptors } : {}),
        tuner: {
          activityTaskSlotSupplier: pool ?? { type: 'fixed-size', numSlots: slots },
          // No workflows or local activities run here; the slots are what the SDK requires at the least.
          workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: 2 },
          localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
          nexusTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
        },
        // One poller per queue: a process serving many types keeps few long polls open on the server.
        maxConcurrentActivityTaskPolls: 1,
        // Cancellation reaches an attempt only on a heartbeat sent to the server; the SDK's default throttle
        // (0.8 × heartbeat timeout) would delay it by seconds.
        maxHeartbeatThrottleInterval: '500ms',
        defaultHeartbeatThrottleInterval: '500ms',
        shutdownGraceTime: graceSeconds * 1000,
        // Counted by the SDK from the stop, as the grace time is.
        ...(options.shutdownForceSeconds !== undefined
          ? { shutdownForceTime: (graceSeconds + options.shutdownForceSeconds) * 1000 }
          : {}),
      });
    for (const jobType of options.jobTypes) {
      const name = jobType.declaration.name;
      workers.push(
        serve(jobTypeTaskQueue(options.taskQueuePrefix, name, priority), name, { [name]: activities[name]! }),
      );
    }
    const shared = options.sharedTaskQueues?.[priority];
    if (shared) workers.push(serve(shared, '*', activities));
  }
  return Promise.all(workers);
}
