// Registers the namespace (retention, search attributes from server-settings.ts) on the Temporal server at
// TEMPORAL_ADDRESS, then exits: the one-shot setup container of docker-compose.yml. `npm run cluster` does the same in-process.
import { Connection } from '@temporalio/client';
import { loadConfig } from '../config.js';
import { registerJobNamespace } from './namespace.js';

async function run(): Promise<void> {
  const config = loadConfig();
  const connection = await Connection.connect({ address: config.temporalAddress, connectTimeout: '120s' });
  try {
    await registerJobNamespace(connection, config.TEMPORAL_NAMESPACE, config.JOB_RETENTION_HOURS, 120_000);
    console.log(
      `namespace ${config.TEMPORAL_NAMESPACE} registered on ${config.temporalAddress} (retention ${config.JOB_RETENTION_HOURS} h)`,
    );
  } finally {
    await connection.close();
  }
}

run().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
