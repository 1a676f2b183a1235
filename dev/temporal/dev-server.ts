import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { isRunning, stopChild } from '../child-process.js';
import { listensOn } from '../ports.mjs';
import { spawnTied } from '../spawn-tied.mjs';
import { jobSearchAttributeKeys } from '../../src/workflows/search-attributes.js';
import { executableFor, provisionBinary, temporalCli, temporalTestServer } from './binaries.js';
import { jobSearchAttributeTypes, serverDynamicConfig } from '../../src/temporal/server-settings.js';

/** SQLite in WAL mode with synchronous=NORMAL: the default file mode is an order of magnitude slower. */
const sqlitePragmas = ['journal_mode=wal', 'synchronous=normal'];

export interface DevServerOptions {
  readonly port?: number;
  /** Serves the Web UI on this port when set. */
  readonly uiPort?: number;
  /** Persists to this SQLite file when set; in memory otherwise. */
  readonly dbFilename?: string;
  readonly namespace?: string;
  /** The Web UI decodes payloads through this remote codec (the API's /api/v1/codec). */
  readonly uiCodecEndpoint?: string;
}

function devServerArgs(options: DevServerOptions): string[] {
  const args = Object.entries(serverDynamicConfig).flatMap(([key, value]) => [
    '--dynamic-config-value',
    `${key}=${JSON.stringify(value)}`,
  ]);
  if (options.dbFilename) args.push(...sqlitePragmas.flatMap((pragma) => ['--sqlite-pragma', pragma]));
  if (options.uiPort !== undefined) args.push('--ui-disable-news-fetch');
  if (options.uiCodecEndpoint !== undefined) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  return args;
}

/** The Temporal CLI dev server with the job search attributes registered, plus a client and connections to it. */
export async function startDevServer(options: DevServerOptions = {}): Promise<TestWorkflowEnvironment> {
  if (options.dbFilename) await mkdir(dirname(options.dbFilename), { recursive: true });
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: await executableFor(temporalCli),
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.uiPort !== undefined ? { ui: true, uiPort: options.uiPort } : {}),
      ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}),
      namespace: options.namespace ?? 'default',
      searchAttributes: jobSearchAttributeKeys,
      extraArgs: devServerArgs(options),
    },
  });
}

/** Thrown by spawnDevServer when the dev server exits, or does not answer, before it is ready. */
export class DevServerNotReadyError extends Error {
  override readonly name = 'DevServerNotReadyError';
}

/** The dev server as a child process of this one (spawnDevServer). */
export interface DevServerProcess {
  /** Where it answers gRPC: `127.0.0.1:<port>`. */
  readonly address: string;
  readonly process: ChildProcess;
  /** SIGTERM, then SIGKILL after 10 s; resolves once it exited. */
  stop(): Promise<void>;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether the server at `address` answers for `namespace`. */
async function answers(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 }).catch(() => undefined);
  if (!connection) return false;
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await connection.close();
  }
}

/**
 * The dev server's database holds every tenant's job ids, types, tags and statuses in clear (inputs and results are
 * encrypted): only its owner may read it, not a command job running as another user, which could otherwise be told
 * to read it by path. A directory made for it is its owner's; a database left by an older version is made so too.
 */
async function keepPrivate(dbFilename: string): Promise<void> {
  await mkdir(dirname(dbFilename), { recursive: true, mode: 0o700 });
  for (const path of [dbFilename, `${dbFilename}-wal`, `${dbFilename}-shm`])
    await chmod(path, 0o600).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    });
}

/**
 * The Temporal CLI dev server of `npm start` and `npm run temporal`, spawned by this process (not the SDK's, as
 * startDevServer does): it is a child this process sees exit, that dies with it (spawnTied), and that stops with
 * SIGTERM; the SDK takes any server answering on its port for the one it started and can only SIGKILL it.
 */
export async function spawnDevServer(
  options: DevServerOptions & {
    readonly port: number;
    readonly namespace: string;
    /** In a process group of its own, so a signal to this process's group does not reach it past this process. */
    readonly ownProcessGroup?: boolean;
  },
): Promise<DevServerProcess> {
  if (options.dbFilename) await keepPrivate(options.dbFilename);
  const address = `127.0.0.1:${options.port}`;
  const args = [
    'server',
    'start-dev',
    ...['--ip', '127.0.0.1', '--port', String(options.port), '--namespace', options.namespace],
    ...['--log-format', 'pretty', '--log-level', 'error'],
    ...['--dynamic-config-value', 'frontend.enableServerVersionCheck=false'],
    ...jobSearchAttributeKeys.flatMap(({ name, type }) => [
      '--search-attribute',
      `${name}=${TypedSearchAttributes.toMetadataType(type)}`,
    ]),
    ...(options.dbFilename ? ['--db-filename', options.dbFilename] : []),
    ...(options.uiPort !== undefined ? ['--ui-port', String(options.uiPort)] : ['--headless']),
    ...devServerArgs(options),
  ];
  const executable = await provisionBinary(temporalCli);
  // What the server creates (the database, then its -wal and -shm, which SQLite gives the database's mode) is its
  // owner's alone: the umask is inherited at the spawn.
  const umask = process.umask(0o077);
  let child: ChildProcess;
  try {
    child = spawnTied(executable, args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: options.ownProcessGroup ?? false,
    });
  } finally {
    process.umask(umask);
  }
  const server: DevServerProcess = {
    address,
    process: child,
    stop: () => stopChild(child, { signal: 'SIGTERM', killAfterMs: 10_000 }),
  };
  // Ready once it answers and holds the port itself (not another server on the same port), or where /proc cannot
  // tell, once it answers and still runs.
  const isOurs = (): boolean => listensOn(child.pid!, options.port) ?? isRunning(child);
  const deadline = Date.now() + 30_000;
  while (!((await answers(address, options.namespace)) && isOurs())) {
    if (!isRunning(child))
      throw new DevServerNotReadyError(
        `the Temporal dev server exited (${child.signalCode ?? child.exitCode}) before it was ready`,
      );
    if (Date.now() > deadline) {
      await server.stop();
      throw new DevServerNotReadyError(`the Temporal dev server did not answer on ${address} within 30 s`);
    }
    await delay(200);
  }
  return server;
}

/** The native time-skipping test server, with the job search attributes registered (it takes no flag for them). */
export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: await executableFor(temporalTestServer) },
  });
  try {
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: jobSearchAttributeTypes(),
    });
    return env;
  } catch (err) {
    await env.teardown();
    throw err;
  }
}
