import { resolve } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { projectRoot } from '../project-root.js';
import { startLocalServer } from './local.js';

async function run(): Promise<void> {
  const config = loadConfig();
  const server = await startLocalServer(config);
  console.log(
    `Temporal dev server on localhost:${config.TEMPORAL_DEV_PORT}, Web UI on http://localhost:${config.TEMPORAL_DEV_UI_PORT}, ` +
      `data in ${resolve(projectRoot, config.TEMPORAL_DEV_DB_FILE)}`,
  );
  // Neither the native server handle nor signal listeners keep Node's event loop alive: without this
  // timer the process would exit, taking the server with it, right after printing the line above.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  clearInterval(keepAlive);
  await server.teardown();
}

run().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
