import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { z } from 'zod';
import type { JobContext, JobType, JobTypeSettings } from './job-type.js';

/** An argument or environment value: the OS cannot pass a NUL byte, and spawn would throw at the attempt. */
const ProcessString = z.string().max(32_768).regex(/^[^\0]*$/, 'must not contain a NUL character');

const CommandInput = z.strictObject({
  command: z.string().min(1).max(255),
  args: z.array(ProcessString).max(1000).optional(),
  // LD_* would let a request load any library on the machine into an allowed executable.
  env: z.record(z.string().regex(/^(?!LD_)[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'is not an allowed variable name (LD_* is refused)'), ProcessString).optional(),
});
type CommandInput = z.infer<typeof CommandInput>;

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
/** A line `::progress <percent> [message]` on stdout reports progress. */
const progressLine = /^::progress (\d{1,3}(?:\.\d+)?)(?: (.*))?$/;

/** Thrown by the command handler when the process exits non-zero: the attempt fails and may be retried. */
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
  const isExecutableFile = (await stat(path)).isFile() && (await access(path, constants.X_OK).then(() => true, () => false));
  if (!isExecutableFile) return { problem: `command "${command}" is not an executable file` };
  return { path };
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

function reportProgressLines(context: JobContext): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const match = progressLine.exec(line.trimEnd());
      if (match) context.progress(Math.min(100, Number(match[1])), match[2] ?? null);
    }
  };
}

async function runCommand(input: CommandInput, context: JobContext, settings: JobTypeSettings): Promise<CommandResult> {
  const resolved = await resolveCommand(input.command, settings.commandsDir);
  if ('problem' in resolved) throw new CommandExitedError(resolved.problem);
  const startedAt = performance.now();
  // detached: the command leads its own process group, so a kill reaches everything it started.
  const child = spawn(resolved.path, input.args ?? [], {
    env: { ...baseCommandEnv, ...input.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    shell: false,
  });
  const stdout = collect(outputLimitBytes);
  const stderr = collect(outputLimitBytes);
  const onProgress = reportProgressLines(context);
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
  try {
    const exitCode = await new Promise<number>((resolvePromise, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolvePromise(code ?? (signal ? 128 : 1)));
    });
    if (context.signal.aborted) throw context.signal.reason;
    const result = {
      exitCode,
      stdout: stdout.text(),
      stderr: stderr.text(),
      truncated: stdout.truncated() || stderr.truncated(),
      durationMs: Math.round(performance.now() - startedAt),
    };
    if (exitCode !== 0) {
      throw new CommandExitedError(`"${input.command}" exited with code ${exitCode}: ${result.stderr.slice(-500).trim()}`);
    }
    return result;
  } finally {
    context.signal.removeEventListener('abort', stop);
    if (forceKill) clearTimeout(forceKill);
  }
}

export const commandJob: JobType<CommandInput, CommandResult> = {
  name: 'command',
  description: 'Runs an executable from the commands directory, with no shell; a non-zero exit fails the attempt.',
  inputSchema: CommandInput,
  defaults: {
    timeoutSeconds: 600,
    heartbeatTimeoutSeconds: 10,
    retry: { maxAttempts: 1, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 60 },
  },
  async checkInput(input, settings) {
    const resolved = await resolveCommand(input.command, settings.commandsDir);
    return 'problem' in resolved ? resolved.problem : undefined;
  },
  run: runCommand,
};
