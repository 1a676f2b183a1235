// `npm run temporal`: only the local dev server, until SIGINT/SIGTERM (exit 0) or until it dies (exit 1).
import { resolve } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { isRunning } from '../child-process.js';
import { portProblems, portsOf } from '../ports.mjs';
import { projectRoot } from '../project-root.js';
import { startLocalServer } from './local.js';

async function run(): Promise<void> {
  const config = loadConfig();
  const problems = await portProblems(portsOf(config, ['temporal']));
  if (problems.length > 0) {
    for (const problem of problems) console.error(problem);
    process.exit(1);
  }
  const server = await startLocalServer(config, { ownProcessGroup: false });
  console.log(
    `Temporal dev server on localhost:${config.TEMPORAL_DEV_PORT}, Web UI on http://localhost:${config.TEMPORAL_DEV_UI_PORT}, ` +
      `data in ${resolve(projectRoot, config.TEMPORAL_DEV_DB_FILE)}`,
  );
  const stopped = await new Promise<NodeJS.Signals | 'died'>((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
    server.process.once('exit', () => done('died'));
    if (!isRunning(server.process)) done('died');
  });
  if (stopped === 'died') {
    const { exitCode, signalCode } = server.process;
    console.error(`the Temporal dev server exited (${signalCode ?? exitCode})`);
    process.exit(1);
  }
  await server.stop();
}

run().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
