import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFile, chmod, chown, mkdir, open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isRunning, signalChild, stopChild } from '../child-process.js';
import { isPortFree } from '../free-port.js';

const run = promisify(execFile);
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The role Temporal connects as; the server trusts loopback connections, so its password is not checked. */
export const postgresRole = { user: 'temporal', password: 'temporal' } as const;

/** Thrown by LocalPostgres.start when PostgreSQL cannot be installed, initialised or started; the message says why. */
export class PostgresStartFailedError extends Error {
  override readonly name = 'PostgresStartFailedError';
}

/**
 * Settings appended to postgresql.conf at initdb: loopback TCP only (no Unix socket in a shared
 * directory), and connections for five Temporal processes' pools.
 */
const serverSettings = ["listen_addresses = '127.0.0.1'", "unix_socket_directories = ''", 'max_connections = 300'];

const debianPostgresRoot = '/usr/lib/postgresql';

async function installedBinDir(): Promise<string | undefined> {
  const versions = await readdir(debianPostgresRoot).catch(() => [] as string[]);
  const sorted = versions.filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
  for (const version of sorted) {
    const bin = join(debianPostgresRoot, version, 'bin');
    if (
      await stat(join(bin, 'postgres')).then(
        () => true,
        () => false,
      )
    )
      return bin;
  }
  return undefined;
}

/** Debian's PostgreSQL server binaries, installed with apt-get when missing (root only). */
async function postgresBinDir(log: (line: string) => void): Promise<string> {
  const found = await installedBinDir();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new PostgresStartFailedError(
      'PostgreSQL is not installed; run `sudo apt-get install -y postgresql` and try again',
    );
  }
  log('installing PostgreSQL (apt-get install postgresql)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = (): Promise<unknown> =>
    run('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], { env, maxBuffer: 64 * 1024 * 1024 });
  // A fresh machine has no package lists yet: update only when the first try needs it.
  await install().catch(async () => {
    await run('apt-get', ['update'], { env, maxBuffer: 64 * 1024 * 1024 });
    await install();
  });
  const installed = await installedBinDir();
  if (!installed)
    throw new PostgresStartFailedError(
      `apt-get installed postgresql but no server binary is under ${debianPostgresRoot}`,
    );
  return installed;
}

/** PostgreSQL refuses to run as root: as root, its processes run as Debian's `postgres` user. */
async function serverIdentity(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((entry) => entry.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined)
    throw new PostgresStartFailedError('running as root, but there is no `postgres` user to run PostgreSQL as');
  return { uid: Number(uid), gid: Number(gid) };
}

export interface PostgresOptions {
  /** The server's data directory; created (initdb) when it holds no database yet. */
  readonly dataDir: string;
  readonly port: number;
  readonly logFile: string;
  readonly log?: (line: string) => void;
}

/** A PostgreSQL server of its own on a loopback port, as a child process of this one. */
export class LocalPostgres {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    /** True when this start created the database directory (so the schemas must be set up). */
    readonly created: boolean,
  ) {}

  static async start(options: PostgresOptions): Promise<LocalPostgres> {
    const log = options.log ?? console.log;
    // Else the readiness check would take another server on the port for this one.
    if (!(await isPortFree(options.port)))
      throw new PostgresStartFailedError(`port ${options.port} is already in use (is another cluster running?)`);
    const bin = await postgresBinDir(log);
    const identity = await serverIdentity();
    const asServer = identity ? { uid: identity.uid, gid: identity.gid } : {};
    const created = !(await stat(join(options.dataDir, 'PG_VERSION')).then(
      () => true,
      () => false,
    ));
    if (created) {
      await mkdir(options.dataDir, { recursive: true });
      if (identity) await chown(options.dataDir, identity.uid, identity.gid);
      await chmod(options.dataDir, 0o700);
      await run(
        join(bin, 'initdb'),
        ['-D', options.dataDir, '-U', postgresRole.user, '--auth=trust', '--encoding=UTF8', '--no-locale'],
        asServer,
      ).catch((err: unknown) => {
        const failure = err as Error & { stderr?: string };
        throw new PostgresStartFailedError(`initdb failed: ${failure.stderr ?? failure.message}`);
      });
      await appendFile(join(options.dataDir, 'postgresql.conf'), `\n${serverSettings.join('\n')}\n`);
    }
    const logFile = await open(options.logFile, 'a');
    const child = spawn(join(bin, 'postgres'), ['-D', options.dataDir, '-p', String(options.port)], {
      ...asServer,
      stdio: ['ignore', logFile.fd, logFile.fd],
    });
    await logFile.close();
    const server = new LocalPostgres(child, options.port, created);
    await server.waitUntilReady(join(bin, 'pg_isready'), options.logFile);
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  private async waitUntilReady(pgIsReady: string, logFile: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!isRunning(this.child)) {
        const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-8).join('\n');
        throw new PostgresStartFailedError(
          `PostgreSQL exited at start (is another one running on the same data directory?):\n${tail}`,
        );
      }
      const ready = await run(pgIsReady, ['-q', '-h', '127.0.0.1', '-p', String(this.port)]).then(
        () => true,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline)
        throw new PostgresStartFailedError(`PostgreSQL did not accept connections on port ${this.port} within 30 s`);
      await delay(200);
    }
  }

  /** Fast shutdown (SIGINT): open transactions are rolled back, committed data is safe. */
  stop(): Promise<void> {
    return stopChild(this.child, { signal: 'SIGINT', killAfterMs: 20_000 });
  }

  /** Last resort when the launcher itself is exiting: nothing else can be awaited any more. */
  killNow(): void {
    signalChild(this.child, 'SIGQUIT');
  }
}
