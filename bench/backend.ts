// The Temporal server the benchmark runs against: the dev server (SQLite in a file, as `npm start` runs it), or the
// local cluster (PostgreSQL and a multi-service Temporal server) in a directory of its own on free ports, as
// `npm run test:cluster` starts it.
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporalCli } from '../dev/temporal/binaries.js';
import { buildClusterBinaries, temporalServerModule } from '../dev/cluster/build.js';
import { LocalCluster } from '../dev/cluster/cluster.js';
import { pickClusterPorts } from '../dev/cluster/services.js';
import { startDevServer } from '../dev/temporal/dev-server.js';
import type { StackShape } from './options.js';
import { findChild, listeningPorts } from './proc.js';
import { findMetricsUrl } from './temporal-metrics.js';

export interface TemporalBackend {
  readonly address: string;
  readonly namespace: string;
  /** What it is, for the results (the server's own version is asked of it). */
  readonly description: string;
  /** Its processes now; what they started (PostgreSQL's connection processes) counts with them. */
  pids(): number[];
  /** Its Prometheus endpoint (the dev server's; the cluster's services each have their own and are not read). */
  readonly metricsUrl: string | undefined;
  /** Bytes its database takes on disk now (the dev server's SQLite file with its WAL); undefined for the cluster. */
  databaseBytes(): number | undefined;
  teardown(): Promise<void>;
}

const namespace = 'default';
/** Two history processes share the shards, as in the cluster test. */
const historyProcesses = 2;

/**
 * The dev server as `npm start` runs it: SQLite in a file (WAL, synchronous=NORMAL), so the database's size can be
 * read; in a directory of its own that goes with it, in memory (/dev/shm) where there is one, so that the disk of a
 * shared machine is not what the figures measure.
 */
async function startDevServerBackend(): Promise<TemporalBackend> {
  const dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'durable-jobs-bench-'));
  const dbFilename = join(dir, 'temporal.db');
  try {
    const server = await startDevServer({ namespace, dbFilename });
    const pid = findChild(process.pid, 'temporal');
    const metricsUrl = pid === undefined ? undefined : await findMetricsUrl('127.0.0.1', listeningPorts(pid));
    return {
      address: server.address,
      namespace,
      description: `Temporal CLI ${temporalCli.version} dev server, SQLite in a file (${dir})`,
      pids: () => (pid === undefined ? [] : [pid]),
      metricsUrl,
      databaseBytes: () =>
        ['', '-wal'].reduce(
          (sum, suffix) => sum + (statSync(dbFilename + suffix, { throwIfNoEntry: false })?.size ?? 0),
          0,
        ),
      teardown: async () => {
        await server.teardown();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function startClusterBackend(): Promise<TemporalBackend> {
  const dir = await mkdtemp(join(tmpdir(), 'durable-jobs-bench-'));
  try {
    // PostgreSQL runs as the `postgres` user when the bench runs as root: it must be able to reach its data directory.
    await chmod(dir, 0o755);
    const cluster = await LocalCluster.start({
      dir: join(dir, 'cluster'),
      binaries: await buildClusterBinaries(),
      ports: await pickClusterPorts(historyProcesses),
      namespace,
      log: () => undefined,
    });
    return {
      address: cluster.address,
      namespace,
      description: `temporal-server ${temporalServerModule.version} cluster on PostgreSQL (frontend, ${historyProcesses} history, matching, worker)`,
      pids: () => [cluster.postgres.pid, ...cluster.services.flatMap((service) => service.pid ?? [])],
      metricsUrl: undefined,
      databaseBytes: () => undefined,
      teardown: async () => {
        await cluster.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export function startTemporalBackend(kind: StackShape['temporal']): Promise<TemporalBackend> {
  return kind === 'cluster' ? startClusterBackend() : startDevServerBackend();
}
