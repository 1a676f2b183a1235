import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants as osConstants } from 'node:os';
import { defineJobType, UnrecoverableError, type JobContext, type JobType } from '@durable-jobs/worker';
import { z } from 'zod';
import { CommandExitedError } from './command/exited-error.js';
import { CommandInput } from './command/input.js';
import { commandCatalog, commandInputSchema, commandDefaultsWhen } from './command/catalog.js';
import { envProblem } from './command/manifest.js';
import {
  collect,
  keepOutputLines,
  masker,
  outputLimitBytes,
  reportProgressLines,
  type Collected,
} from './command/output.js';
import { resolveCommand } from './command/resolve.js';
import { baseCommandEnv, launcher, type CommandSandbox } from './command/sandbox.js';

// The parts live in ./command/; the worker and the job types take what they need from here.
export { commandIsolationProblem, commandSandboxOf, type CommandSandbox } from './command/sandbox.js';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: number;
}

const killGraceMs = 2000;
/** After the command exits and its group is killed, its pipes close at once unless something escaped the group. */
const pipesCloseWaitMs = 1000;

/** Why a command ended without success: its exit code, or the signal that killed it. */
function endProblem(command: string, exitCode: number, signal: NodeJS.Signals | null, stderr: string): string {
  // stderr has its env values masked already: the tail cannot start inside one.
  // The supervisor reports a command killed by signal n as 128 + n, as shells do.
  const name =
    signal ??
    (exitCode > 128
      ? Object.entries(osConstants.signals).find(([, number]) => number === exitCode - 128)?.[0]
      : undefined);
  const tail = stderr.slice(-500).trim();
  if (!name) return `"${command}" exited with code ${exitCode}: ${tail}`;
  const cause =
    name === 'SIGXCPU'
      ? ' (its CPU time limit)'
      : name === 'SIGKILL'
        ? ' (a CPU, memory or process limit, or a kill from outside?)'
        : '';
  return `"${command}" was killed by ${name}${cause}: ${tail}`;
}

/** Where the command job type finds its commands, and how the worker confines them. */
export interface CommandSettings {
  readonly commandsDir: string;
  readonly commandSandbox?: CommandSandbox;
}

async function runCommand(input: CommandInput, context: JobContext, settings: CommandSettings): Promise<CommandResult> {
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
async function supervise(
  input: CommandInput,
  path: string,
  programs: readonly string[],
  context: JobContext,
): Promise<CommandResult> {
  const argv = [
    ...programs,
    // Only the command gets the request's env: the programs before it (root ones, when the worker is root) get the base.
    // JOBS_WORKER_PID last, so no request sets it (no manifest may declare JOBS_*): a pid namespace hides the worker.
    '/usr/bin/env',
    '-i',
    ...Object.entries({ ...baseCommandEnv, ...input.env, JOBS_WORKER_PID: String(process.pid) }).map(
      ([name, value]) => `${name}=${value}`,
    ),
    path,
    ...(input.args ?? []),
  ];
  const mask = masker(Object.values(input.env ?? {}));
  // The job's logs take the output line by line: each line of a value that spans lines is masked too.
  const maskLines = masker(Object.values(input.env ?? {}).flatMap((value) => [value, ...value.split('\n')]));
  const startedAt = performance.now();
  // A cancel that came while the command was being prepared (its path, manifest, launcher) has fired already: the
  // listener below would never hear it, and the command would run to its own end.
  context.signal.throwIfAborted();
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
  const stdoutLines = keepOutputLines(context, 'info', maskLines);
  const stderrLines = keepOutputLines(context, 'warn', maskLines);
  child.stdout.on('data', (chunk: Buffer) => {
    stdout.push(chunk);
    onProgress(chunk);
    stdoutLines.push(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr.push(chunk);
    stderrLines.push(chunk);
  });

  const killGroup = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      /* already gone */
    }
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
    stdoutLines.end();
    stderrLines.end();
    if (context.signal.aborted) throw context.signal.reason;
    const exitCode = end.code ?? 128 + (end.signal ? osConstants.signals[end.signal] : 0);
    const result = {
      exitCode,
      stdout: mask(stdout.text(), stdout.truncated()),
      stderr: mask(stderr.text(), stderr.truncated()),
      truncated: stdout.truncated() || stderr.truncated(),
      durationMs: Math.round(performance.now() - startedAt),
    };
    if (exitCode !== 0) {
      const tailOf = (output: Collected): string => {
        const { text, cut } = output.tail();
        return mask(text, false, cut);
      };
      throw new CommandExitedError(endProblem(input.command, exitCode, end.signal, result.stderr), {
        exitCode,
        stdoutTail: tailOf(stdout),
        stderrTail: tailOf(stderr),
      });
    }
    return result;
  } finally {
    context.signal.removeEventListener('abort', stop);
    if (forceKill) clearTimeout(forceKill);
  }
}

/**
 * The command job type of a commands directory, declared with the same public API as a handler worker's. Its input
 * schema is made from the directory when the worker starts: the commands as an enum, each with the env names its
 * manifest declares, and its manifest's timeoutSeconds and maxAttempts as `defaultsWhen` cases. So the API refuses an
 * unknown command or env name without reading the directory; the handler checks both again before it spawns.
 */
export async function commandJobType(
  settings: CommandSettings,
  onProblem?: (problem: string) => void,
): Promise<JobType<unknown, CommandResult>> {
  const { commands, skipped, unreadable } = await commandCatalog(settings.commandsDir);
  if (unreadable) onProblem?.(`${unreadable}: no command is offered`);
  for (const { name, problem } of skipped) onProblem?.(`command ${name} is not offered: ${problem}`);
  return defineJobType({
    name: 'command',
    description:
      'Runs an executable from the commands directory, with no shell and only the env its manifest (<command>.json) declares; a non-zero exit fails the attempt. ' +
      "Every env value of 4 or more characters is replaced by *** in the result's stdout and stderr, in progress messages and in the error's stderr tail.",
    input: commandInputSchema(commands),
    defaults: {
      timeoutSeconds: 600,
      heartbeatTimeoutSeconds: 10,
      retry: { maxAttempts: 1, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 60 },
    },
    defaultsWhen: commandDefaultsWhen(commands),
    run(input, context) {
      const parsed = CommandInput.safeParse(input);
      if (!parsed.success) throw new UnrecoverableError(`input: ${z.prettifyError(parsed.error)}`);
      return runCommand(parsed.data, context, settings);
    },
  });
}
