import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import proto from '@temporalio/proto';
import { dynamicConfigYaml } from '../../src/temporal/server-settings.js';
import type { ClusterBinaries } from './build.js';
import { defaultJobRetentionHours } from '../../src/config.js';
import { registerJobNamespace } from '../../src/temporal/namespace.js';
import { LocalPostgres, postgresRole } from './postgres.js';
import { setUpSchemas } from '../../src/temporal/schema.js';
import { ServiceProcess, type ClusterPorts } from './services.js';

// A CommonJS package whose exports Node's ESM loader cannot see by name.
const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

export interface ClusterOptions {
  /** Everything of the cluster lives here: PostgreSQL's data, the config files, the logs. */
  readonly dir: string;
  readonly binaries: ClusterBinaries;
  readonly ports: ClusterPorts;
  readonly namespace: string;
  /** The namespace's retention (JOB_RETENTION_HOURS); its default when left out. */
  readonly retentionHours?: number;
  /** Deletes `dir` first, so the cluster starts from an empty database. */
  readonly reset?: boolean;
  readonly log?: (line: string) => void;
}

/** Thrown by LocalCluster.start when the services did not all answer in time. */
export class ClusterNotReadyError extends Error {
  override readonly name = 'ClusterNotReadyError';
}

const grpcNotFound = 5;
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A real Temporal cluster on this machine: PostgreSQL, then the frontend, history (one or more
 * processes sharing the shards), matching and worker services as separate processes.
 */
export class LocalCluster {
  private readonly killOnExit = (): void => {
    for (const service of this.services) service.killNow();
    this.postgres.killNow();
  };

  private constructor(
    readonly postgres: LocalPostgres,
    readonly services: readonly ServiceProcess[],
    readonly ports: ClusterPorts,
    /** The client connection used to provision the namespace; closed by `stop()`. */
    readonly connection: Connection,
  ) {
    // A last resort when the process ends without stop() (an uncaught error): no orphaned servers.
    process.once('exit', this.killOnExit);
  }

  static async start(options: ClusterOptions): Promise<LocalCluster> {
    const { dir, binaries, ports } = options;
    const log = options.log ?? console.log;
    if (options.reset) await rm(dir, { recursive: true, force: true });
    await mkdir(join(dir, 'logs'), { recursive: true });
    const dynamicConfigFile = join(dir, 'dynamicconfig.yaml');
    await writeFile(dynamicConfigFile, dynamicConfigYaml());

    const postgres = await LocalPostgres.start({
      dataDir: join(dir, 'postgres'),
      port: ports.postgres,
      logFile: join(dir, 'logs', 'postgres.log'),
      log,
    });
    const services = [
      { name: 'frontend', service: 'frontend' as const, ports: ports.frontend },
      ...ports.history.map((historyPorts, i) => ({
        name: i === 0 ? 'history' : `history-${i + 1}`,
        service: 'history' as const,
        ports: historyPorts,
      })),
      { name: 'matching', service: 'matching' as const, ports: ports.matching },
      { name: 'worker', service: 'worker' as const, ports: ports.worker },
    ].map(
      (spec) =>
        new ServiceProcess({ ...spec, serverBinary: binaries.server, clusterPorts: ports, dir, dynamicConfigFile }),
    );
    let connection: Connection | undefined;
    const stopStarted = async (): Promise<void> => {
      await Promise.all(services.map((service) => service.stop('SIGKILL')));
      await postgres.stop();
    };
    try {
      log(postgres.created ? 'creating the temporal and temporal_visibility databases…' : 'reusing the database…');
      await setUpSchemas(binaries.sqlTool, { host: '127.0.0.1', port: ports.postgres, ...postgresRole });

      // On a fresh database the first service to start writes the cluster metadata; several at once race on it.
      const [first, ...rest] = services;
      await first!.start();
      await Promise.all(rest.map((service) => service.start()));
      connection = await Connection.connect({ address: `127.0.0.1:${ports.frontend.grpc}`, connectTimeout: '60s' });
      await registerJobNamespace(connection, options.namespace, options.retentionHours ?? defaultJobRetentionHours);
      await waitUntilServing(connection, options.namespace);
      return new LocalCluster(postgres, services, ports, connection);
    } catch (err) {
      await connection?.close();
      await stopStarted();
      throw err;
    }
  }

  /** The frontend's `host:port`, for TEMPORAL_ADDRESS. */
  get address(): string {
    return `127.0.0.1:${this.ports.frontend.grpc}`;
  }

  /** The process named `name`: `frontend`, `history`, `history-2`, `matching` or `worker`. */
  service(name: string): ServiceProcess {
    const found = this.services.find((service) => service.name === name);
    if (!found) throw new Error(`the cluster has no service process named ${name}`);
    return found;
  }

  /** Stops every service (SIGTERM, at once), then PostgreSQL; each on its own so one failure does not skip the rest. */
  async stop(): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    const steps = [
      () => this.connection.close(),
      () => Promise.all(this.services.map((service) => service.stop('SIGTERM'))),
      () => this.postgres.stop(),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        console.error('stopping the cluster:', err);
      }
    }
  }
}

/**
 * Resolves once history owns every shard and matching answers: describing workflows that do not exist
 * goes to history (NOT_FOUND once a host owns the id's shard), describing a task queue to matching.
 */
async function waitUntilServing(connection: Connection, namespace: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      await Promise.all(
        Array.from({ length: 16 }, () =>
          connection.workflowService
            .describeWorkflowExecution({ namespace, execution: { workflowId: `readiness-probe-${randomUUID()}` } })
            .then(
              () => undefined,
              (err: unknown) => {
                if (!(isGrpcServiceError(err) && (err.code as number) === grpcNotFound)) throw err;
              },
            ),
        ),
      );
      await connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: 'readiness-probe', kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      return;
    } catch (err) {
      lastError = err;
      await delay(250);
    }
  }
  throw new ClusterNotReadyError(
    `the cluster did not serve within ${timeoutMs / 1000} s: ${(lastError as Error | undefined)?.message}`,
    { cause: lastError },
  );
}
