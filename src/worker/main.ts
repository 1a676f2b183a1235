import { startTracing } from '@durable-jobs/worker/serve';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { callbackSettingsOf } from '../activities/callback.js';
import { commandIsolationProblem, commandSandboxOf } from '../activities/command.js';
import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { dataConverterFor, payloadCodecsFor } from '../temporal/payload-codec.js';
import { JobMetrics } from '../telemetry/job-metrics.js';
import { createJobWorkers } from './workers.js';
import { prebuiltWorkflowBundle } from './workflow-bundle.js';

const sdkLevels: Record<Config['LOG_LEVEL'], LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
};

/** What the SDK says of a worker with activities only (@temporalio/worker's worker.js). */
const activitiesOnlyWarning = 'No workflows registered, not polling for workflow tasks';

/** The SDK's logs (workers, workflows, activities with their job's workflow id and attempt) go through our logger. */
function installRuntime(config: Config, logger: Logger): void {
  Runtime.install({
    logger: new DefaultLogger(sdkLevels[config.LOG_LEVEL], ({ level, message, meta }) => {
      // The job types' queues are meant to have activities only: the SDK's warning for each of them is no news.
      const method =
        message === activitiesOnlyWarning
          ? 'debug'
          : level === 'TRACE'
            ? 'trace'
            : level === 'DEBUG'
              ? 'debug'
              : level === 'INFO'
                ? 'info'
                : level === 'WARN'
                  ? 'warn'
                  : 'error';
      logger[method](meta ?? {}, message);
    }),
    // Stop signals are handled in run(): the process leaves the job type registry before its workers stop.
    shutdownSignals: [],
    telemetryOptions: config.WORKER_METRICS_PORT
      ? { metrics: { prometheus: { bindAddress: `${config.listenHost}:${config.WORKER_METRICS_PORT}` } } }
      : {},
  });
}

async function run(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('worker', config.LOG_LEVEL);
  installRuntime(config, logger);
  const isolation = await commandIsolationProblem();
  if (isolation) logger.warn({ problem: isolation }, 'commands are not isolated from each other or from this machine');
  const tracing = await startTracing('durable-jobs-worker');
  const jobMetrics = new JobMetrics();
  const metricsServer = config.WORKER_JOB_METRICS_PORT
    ? await jobMetrics.serve(config.WORKER_JOB_METRICS_PORT, config.listenHost)
    : undefined;
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const payloadCodecs = payloadCodecsFor(config);
  // On the workers' own connection: every attempt signals its start through this client, and the SDK's native
  // connection costs the process a fraction of the CPU of a second, JavaScript gRPC one (issue 25).
  const client = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverterFor(payloadCodecs),
    ...(tracing ? { interceptors: tracing.clientInterceptors } : {}),
  });
  const jobWorkers = await createJobWorkers({
    connection,
    client,
    payloadCodecs,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueuePrefix: config.JOBS_TASK_QUEUE_PREFIX,
    queues: config.WORKER_QUEUES,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    workflowBundle: prebuiltWorkflowBundle(config.WORKFLOW_BUNDLE_DIR, {
      encodeFailures: payloadCodecs.length > 0,
      traced: tracing !== undefined,
    }),
    settings: { commandsDir: config.JOBS_COMMANDS_DIR, commandSandbox: commandSandboxOf(config) },
    callbacks: callbackSettingsOf(config),
    logger: Runtime.instance().logger,
    ...(tracing ? { tracing } : {}),
    jobMetrics,
  });
  logger.info(
    {
      temporal: config.temporalAddress,
      namespace: config.TEMPORAL_NAMESPACE,
      queues: config.WORKER_QUEUES,
      metricsPort: config.WORKER_METRICS_PORT,
      jobMetricsPort: config.WORKER_JOB_METRICS_PORT,
      traces: tracing ? 'exported over OTLP/HTTP' : 'off',
    },
    'worker polling',
  );
  const stop = (): void => {
    logger.info('stopping: running attempts get the grace time to finish');
    void jobWorkers.shutdown();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await jobWorkers.run();
  } finally {
    await connection.close();
    await tracing?.shutdown();
    metricsServer?.close();
  }
}

run().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
