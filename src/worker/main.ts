import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config.js';
import { createLazyClient } from '../temporal/connection.js';
import { bundleJobWorkflows, createJobWorkers } from './workers.js';

async function run(): Promise<void> {
  const config = loadConfig();
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const client = createLazyClient(config.temporalAddress, config.TEMPORAL_NAMESPACE);
  const workers = await createJobWorkers({
    connection,
    client,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueuePrefix: config.JOBS_TASK_QUEUE_PREFIX,
    queues: config.WORKER_QUEUES,
    workflowBundle: await bundleJobWorkflows(),
    settings: { commandsDir: config.JOBS_COMMANDS_DIR },
  });
  const served = Object.entries(config.WORKER_QUEUES).map(([priority, slots]) => `${priority}:${slots}`).join(', ');
  console.log(`worker polling ${config.temporalAddress} (${config.TEMPORAL_NAMESPACE}), queues ${served}`);
  try {
    // The SDK shuts every worker down on SIGINT/SIGTERM, letting running attempts finish within the grace time.
    await Promise.all(workers.map((worker) => worker.run()));
  } finally {
    await connection.close();
    await client.connection.close();
  }
}

run().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
