import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { projectRoot } from './binaries.js';
import { startDevServer } from './dev-server.js';

export const localServerPort = 7233;
export const localUiPort = 8233;
export const localDbFile = join(projectRoot, '.data', 'temporal.sqlite');

/** The dev server of `npm start` and `npm run temporal`: fixed ports, persisted under .data/. */
export function startLocalServer(namespace: string): Promise<TestWorkflowEnvironment> {
  return startDevServer({ port: localServerPort, uiPort: localUiPort, dbFilename: localDbFile, namespace });
}
