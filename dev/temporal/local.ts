import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import type { Config } from '../../src/config.js';
import { codecEndpointPath } from '../../src/contract/codec.js';
import { registerJobNamespace } from '../../src/temporal/namespace.js';
import { projectRoot } from '../project-root.js';
import { spawnDevServer, type DevServerProcess } from './dev-server.js';

/**
 * The dev server of `npm start` and `npm run temporal`: fixed ports (the caller checked them free), persisted to a
 * SQLite file (.data/ by default). `npm start` runs it in a process group of its own, to stop it only after the worker
 * drained; `npm run temporal` in that process's group, which the tests kill whole as when a machine dies. Its namespace
 * gets the job search attributes and JOB_RETENTION_HOURS.
 */
export async function startLocalServer(
  config: Config,
  options: { ownProcessGroup: boolean },
): Promise<DevServerProcess> {
  const server = await spawnDevServer({
    ...options,
    port: config.TEMPORAL_DEV_PORT,
    uiPort: config.TEMPORAL_DEV_UI_PORT,
    dbFilename: resolve(projectRoot, config.TEMPORAL_DEV_DB_FILE),
    namespace: config.TEMPORAL_NAMESPACE,
    // The UI cannot send an API key: with keys on, its codec requests would all be refused.
    ...(config.apiKeys.length === 0 ? { uiCodecEndpoint: `http://localhost:${config.PORT}${codecEndpointPath}` } : {}),
  });
  try {
    // The dev server makes its namespace with 24 h of retention: JOB_RETENTION_HOURS replaces it, at every start.
    const connection = await Connection.connect({ address: server.address });
    try {
      await registerJobNamespace(connection, config.TEMPORAL_NAMESPACE, config.JOB_RETENTION_HOURS);
    } finally {
      await connection.close();
    }
    return server;
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/**
 * The PAYLOAD_ENCRYPTION_KEY `npm start` gives the API and the worker: the configured one, else a key made
 * once beside the dev server's data (`payload-key`, mode 0600) and kept, so what is stored stays readable.
 */
export async function payloadKeyFor(config: Config): Promise<string> {
  if (config.PAYLOAD_ENCRYPTION_KEY) return config.PAYLOAD_ENCRYPTION_KEY.toString('base64');
  return keptKey(config, 'payload-key');
}

/**
 * The JOBS_CURSOR_KEY `npm start` gives the API: the configured one, else a key made once beside the dev server's
 * data (`cursor-key`, mode 0600) and kept, so a list's cursors outlive a restart.
 */
export async function cursorKeyFor(config: Config): Promise<string> {
  if (config.JOBS_CURSOR_KEY) return config.JOBS_CURSOR_KEY.toString('base64');
  return keptKey(config, 'cursor-key');
}

/** A key of 32 random bytes (base64) in `name` beside the dev server's data, made the first time it is asked for. */
async function keptKey(config: Config, name: string): Promise<string> {
  const path = resolve(projectRoot, dirname(config.TEMPORAL_DEV_DB_FILE), name);
  await mkdir(dirname(path), { recursive: true });
  // `wx`: never overwrite a key, which would leave every stored payload unreadable.
  await writeFile(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' }).catch(
    (err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    },
  );
  return (await readFile(path, 'utf8')).trim();
}
