import { loadConfig } from '../config.js';
import { localDbFile, localServerPort, localUiPort, startLocalServer } from './local.js';

async function run(): Promise<void> {
  const config = loadConfig();
  const server = await startLocalServer(config.TEMPORAL_NAMESPACE);
  console.log(`Temporal dev server on localhost:${localServerPort}, Web UI on http://localhost:${localUiPort}, data in ${localDbFile}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.teardown();
}

run().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
