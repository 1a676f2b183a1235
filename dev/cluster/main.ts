// `npm run cluster`: a real Temporal cluster on this machine until Ctrl-C. `-- --reset` starts from an empty
// database; `-- --build-only` only builds the server binaries into .cache/.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config.js';
import { projectRoot } from '../project-root.js';
import { historyShardCount, jobSearchAttributeTypes } from '../../src/temporal/server-settings.js';
import { buildClusterBinaries, temporalServerModule } from './build.js';
import { LocalCluster } from './cluster.js';
import { defaultClusterPorts } from './services.js';

const clusterDir = join(projectRoot, '.data', 'cluster');

async function run(): Promise<void> {
  const { values: flags } = parseArgs({
    options: { reset: { type: 'boolean', default: false }, 'build-only': { type: 'boolean', default: false } },
  });
  const config = loadConfig();
  const binaries = await buildClusterBinaries();
  if (flags['build-only']) {
    console.log(
      `temporal-server ${temporalServerModule.version}: ${binaries.server}\ntemporal-sql-tool: ${binaries.sqlTool}`,
    );
    return;
  }

  const cluster = await LocalCluster.start({
    dir: clusterDir,
    binaries,
    ports: defaultClusterPorts,
    namespace: config.TEMPORAL_NAMESPACE,
    retentionHours: config.JOB_RETENTION_HOURS,
    reset: flags.reset,
  });
  let stopping = false;
  const stop = async (exitCode: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await cluster.stop();
    process.exit(exitCode);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  for (const service of cluster.services) {
    void service.whenExited().then(async () => {
      if (stopping) return;
      console.error(
        `${service.name} exited on its own; stopping the cluster. Its log, ${service.logFile}, ends with:\n${await service.recentLog()}`,
      );
      await stop(1);
    });
  }

  const row = (name: string, address: string, pid: number | undefined): string =>
    `  ${name.padEnd(9)} ${address.padEnd(16)} pid ${pid}`;
  console.log(
    [
      '',
      `Temporal cluster is up (server ${temporalServerModule.version}, ${historyShardCount} history shards, data in ${clusterDir}):`,
      ...cluster.services.map((service) => row(service.name, `127.0.0.1:${service.grpcPort}`, service.pid)),
      row('postgres', `127.0.0.1:${cluster.postgres.port}`, cluster.postgres.pid),
      `  namespace ${config.TEMPORAL_NAMESPACE} (retention ${config.JOB_RETENTION_HOURS} h, JOB_RETENTION_HOURS), search attributes ${Object.keys(jobSearchAttributeTypes()).join(', ')}`,
      `Point the service at it: TEMPORAL_ADDRESS=${cluster.address} npm run worker (and npm run api).`,
      'Ctrl-C stops the cluster; the next run reuses its database (`npm run cluster -- --reset` empties it).',
      '',
    ].join('\n'),
  );
  // Child-process handles keep the event loop alive; the signal handlers above end the process.
}

run().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
