import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { open, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { historyShardCount } from '../../src/temporal/server-settings.js';
import { isRunning, signalChild, stopChild } from '../child-process.js';
import { freePort, isPortFree } from '../free-port.js';
import { postgresRole } from './postgres.js';

export type ServiceName = 'frontend' | 'history' | 'matching' | 'worker';

export interface ServicePorts {
  readonly grpc: number;
  /** Ringpop's port; must be ≤ 32767, as the membership table keeps it in a SMALLINT. */
  readonly membership: number;
}

/** Every port of the cluster. `history` has one entry per history process: they share the shards. */
export interface ClusterPorts {
  readonly postgres: number;
  readonly frontend: ServicePorts & { readonly http: number };
  readonly history: readonly ServicePorts[];
  readonly matching: ServicePorts;
  readonly worker: ServicePorts;
}

/** The ports of `npm run cluster`: the server's own defaults, so tools that assume them just work. */
export const defaultClusterPorts: ClusterPorts = {
  postgres: 15432,
  frontend: { grpc: 7233, membership: 6933, http: 7243 },
  history: [{ grpc: 7234, membership: 6934 }],
  matching: { grpc: 7235, membership: 6935 },
  worker: { grpc: 7239, membership: 6939 },
};

/** Free ports (freePort's: below the kernel's ephemeral range), for clusters beside anything else on the machine. */
export async function pickClusterPorts(historyProcesses: number): Promise<ClusterPorts> {
  const service = async (): Promise<ServicePorts> => ({ grpc: await freePort(), membership: await freePort() });
  const history: ServicePorts[] = [];
  for (let i = 0; i < historyProcesses; i++) history.push(await service());
  return {
    postgres: await freePort(),
    frontend: { ...(await service()), http: await freePort() },
    history,
    matching: await service(),
    worker: await service(),
  };
}

/**
 * The server config of one process, adapted from the module's config/development-postgres12.yaml:
 * the other services' sections are the same in every file, only this process's own ports differ
 * (a second history process). No archival, metrics or pprof listeners: they would collide between
 * processes on one machine.
 */
function serverConfigYaml(
  ports: ClusterPorts,
  own: { service: ServiceName; ports: ServicePorts },
  dynamicConfigFile: string,
): string {
  const rpc = (service: ServiceName, p: ServicePorts & { http?: number }): string => {
    const mine = service === own.service ? own.ports : p;
    return [
      `  ${service}:`,
      '    rpc:',
      `      grpcPort: ${mine.grpc}`,
      `      membershipPort: ${mine.membership}`,
      '      bindOnLocalHost: true',
      ...(p.http !== undefined ? [`      httpPort: ${p.http}`] : []),
    ].join('\n');
  };
  const datastore = (name: string, database: string, maxConns: number): string =>
    [
      `    ${name}:`,
      '      sql:',
      '        pluginName: "postgres12"',
      `        databaseName: "${database}"`,
      `        connectAddr: "127.0.0.1:${ports.postgres}"`,
      '        connectProtocol: "tcp"',
      `        user: "${postgresRole.user}"`,
      `        password: "${postgresRole.password}"`,
      `        maxConns: ${maxConns}`,
      `        maxIdleConns: ${maxConns}`,
      '        maxConnLifetime: "1h"',
    ].join('\n');
  return [
    'log:',
    '  stdout: true',
    '  level: warn',
    'persistence:',
    '  defaultStore: postgres-default',
    '  visibilityStore: postgres-visibility',
    `  numHistoryShards: ${historyShardCount}`,
    '  datastores:',
    datastore('postgres-default', 'temporal', 20),
    datastore('postgres-visibility', 'temporal_visibility', 5),
    'global:',
    '  membership:',
    '    maxJoinDuration: 30s',
    '    broadcastAddress: "127.0.0.1"',
    'services:',
    rpc('frontend', ports.frontend),
    rpc('history', ports.history[0]!),
    rpc('matching', ports.matching),
    rpc('worker', ports.worker),
    'clusterMetadata:',
    '  enableGlobalNamespace: false',
    '  failoverVersionIncrement: 10',
    '  masterClusterName: "active"',
    '  currentClusterName: "active"',
    '  clusterInformation:',
    '    active:',
    '      enabled: true',
    '      initialFailoverVersion: 1',
    '      rpcName: "frontend"',
    `      rpcAddress: "127.0.0.1:${ports.frontend.grpc}"`,
    'dcRedirectionPolicy:',
    '  policy: "noop"',
    'publicClient:',
    `  hostPort: "127.0.0.1:${ports.frontend.grpc}"`,
    'dynamicConfigClient:',
    `  filepath: "${dynamicConfigFile}"`,
    '  pollInterval: "10s"',
    '',
  ].join('\n');
}

/** Thrown when a service process exits, or does not open its port, while it is being started. */
export class ServiceStartFailedError extends Error {
  override readonly name = 'ServiceStartFailedError';
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface ServiceProcessOptions {
  /** `history-2` for a second history process; the service name otherwise. */
  readonly name: string;
  readonly service: ServiceName;
  readonly ports: ServicePorts;
  readonly serverBinary: string;
  readonly clusterPorts: ClusterPorts;
  /** Where its config file and log go. */
  readonly dir: string;
  readonly dynamicConfigFile: string;
}

/** One Temporal service as a process of its own; it can be stopped, killed and started again on the same ports. */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  readonly configFile: string;
  readonly logFile: string;

  constructor(private readonly options: ServiceProcessOptions) {
    this.configFile = join(options.dir, `${options.name}.yaml`);
    this.logFile = join(options.dir, 'logs', `${options.name}.log`);
  }

  get name(): string {
    return this.options.name;
  }

  get grpcPort(): number {
    return this.options.ports.grpc;
  }

  get pid(): number | undefined {
    return this.isRunning ? this.child?.pid : undefined;
  }

  get isRunning(): boolean {
    return this.child !== undefined && isRunning(this.child);
  }

  /** Resolves when the running process exits, whatever the reason. */
  whenExited(): Promise<void> {
    return this.exited;
  }

  /** Starts the process and resolves once its gRPC port accepts connections. */
  async start(): Promise<void> {
    if (this.isRunning) return;
    const { serverBinary, clusterPorts, service, ports, dynamicConfigFile } = this.options;
    // Else the readiness check below would take another server on the port (a dev server on 7233) for this one.
    for (const port of [ports.grpc, ports.membership]) {
      if (!(await isPortFree(port)))
        throw new ServiceStartFailedError(
          `${this.name}: port ${port} is already in use (is \`npm start\` or another cluster running?)`,
        );
    }
    await writeFile(this.configFile, serverConfigYaml(clusterPorts, { service, ports }, dynamicConfigFile));
    const log = await open(this.logFile, 'a');
    const child = spawn(
      serverBinary,
      ['--config-file', this.configFile, '--allow-no-auth', 'start', '--service', service],
      {
        cwd: this.options.dir,
        stdio: ['ignore', log.fd, log.fd],
      },
    );
    await log.close();
    this.child = child;
    this.exited = once(child, 'exit').then(() => undefined);
    const deadline = Date.now() + 60_000;
    while (!(await portAnswers(ports.grpc))) {
      if (!this.isRunning)
        throw new ServiceStartFailedError(
          `${this.name} exited at start (${child.exitCode ?? child.signalCode}):\n${await this.recentLog()}`,
        );
      if (Date.now() > deadline)
        throw new ServiceStartFailedError(
          `${this.name} did not open port ${ports.grpc} within 60 s:\n${await this.recentLog()}`,
        );
      await delay(100);
    }
  }

  /** SIGTERM lets the service hand its shards or task queues over; SIGKILL is a crash. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM', timeoutMs = 20_000): Promise<void> {
    if (this.child) await stopChild(this.child, { signal, killAfterMs: timeoutMs });
  }

  /** Last resort when the launcher itself is exiting: nothing else can be awaited any more. */
  killNow(): void {
    if (this.child) signalChild(this.child, 'SIGKILL');
  }

  async recentLog(lines = 15): Promise<string> {
    return (await readFile(this.logFile, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-lines).join('\n');
  }
}
