import { resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Config } from '../config.js';
import { projectRoot } from './binaries.js';
import { startDevServer } from './dev-server.js';

/** The dev server of `npm start` and `npm run temporal`: fixed ports, persisted to a SQLite file (.data/ by default). */
export function startLocalServer(config: Config): Promise<TestWorkflowEnvironment> {
  return startDevServer({
    port: config.TEMPORAL_DEV_PORT,
    uiPort: config.TEMPORAL_DEV_UI_PORT,
    dbFilename: resolve(projectRoot, config.TEMPORAL_DEV_DB_FILE),
    namespace: config.TEMPORAL_NAMESPACE,
  });
}
