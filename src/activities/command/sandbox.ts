import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Config } from '../../config.js';
import { UnrecoverableError } from '@durable-jobs/worker';
import { CommandExitedError } from './exited-error.js';

/** The environment every command gets, before the request's own `env`: nothing of the worker's leaks. */
export const baseCommandEnv: Readonly<Record<string, string>> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  LANG: 'C.UTF-8',
};
/** RLIMIT_CPU's soft limit sends SIGXCPU (a clear cause); the hard one, this much later, SIGKILL. */
const cpuKillAfterSeconds = 5;

/** How commands are confined on Linux: JOBS_COMMAND_*. */
export interface CommandSandbox {
  /** The user (and its group) commands run as when the worker runs as root. */
  readonly user: string;
  /** RLIMIT_CPU of each process. */
  readonly cpuSeconds: number;
  /** RLIMIT_AS (address space) of each process. */
  readonly memoryBytes: number;
  /** RLIMIT_NPROC: counts every process and thread of the user, so it is set only when commands run as their own user. */
  readonly maxProcesses: number;
  /** RLIMIT_NOFILE of each process. */
  readonly maxOpenFiles: number;
  /** `none`: a network namespace of the attempt's own (only a down loopback); `host`: the worker's. */
  readonly network: 'none' | 'host';
  /** When set, each attempt runs as a uid (and gid) of its own from this range instead of `user`. */
  readonly uids?: { readonly first: number; readonly last: number } | undefined;
  /** Size of each attempt's private /tmp. */
  readonly tmpBytes: number;
}

export function commandSandboxOf(config: Config): CommandSandbox {
  return {
    user: config.JOBS_COMMAND_USER,
    cpuSeconds: config.JOBS_COMMAND_CPU_SECONDS,
    memoryBytes: config.JOBS_COMMAND_MEMORY_BYTES,
    maxProcesses: config.JOBS_COMMAND_MAX_PROCESSES,
    maxOpenFiles: config.JOBS_COMMAND_MAX_OPEN_FILES,
    network: config.JOBS_COMMAND_NETWORK,
    uids: config.JOBS_COMMAND_UIDS,
    tmpBytes: config.JOBS_COMMAND_TMP_BYTES,
  };
}

/**
 * The command's parent, run by /bin/sh in the command's process group. The worker's death sends it SIGUSR1
 * (setpriv --pdeathsig), and it kills the whole group; `$1` is the worker's pid, so a worker that died before
 * the death signal was armed is seen too. A SIGTERM to the group reaches the command while this keeps
 * waiting for it, and it exits with the command's status (128 + n when signal n killed it).
 */
const supervisorScript = `trap 'kill -KILL 0' USR1
[ "$PPID" = "$1" ] || exit 125
shift
trap : TERM
"$@" &
wait "$!"
status=$?
while kill -0 "$!" 2>/dev/null; do wait "$!"; status=$?; done
exit "$status"`;
/**
 * Run by root as the first process of the attempt's namespaces, before the privilege drop: one size-limited
 * tmpfs of the attempt's own on /tmp, also seen at /var/tmp and /dev/shm. The mounts are private (unshare's
 * default propagation), so nothing outside sees them, and they vanish with the namespace. `$2`, when set, is
 * the folder under /tmp that holds the commands directory (a checkout in /tmp): it is bound back into the new
 * /tmp through a descriptor opened before the mount hid it (mount must not resolve the descriptor's path).
 */
const mountScript = `keep=$2
if [ -n "$keep" ]; then exec 3<"$keep" || exit 125; fi
mount -t tmpfs -o "size=$1,mode=1777,nosuid,nodev" command-tmp /tmp || exit 125
if [ -n "$keep" ]; then
  mkdir -p "$keep" && mount --no-canonicalize --bind /proc/self/fd/3 "$keep" || exit 125
  exec 3<&-
fi
for dir in /var/tmp /dev/shm; do
  if [ -d "$dir" ]; then mount --bind /tmp "$dir" || exit 125; fi
done
shift 2
exec "$@"`;

/** The top folder under /tmp that holds `path` (`/tmp/ci` for `/tmp/ci/main/jobs/commands/x`), or '' when it is not under /tmp. */
function tmpFolderHolding(path: string): string {
  const match = /^\/tmp\/[^/]+/.exec(path);
  return match ? match[0] : '';
}
/**
 * Outside the namespaces, after setpriv armed the death signal on this process: a worker that died before is
 * seen here (`$1` is its pid), and nothing starts.
 */
const guardScript = `[ "$PPID" = "$1" ] || exit 125
shift
exec "$@"`;
/**
 * Pid 1 of the attempt's pid namespace, as the command's user: the command's parent, in the command's process
 * group. A SIGTERM to the group reaches the command while this keeps waiting for it; when this exits, with the
 * command's status (128 + n when signal n killed it), the kernel kills every process left in the namespace.
 */
const namespaceInitScript = `trap : TERM
"$@" &
wait "$!"
status=$?
while kill -0 "$!" 2>/dev/null; do wait "$!"; status=$?; done
exit "$status"`;

const execFileAsync = promisify(execFile);
const knownUsers = new Map<string, { uid: number; gid: number }>();

/** The user's uid and primary gid, through NSS as login does. */
async function lookUpUser(name: string): Promise<{ uid: number; gid: number }> {
  const known = knownUsers.get(name);
  if (known) return known;
  const entry = await execFileAsync('getent', ['passwd', name]).then(
    ({ stdout }) => stdout.split(':'),
    () => [],
  );
  const [uid, gid] = [Number(entry[2]), Number(entry[3])];
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || entry.length < 4) {
    throw new UnrecoverableError(`JOBS_COMMAND_USER "${name}" is not a user on this machine`);
  }
  knownUsers.set(name, { uid, gid });
  return { uid, gid };
}

/** Whether this worker can give each attempt namespaces of its own (root, and unshare allowed: not so in a default container). */
let namespacesUsable: Promise<boolean> | undefined;

/** Why commands run without namespaces on this worker (shared /proc, network and /tmp, escapes from the process group), or undefined. */
export async function commandIsolationProblem(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'commands are not confined off Linux';
  if (process.getuid?.() !== 0)
    return 'the worker is not root: commands run as its user, without namespaces of their own (shared /proc, network and /tmp), and a process that leaves the group outlives its attempt';
  namespacesUsable ??= execFileAsync(
    '/usr/bin/unshare',
    [
      '--pid',
      '--fork',
      '--kill-child',
      '--mount-proc',
      '--net',
      '--',
      '/bin/sh',
      '-c',
      'mount -t tmpfs -o size=1m tmpfs /tmp',
    ],
    { env: baseCommandEnv, timeout: 10_000 },
  ).then(
    () => true,
    () => false,
  );
  return (await namespacesUsable)
    ? undefined
    : "unshare cannot create namespaces here (no CAP_SYS_ADMIN?): commands share the worker's /proc, network and /tmp, and a process that leaves the group outlives its attempt";
}

/** Uids of the range that an attempt of this process runs as now. */
const uidsInUse = new Set<number>();

/** A uid of the range no attempt of this process runs as, from a random place so that workers on one machine rarely meet. */
function takeUid(range: { first: number; last: number }): number {
  const size = range.last - range.first + 1;
  const start = Math.floor(Math.random() * size);
  for (let step = 0; step < size; step++) {
    const uid = range.first + ((start + step) % size);
    if (!uidsInUse.has(uid)) {
      uidsInUse.add(uid);
      return uid;
    }
  }
  throw new CommandExitedError(`every uid of JOBS_COMMAND_UIDS (${range.first}-${range.last}) runs an attempt`);
}

/** The programs the command is started through, up to the supervisor; `release` gives back what the launcher took. */
export interface Launcher {
  readonly programs: string[];
  readonly release: () => void;
}

/**
 * The programs the command is started through on Linux: prlimit sets the limits (as the worker, so it may set
 * them above its own soft ones), then setpriv drops to the command user, sets no_new_privs and arms the death
 * signal. Elsewhere there is no confinement.
 *
 * A root worker that may create namespaces gives each attempt a pid, mount and (by default) network namespace:
 * setpriv arms SIGKILL as the death signal of the outermost process, which the guard checks and which becomes
 * unshare; unshare's --kill-child kills the namespace's init when unshare dies, and the kernel then every
 * process in the namespace, whatever session or group it moved to. The private /proc shows only the attempt's
 * processes; /tmp is a tmpfs of its own; the privilege drop comes after the mounts.
 */
export async function launcher(sandbox: CommandSandbox, commandPath: string): Promise<Launcher> {
  const supervisor = ['/bin/sh', '-c', supervisorScript, 'command-supervisor', String(process.pid)];
  if (process.platform !== 'linux') return { programs: supervisor, release: () => undefined };
  const isRoot = process.getuid?.() === 0;
  const namespaces = isRoot && (await commandIsolationProblem()) === undefined;
  const uid = isRoot && sandbox.uids ? takeUid(sandbox.uids) : undefined;
  const release = (): void => {
    if (uid !== undefined) uidsInUse.delete(uid);
  };
  try {
    const user = uid !== undefined ? { uid, gid: uid } : isRoot ? await lookUpUser(sandbox.user) : undefined;
    const limits = [
      '/usr/bin/prlimit',
      `--cpu=${sandbox.cpuSeconds}:${sandbox.cpuSeconds + cpuKillAfterSeconds}`,
      `--as=${sandbox.memoryBytes}`,
      `--nofile=${sandbox.maxOpenFiles}`,
      ...(user ? [`--nproc=${sandbox.maxProcesses}`] : []),
      '--',
    ];
    const drop = [
      '/usr/bin/setpriv',
      ...(user ? [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups'] : []),
      // No set-uid program (su, mount…) gives the command back what setpriv took.
      '--no-new-privs',
    ];
    if (!namespaces) return { programs: [...limits, ...drop, '--pdeathsig=USR1', '--', ...supervisor], release };
    return {
      programs: [
        ...limits,
        '/usr/bin/setpriv',
        '--pdeathsig=KILL',
        '--',
        '/bin/sh',
        '-c',
        guardScript,
        'command-guard',
        String(process.pid),
        '/usr/bin/unshare',
        '--pid',
        '--fork',
        '--kill-child',
        '--mount-proc',
        ...(sandbox.network === 'none' ? ['--net'] : []),
        '--',
        '/bin/sh',
        '-c',
        mountScript,
        'command-mounts',
        String(sandbox.tmpBytes),
        tmpFolderHolding(commandPath),
        // The privilege drop clears the death signal --kill-child armed: armed again, after it.
        ...drop,
        '--pdeathsig=KILL',
        '--',
        '/bin/sh',
        '-c',
        namespaceInitScript,
        'command-init',
      ],
      release,
    };
  } catch (err) {
    release();
    throw err;
  }
}
