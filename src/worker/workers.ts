import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import {
  bundleWorkflowCode,
  Worker,
  type NativeConnection,
  type WorkflowBundle,
  type WorkflowBundleOption,
  type WorkflowBundlePath,
} from '@temporalio/worker';
import { projectRoot } from '../temporal/binaries.js';
import { dataConverterFor, encodedFailuresPath } from '../temporal/payload-codec.js';
import type { JobPriority } from '../contract/job.js';
import { createActivities } from '../activities/index.js';
import type { JobTypeSettings } from '../activities/job-type.js';
import { createCallbackActivities, type CallbackSettings } from '../activities/callback.js';
import { createTenantActivities } from '../activities/unfinished-jobs.js';
import { taskQueueFor, workflowTaskQueueFor } from '../workflows/task-queues.js';

export const workflowsPath = join(projectRoot, 'src', 'workflows', 'index.ts');

export interface JobWorkflowsBundleOptions {
  /**
   * Build in the failure converter that encodes failures' messages and stack traces (encoded-failures.cjs): for
   * workers with payload codecs, whose dataConverterFor(codecs) encodes them outside the workflows too.
   */
  readonly encodeFailures?: boolean;
  /** Workflow interceptor modules to build in: the replay test's, which reports the timers the workflows start. */
  readonly workflowInterceptorModules?: string[];
}

/**
 * The workflow bundle as a file under .cache/, named by a hash of what goes into it, built by a child
 * process on first use: webpack would add 60–100 MB to the worker's memory for good.
 */
export async function prebuiltWorkflowBundle(options: JobWorkflowsBundleOptions = {}): Promise<WorkflowBundlePath> {
  const inputs = [join(projectRoot, 'package-lock.json')];
  for (const dir of ['src/workflows', 'src/contract']) {
    for (const name of (await readdir(join(projectRoot, dir))).sort()) inputs.push(join(projectRoot, dir, name));
  }
  if (options.encodeFailures) inputs.push(encodedFailuresPath);
  const hash = createHash('sha256').update(options.encodeFailures ? 'encode failures\0' : '');
  for (const file of inputs) hash.update(file).update(await readFile(file));
  const codePath = join(projectRoot, '.cache', 'workflow-bundles', `${hash.digest('hex').slice(0, 16)}.js`);
  if (!existsSync(codePath)) {
    await mkdir(dirname(codePath), { recursive: true });
    const args = [
      join(projectRoot, 'src', 'worker', 'bundle.ts'),
      codePath,
      ...(options.encodeFailures ? ['--encode-failures'] : []),
    ];
    const builder = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: 'inherit' });
    const [code] = (await once(builder, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`building the workflow bundle failed (exit ${code})`);
  }
  return { codePath };
}

export async function bundleJobWorkflows(options: JobWorkflowsBundleOptions = {}): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath,
    ...(options.encodeFailures ? { failureConverterPath: encodedFailuresPath } : {}),
    ...(options.workflowInterceptorModules ? { workflowInterceptorModules: options.workflowInterceptorModules } : {}),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
  });
}

export interface JobWorkersOptions {
  readonly connection: NativeConnection;
  readonly client: Client;
  readonly namespace: string;
  readonly taskQueuePrefix: string;
  /** The priorities this process serves and the concurrent attempts (slots) of each. */
  readonly queues: Partial<Record<JobPriority, number>>;
  /** Built with `encodeFailures` when there are payload codecs (see JobWorkflowsBundleOptions). */
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
