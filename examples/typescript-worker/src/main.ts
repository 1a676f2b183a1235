// The worker entry: connects, serves, and stops on SIGTERM/SIGINT (runWorker handles both).
import { existsSync, readFileSync } from 'node:fs';
import { runWorker } from '@durable-jobs/worker';
import { checkUrl } from './check-url.js';
import { primes } from './primes.js';

/**
 * The service's payload key: PAYLOAD_ENCRYPTION_KEY when set, else the one `npm start` at the repository's root
 * keeps beside its data, so that this worker reads and writes what the local service does.
 */
function payloadKey(): string | undefined {
  if (process.env['PAYLOAD_ENCRYPTION_KEY']) return process.env['PAYLOAD_ENCRYPTION_KEY'];
  const local = new URL('../../../.data/payload-key', import.meta.url);
  return existsSync(local) ? readFileSync(local, 'utf8').trim() : undefined;
}

async function run(): Promise<void> {
  const key = payloadKey();
  await runWorker({
    jobTypes: [primes, checkUrl],
    temporal: {
      address: process.env['TEMPORAL_ADDRESS'] ?? 'localhost:7233',
      namespace: process.env['TEMPORAL_NAMESPACE'] ?? 'default',
    },
    taskQueuePrefix: process.env['JOBS_TASK_QUEUE_PREFIX'] ?? 'jobs',
    queues: { high: 2, normal: 4, low: 1 },
    ...(key ? { payloadEncryptionKey: key } : {}),
  });
}

run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
