import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { dataConverterFor } from '../temporal/payload-codec.js';
import type { JobPriority } from '../contract/job.js';
import { createActivities } from '../activities/index.js';
import type { JobTypeSettings } from '../activities/job-type.js';
import { createCallbackActivities, type CallbackSettings } from '../activities/callback.js';
import { createTenantActivities } from '../activities/unfinished-jobs.js';
import { taskQueueFor, workflowTaskQueueFor } from '../workflows/task-queues.js';

export interface JobWorkersOptions {
  readonly connection: NativeConnection;
  readonly client: Client;
  readonly namespace: string;
  readonly taskQueuePrefix: string;
  /** The priorities this process serves and the concurrent attempts (slots) of each. */
  readonly queues: Partial<Record<JobPriority, number>>;
  /** Built with `encodeFailures` when there are payload codecs (see WorkflowBundleVariant). */
  readonly workflowBundle: WorkflowBundleOption;
  /** Whether this process also runs job workflows (default true); one process may hold one such worker. */
  readonly runWorkflows?: boolean;
  readonly settings: JobTypeSettings;
  /** For delivering finished jobs to their callbackUrl. */
  readonly callbacks: CallbackSettings;
  readonly shutdownGraceSeconds?: number;
  /** payloadCodecsFor(config): the same as the client's, or workflows could not read what the API wrote; with any, failures are encoded too. */
  readonly payloadCodecs?: PayloadCodec[];
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
  const dataConverter = dataConverterFor(options.payloadCodecs ?? []);
  const workflowWorkers =
    options.runWorkflows === false
      ? []
      : [
          Worker.create({
            connection: options.connection,
            namespace: options.namespace,
            dataConverter,
            taskQueue: workflowTaskQueueFor(options.taskQueuePrefix),
            workflowBundle: options.workflowBundle,
            // The workflow queue's activities are short and not jobs: callback deliveries, and a scheduled run's cap check.
            activities: { ...createCallbackActivities(options.callbacks), ...createTenantActivities(options.client) },
          }),
        ];
  const attemptWorkers = Object.entries(options.queues).map(([priority, slots]) =>
    Worker.create({
      connection: options.connection,
      namespace: options.namespace,
      taskQueue: taskQueueFor(options.taskQueuePrefix, priority as JobPriority),
      dataConverter,
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
