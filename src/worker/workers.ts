import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import { taskQueueFor, workflowTaskQueueFor } from '../config.js';
import type { JobPriority } from '../contract/job.js';
import { createActivities } from '../activities/index.js';
import type { JobTypeSettings } from '../activities/job-type.js';
import { createCallbackActivities, type CallbackSettings } from '../activities/callback.js';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export async function bundleJobWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath, logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error } });
}

export interface JobWorkersOptions {
  readonly connection: NativeConnection;
  readonly client: Client;
  readonly namespace: string;
  readonly taskQueuePrefix: string;
  /** The priorities this process serves and the concurrent attempts (slots) of each. */
  readonly queues: Partial<Record<JobPriority, number>>;
  readonly workflowBundle: WorkflowBundle;
  /** Whether this process also runs job workflows (default true); one process may hold one such worker. */
  readonly runWorkflows?: boolean;
  readonly settings: JobTypeSettings;
  /** For delivering finished jobs to their callbackUrl. */
  readonly callbacks: CallbackSettings;
  readonly shutdownGraceSeconds?: number;
}

/**
 * The job workflows' worker, plus one worker per priority served, each polling its own task queue with its
 * own slots, so low-priority work can never take the capacity reserved for high-priority work.
 */
export async function createJobWorkers(options: JobWorkersOptions): Promise<Worker[]> {
  const activities = createActivities({
    client: options.client,
    settings: options.settings,
    onSignalError: (err) => console.warn('could not report an attempt start to its workflow', err),
  });
  const workflowWorkers = options.runWorkflows === false ? [] : [Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: workflowTaskQueueFor(options.taskQueuePrefix),
    workflowBundle: options.workflowBundle,
    // Callback deliveries are the workflow queue's only activities: they are short and not jobs.
    activities: createCallbackActivities(options.callbacks),
  })];
  const attemptWorkers = Object.entries(options.queues).map(([priority, slots]) =>
    Worker.create({
      connection: options.connection,
      namespace: options.namespace,
      taskQueue: taskQueueFor(options.taskQueuePrefix, priority as JobPriority),
      activities,
      maxConcurrentActivityTaskExecutions: slots,
      // Cancellation reaches an attempt only on a heartbeat sent to the server; the SDK's default
      // throttle (0.8 × heartbeat timeout) would delay it by seconds.
      maxHeartbeatThrottleInterval: '500ms',
      defaultHeartbeatThrottleInterval: '500ms',
      shutdownGraceTime: `${options.shutdownGraceSeconds ?? 10}s`,
    }),
  );
  return Promise.all([...workflowWorkers, ...attemptWorkers]);
}
