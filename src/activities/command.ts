import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:fs';
import { access, readFile, realpath, stat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { Config } from '../config.js';
import { UnrecoverableError, type JobContext, type JobType, type JobTypeSettings } from './job-type.js';

/** Names an object's own key may have in JSON but not as a variable: a record would drop `__proto__` without a word. */
const objectKeys = new Set(['__proto__', 'constructor', 'prototype']);

/** Refuses, before the record sees them, env names that are Object.prototype's own. */
function refuseObjectKeys(value: unknown, ctx: z.core.ParsePayload<unknown>): unknown {
  if (value === null || typeof value !== 'object') return value;
  for (const name of Object.keys(value)) {
    if (objectKeys.has(name)) ctx.issues.push({ code: 'custom', message: `env ${JSON.stringify(name)} is not a variable name`, path: [name], input: value });
  }
  return value;
}

/** An argument or environment value: the OS cannot pass a NUL byte, and spawn would throw at the attempt. */
const ProcessString = z.string().max(32_768).regex(/^[^\0]*$/, 'must not contain a NUL character');

const CommandInput = z.strictObject({
  command: z.string().min(1).max(255),
  args: z.array(ProcessString).max(1000).optional(),
  // Only the names the command's manifest declares are accepted (checkInput, and the worker again before spawning).
  env: z.preprocess(refuseObjectKeys, z.record(z.string().min(1).max(128), ProcessString)).optional(),
});
type CommandInput = z.infer<typeof CommandInput>;

/**
 * Names no manifest may declare: each lets a value load code into the loader, an interpreter, a shell or a
 * library (`BASH_ENV="$(id)"`, `NODE_OPTIONS=--import=…`, `LUA_INIT=os.execute…`, `GIT_SSH_COMMAND`, an
 * OPENSSL_CONF or HOME whose files run code, an EDITOR or PAGER a tool starts), picks which program or files a
 * script's own lookups use (PATH, CLASSPATH, GEM_*, TZDIR, NLSPATH, HOSTALIASES, proxies), or is the
 * launcher's own (JOBS_*).
 */
const interpreterHook = new RegExp(
  '^(' +
    [
      'LD_.*', 'BASH_ENV', 'BASH_FUNC_.*', 'BASHOPTS', 'SHELLOPTS', 'BASH_XTRACEFD', 'ENV', 'PS4', 'IFS', 'CDPATH', 'PATH', 'HOME',
      'NODE_.*', 'NPM_CONFIG_.*', 'PYTHON.*', 'PIP_.*', 'PERL.*', 'RUBY.*', 'GEM_.*', 'BUNDLE_.*', 'PHP.*', 'LUA_.*',
      'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH', 'GIT_.*', 'SSH_.*', 'OPENSSL_.*',
      'GCONV_PATH', 'LOCPATH', 'NLSPATH', 'GLIBC_TUNABLES', 'MALLOC_.*', 'TZ.*', 'HOSTALIASES', 'RES_OPTIONS', 'LOCALDOMAIN',
      'EDITOR', 'VISUAL', 'PAGER', 'LESS.*', 'XDG_.*', 'TMPDIR', '.*_PROXY', 'JOBS_.*',
    ].join('|') +
    ')$',
  'i',
);

/** `<command>.json` beside the executable: the variables a caller may set. A command without one accepts no env. */
const CommandManifest = z.strictObject({
  description: z.string().max(1000).optional(),
  env: z
    .array(
      z.string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'is not a variable name')
        .refine((name) => !interpreterHook.test(name), { error: (issue) => `${JSON.stringify(issue.input)} lets a value run code in an interpreter or the loader` }),
    )
    .max(100)
    .default([]),
  /** Defaults for jobs of this command, before the job type's (600 s, one attempt); a submit body still wins. */
  timeoutSeconds: z.number().int().min(1).max(604_800).optional(),
  maxAttempts: z.number().int().min(1).max(100).optional(),
});
type CommandManifest = z.infer<typeof CommandManifest>;

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: number;
}

/** Each of stdout and stderr is kept up to this many bytes; the rest is dropped and `truncated` set. */
export const outputLimitBytes = 64 * 1024;
/** The environment every command gets, before the request's own `env`: nothing of the worker's leaks. */
export const baseCommandEnv: Readonly<Record<string, string>> = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' };
const killGraceMs = 2000;
/** After the command exits and its group is killed, its pipes close at once unless something escaped the group. */
const pipesCloseWaitMs = 1000;
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
/** A line `::progress <percent> [message]` on stdout reports progress. */
const progressLine = /^::progress (\d{1,3}(?:\.\d+)?)(?: (.*))?$/;

/** Thrown by the command handler when the process exits non-zero or is killed: the attempt fails and may be retried. */
export class CommandExitedError extends Error {
  override readonly name = 'CommandExitedError';
}

/** The command's real path when it is an executable file inside the commands directory, else a reason. */
async function resolveCommand(command: string, commandsDir: string): Promise<{ path: string } | { problem: string }> {
  const dir = await realpath(commandsDir).catch(() => undefined);
  if (!dir) return { problem: `the commands directory ${commandsDir} does not exist` };
  const path = await realpath(resolve(dir, command)).catch(() => undefined);
  if (!path) return { problem: `command "${command}" is not in the commands directory` };
  if (!path.startsWith(dir + sep)) return { problem: `command "${command}" resolves outside the commands directory` };
  if (path.endsWith('.json')) return { problem: `command "${command}" is a manifest, not a command` };
  // env(1) starts the command and would take a path holding `=` for a variable.
  if (path.includes('=')) return { problem: `command "${command}" has "=" in its path` };
  const isExecutableFile = (await stat(path)).isFile() && (await access(path, constants.X_OK).then(() => true, () => false));
  if (!isExecutableFile) return { problem: `command "${command}" is not an executable file` };
  return { path };
}

/** The manifest beside the command's real path; none declares nothing. */
async function readManifest(path: string, command: string): Promise<{ manifest: CommandManifest } | { problem: string }> {
  let text: string;
  try {
    text = await readFile(`${path}.json`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { manifest: { env: [] } };
    return { problem: `the manifest of command "${command}" cannot be read` };
  }
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch {
    return { problem: `the manifest of command "${command}" is not JSON` };
  }
  const parsed = CommandManifest.safeParse(content);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { problem: `the manifest of command "${command}" is invalid: ${issue.path.join('.')}: ${issue.message}` };
  }
  return { manifest: parsed.data };
}

/** Why the input's env may not reach a command with this manifest, or undefined when the manifest declares every name. */
function undeclaredEnvProblem(input: CommandInput, manifest: CommandManifest): string | undefined {
  const undeclared = Object.keys(input.env ?? {}).find((name) => !manifest.env.includes(name));
  if (undeclared === undefined) return undefined;
  const declared = manifest.env.length > 0 ? `it declares ${manifest.env.join(', ')}` : 'it declares none';
  return `env ${JSON.stringify(undeclared)} is not declared in the manifest of command "${input.command}" (${declared})`;
}

/** Why the input's env may not reach the command at `path`, or undefined when its manifest declares every name. */
async function envProblem(input: CommandInput, path: string): Promise<string | undefined> {
  const read = await readManifest(path, input.command);
  return 'problem' in read ? read.problem : undeclaredEnvProblem(input, read.manifest);
}

const execFileAsync = promisify(execFile);
const knownUsers = new Map<string, { uid: number; gid: number }>();

/** The user's uid and primary gid, through NSS as login does. */
async function lookUpUser(name: string): Promise<{ uid: number; gid: number }> {
  const known = knownUsers.get(name);
  if (known) return known;
  const entry = await execFileAsync('getent', ['passwd', name]).then(({ stdout }) => stdout.split(':'), () => []);
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
  if (process.getuid?.() !== 0) return 'the worker is not root: commands run as its user, without namespaces of their own (shared /proc, network and /tmp), and a process that leaves the group outlives its attempt';
  namespacesUsable ??= execFileAsync('/usr/bin/unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', '--net', '--', '/bin/sh', '-c', 'mount -t tmpfs -o size=1m tmpfs /tmp'], { env: baseCommandEnv, timeout: 10_000 })
    .then(() => true, () => false);
  return (await namespacesUsable)
    ? undefined
    : 'unshare cannot create namespaces here (no CAP_SYS_ADMIN?): commands share the worker\'s /proc, network and /tmp, and a process that leaves the group outlives its attempt';
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
interface Launcher {
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
async function launcher(sandbox: CommandSandbox, commandPath: string): Promise<Launcher> {
  const supervisor = ['/bin/sh', '-c', supervisorScript, 'command-supervisor', String(process.pid)];
  if (process.platform !== 'linux') return { programs: supervisor, release: () => undefined };
  const isRoot = process.getuid?.() === 0;
  const namespaces = isRoot && (await commandIsolationProblem()) === undefined;
  const uid = isRoot && sandbox.uids ? takeUid(sandbox.uids) : undefined;
  const release = (): void => { if (uid !== undefined) uidsInUse.delete(uid); };
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
        '/usr/bin/setpriv', '--pdeathsig=KILL', '--',
        '/bin/sh', '-c', guardScript, 'command-guard', String(process.pid),
        '/usr/bin/unshare', '--pid', '--fork', '--kill-child', '--mount-proc', ...(sandbox.network === 'none' ? ['--net'] : []), '--',
        '/bin/sh', '-c', mountScript, 'command-mounts', String(sandbox.tmpBytes), tmpFolderHolding(commandPath),
        // The privilege drop clears the death signal --kill-child armed: armed again, after it.
        ...drop, '--pdeathsig=KILL', '--',
        '/bin/sh', '-c', namespaceInitScript, 'command-init',
      ],
      release,
    };
  } catch (err) {
    release();
    throw err;
  }
}

/** Why a command ended without success: its exit code, or the signal that killed it. */
function endProblem(command: string, exitCode: number, signal: NodeJS.Signals | null, stderr: string): string {
  // stderr has its env values masked already: the tail cannot start inside one.
  // The supervisor reports a command killed by signal n as 128 + n, as shells do.
  const name = signal ?? (exitCode > 128 ? Object.entries(osConstants.signals).find(([, number]) => number === exitCode - 128)?.[0] : undefined);
  const tail = stderr.slice(-500).trim();
  if (!name) return `"${command}" exited with code ${exitCode}: ${tail}`;
  const cause = name === 'SIGXCPU' ? ' (its CPU time limit)' : name === 'SIGKILL' ? ' (a CPU, memory or process limit, or a kill from outside?)' : '';
  return `"${command}" was killed by ${name}${cause}: ${tail}`;
}

function collect(limit: number): { push(chunk: Buffer): void; text(): string; truncated(): boolean } {
  const chunks: Buffer[] = [];
  let kept = 0;
  let dropped = false;
  return {
    push(chunk) {
      const room = limit - kept;
      if (chunk.length > room) dropped = true;
      if (room > 0) {
        const part = chunk.subarray(0, room);
        chunks.push(part);
        kept += part.length;
      }
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
    truncated: () => dropped,
  };
}

/** Env values shorter than this are not masked: `***` for every "1" or "yes" would garble output and hide nothing. */
export const maskedValueMinLength = 4;

/**
 * Replaces each of the values (of at least 4 characters) in the text with `***`, and, when the text was cut,
 * a start of one at its very end: output, an error message and progress never carry a caller's env value.
 */
function masker(values: readonly string[]): (text: string, cut?: boolean) => string {
  const secrets = [...new Set(values.filter((value) => value.length >= maskedValueMinLength))].sort((a, b) => b.length - a.length);
  return (text, cut = false) => {
    let masked = text;
    for (const secret of secrets) masked = masked.split(secret).join('***');
    if (cut) {
      for (const secret of secrets) {
        for (let length = secret.length - 1; length > 0; length--) {
          if (masked.endsWith(secret.slice(0, length))) {
            masked = `${masked.slice(0, -length)}***`;
            break;
          }
        }
      }
    }
    return masked;
  };
}

/** Progress lines are short: a longer line is passed over, so a command printing no newline costs no memory. */
const progressLineLimitBytes = 4096;
const newline = 0x0a;

/** Reads `::progress` lines from stdout chunks, keeping at most one unfinished line of up to 4 KiB between chunks. */
function reportProgressLines(context: JobContext, mask: (text: string) => string): (chunk: Buffer) => void {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overlong = false;
  const report = (line: string): void => {
    const match = progressLine.exec(line.trimEnd());
    if (match) context.progress(Math.min(100, Number(match[1])), match[2] === undefined ? null : mask(match[2]));
  };
  return (chunk) => {
    let start = 0;
    for (let end = chunk.indexOf(newline); end !== -1; end = chunk.indexOf(newline, start)) {
      if (!overlong && pendingBytes + end - start <= progressLineLimitBytes) report(Buffer.concat([...pending, chunk.subarray(start, end)]).toString('utf8'));
      pending = [];
      pendingBytes = 0;
      overlong = false;
      start = end + 1;
    }
    if (overlong || start === chunk.length) return;
    if (pendingBytes + chunk.length - start > progressLineLimitBytes) {
      overlong = true;
      pending = [];
      pendingBytes = 0;
    } else {
      // A copy: a view would keep the whole chunk alive.
      pending.push(Buffer.from(chunk.subarray(start)));
      pendingBytes += chunk.length - start;
    }
  };
}

async function runCommand(input: CommandInput, context: JobContext, settings: JobTypeSettings): Promise<CommandResult> {
  const resolved = await resolveCommand(input.command, settings.commandsDir);
  if ('problem' in resolved) throw new CommandExitedError(resolved.problem);
  // The API checked the env at submit; a request that reached Temporal another way is refused here.
  const refused = await envProblem(input, resolved.path);
  if (refused) throw new UnrecoverableError(refused);
  if (!settings.commandSandbox) throw new UnrecoverableError('this process has no command sandbox settings');
  const { programs, release } = await launcher(settings.commandSandbox, resolved.path);
  try {
    return await supervise(input, resolved.path, programs, context);
  } finally {
    release();
  }
}

/** Runs the command through the launcher's programs until it and everything it started have ended. */
async function supervise(input: CommandInput, path: string, programs: readonly string[], context: JobContext): Promise<CommandResult> {
  const argv = [
    ...programs,
    // Only the command gets the request's env: the programs before it (root ones, when the worker is root) get the base.
    // JOBS_WORKER_PID last, so no request sets it (no manifest may declare JOBS_*): a pid namespace hides the worker.
    '/usr/bin/env', '-i', ...Object.entries({ ...baseCommandEnv, ...input.env, JOBS_WORKER_PID: String(process.pid) }).map(([name, value]) => `${name}=${value}`),
    path, ...(input.args ?? []),
  ];
  const mask = masker(Object.values(input.env ?? {}));
  const startedAt = performance.now();
  // detached: the first program leads a process group of its own, so a kill reaches everything the command started.
  const child = spawn(argv[0]!, argv.slice(1), {
    env: baseCommandEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    shell: false,
  });
  const stdout = collect(outputLimitBytes);
  const stderr = collect(outputLimitBytes);
  const onProgress = reportProgressLines(context, mask);
  child.stdout.on('data', (chunk: Buffer) => { stdout.push(chunk); onProgress(chunk); });
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

  const killGroup = (signal: NodeJS.Signals): void => {
    try { if (child.pid) process.kill(-child.pid, signal); } catch { /* already gone */ }
  };
  let forceKill: NodeJS.Timeout | undefined;
  const stop = (): void => {
    killGroup('SIGTERM');
    forceKill = setTimeout(() => killGroup('SIGKILL'), killGraceMs);
  };
  context.signal.addEventListener('abort', stop, { once: true });
  const closed = once(child, 'close').catch(() => undefined);
  try {
    const end = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolvePromise({ code, signal }));
    });
    // Whatever the command left running (background children) dies with the attempt (in a pid namespace, it died
    // with the namespace's init already); then the pipes close, unless a process left the group (setsid) where
    // there is no namespace: its output is not waited for.
    killGroup('SIGKILL');
    await Promise.race([closed, new Promise((resolveWait) => setTimeout(resolveWait, pipesCloseWaitMs).unref())]);
    child.stdout.destroy();
    child.stderr.destroy();
    if (context.signal.aborted) throw context.signal.reason;
    const exitCode = end.code ?? 128 + (end.signal ? osConstants.signals[end.signal] : 0);
    const result = {
      exitCode,
      stdout: mask(stdout.text(), stdout.truncated()),
      stderr: mask(stderr.text(), stderr.truncated()),
      truncated: stdout.truncated() || stderr.truncated(),
      durationMs: Math.round(performance.now() - startedAt),
    };
    if (exitCode !== 0) throw new CommandExitedError(endProblem(input.command, exitCode, end.signal, result.stderr));
    return result;
  } finally {
    context.signal.removeEventListener('abort', stop);
    if (forceKill) clearTimeout(forceKill);
  }
}

export const commandJob: JobType<CommandInput, CommandResult> = {
  name: 'command',
  description:
    'Runs an executable from the commands directory, with no shell and only the env its manifest (<command>.json) declares; a non-zero exit fails the attempt. ' +
    'Every env value of 4 or more characters is replaced by *** in the result\'s stdout and stderr, in progress messages and in the error\'s stderr tail.',
  inputSchema: CommandInput,
  defaults: {
    timeoutSeconds: 600,
    heartbeatTimeoutSeconds: 10,
    retry: { maxAttempts: 1, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 60 },
  },
  async checkInput(input, settings) {
    const resolved = await resolveCommand(input.command, settings.commandsDir);
    if ('problem' in resolved) return resolved;
    const read = await readManifest(resolved.path, input.command);
    if ('problem' in read) return read;
    const problem = undeclaredEnvProblem(input, read.manifest);
    if (problem) return { problem };
    const { timeoutSeconds, maxAttempts } = read.manifest;
    return { defaults: { ...(timeoutSeconds ? { timeoutSeconds } : {}), ...(maxAttempts ? { maxAttempts } : {}) } };
  },
  run: runCommand,
};
