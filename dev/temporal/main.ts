// `npm run temporal`: only the local dev server, until SIGINT/SIGTERM (exit 0) or until it dies (exit 1).
// `npm run temporal -- <args>`: the pinned Temporal CLI with those arguments, against the configured server.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { isRunning } from '../child-process.js';
import { portProblems, portsOf } from '../ports.mjs';
import { projectRoot } from '../project-root.js';
import { provisionBinary, temporalCli } from './binaries.js';
import { startLocalServer } from './local.js';

/**
 * Runs the pinned CLI (`temporal workflow list`, …) against the server `npm start` uses: TEMPORAL_ADDRESS, else the
 * local dev server's port; the configured namespace. The CLI reads both from the environment, so a flag given among
 * the arguments still wins. Exits with the CLI's exit code.
 */
async function runCli(config: Config, args: readonly string[]): Promise<never> {
  const cli = await provisionBinary(temporalCli);
  const child = spawn(cli, args, {
    stdio: 'inherit',
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS ?? `localhost:${config.TEMPORAL_DEV_PORT}`,
      TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
    },
  });
  // dev/run.mjs runs this process in a group of its own and sends a stop signal to it alone: pass it on.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
    child.once('error', fail);
    child.once('exit', (exitCode, exitSignal) => done([exitCode, exitSignal]));
  });
  process.exit(code ?? (signal ? 1 : 0));
}

async function run(): Promise<void> {
  const config = loadConfig();
  const cliArgs = process.argv.slice(2);
  if (cliArgs.length > 0) await runCli(config, cliArgs);
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
