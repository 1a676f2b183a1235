import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { jobSearchAttributeKeys } from '../../src/workflows/search-attributes.js';
import { executableFor, temporalCli, temporalTestServer } from './binaries.js';
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
