import { loadConfig } from '../config.js';
import { createLazyClient } from '../temporal/connection.js';
import { createApp } from './app.js';

async function run(): Promise<void> {
  const config = loadConfig();
  const client = createLazyClient(config.temporalAddress, config.TEMPORAL_NAMESPACE);
  const server = createApp({ client, config }).listen(config.PORT);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  console.log(`API listening on http://localhost:${config.PORT} (Temporal ${config.temporalAddress}, namespace ${config.TEMPORAL_NAMESPACE})`);

  const stop = (): void => {
    // Stop taking connections; the ones in flight finish, then the process exits on its own.
    server.close(() => void client.connection.close().finally(() => process.exit(0)));
    server.closeIdleConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

run().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
