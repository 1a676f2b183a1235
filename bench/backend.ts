// The Temporal server the benchmark runs against: the in-memory dev server, or the local cluster (PostgreSQL and a
// multi-service Temporal server) in a directory of its own on free ports, as `npm run test:cluster` starts it.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporalCli } from '../dev/temporal/binaries.js';
import { buildClusterBinaries, temporalServerModule } from '../dev/cluster/build.js';
import { LocalCluster } from '../dev/cluster/cluster.js';
import { pickClusterPorts } from '../dev/cluster/services.js';
import { startDevServer } from '../dev/temporal/dev-server.js';
import type { StackShape } from './options.js';
import { findChild } from './proc.js';

export interface TemporalBackend {
  readonly address: string;
  readonly namespace: string;
  /** What it is, for the results (the server's own version is asked of it). */
  readonly description: string;
  /** Its processes now; what they started (PostgreSQL's connection processes) counts with them. */
  pids(): number[];
  teardown(): Promise<void>;
}

const namespace = 'default';
/** Two history processes share the shards, as in the cluster test. */
const historyProcesses = 2;

async function startDevServerBackend(): Promise<TemporalBackend> {
  const server = await startDevServer({ namespace });
  const pid = findChild(process.pid, 'temporal');
  return {
    address: server.address,
    namespace,
    description: `Temporal CLI ${temporalCli.version} dev server, in memory`,
    pids: () => (pid === undefined ? [] : [pid]),
    teardown: () => server.teardown(),
  };
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
