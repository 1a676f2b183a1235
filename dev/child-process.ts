// Stopping a child process, written once for every launcher of the tooling: the parts of the service (npm start,
// the tests, the bench), the cluster's Temporal services and its PostgreSQL.
import type { ChildProcess } from 'node:child_process';

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Sends `signal` to the child, or to its whole process group (a child spawned `detached` leads one); never throws. */
export function signalChild(child: ChildProcess, signal: NodeJS.Signals, group = false): void {
  try {
    if (group) process.kill(-child.pid!, signal);
    else child.kill(signal);
  } catch {
    // Gone already.
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Thrown by stopChild when processes of a child's group are still there after the child exited. */
export class ProcessGroupOutlivedError extends Error {
  override readonly name = 'ProcessGroupOutlivedError';
}

export interface StopOptions {
  /** The signal that asks it to stop; SIGTERM by default. */
  readonly signal?: NodeJS.Signals;
  /** SIGKILL follows when it has not exited this long after `signal`; without it, stopChild waits as long as it takes. */
  readonly killAfterMs?: number;
  /**
   * Signal the child's whole process group and wait, up to this long after the child exited, until every process
   * of the group is gone, so nothing it started (the dev server's binary, a command) still holds a port.
   */
  readonly groupExitMs?: number;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Stops `child` and resolves once it exited (at once when it had exited before). */
export async function stopChild(child: ChildProcess, options: StopOptions = {}): Promise<void> {
  const group = options.groupExitMs !== undefined;
  if (isRunning(child)) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    signalChild(child, options.signal ?? 'SIGTERM', group);
    const timer =
      options.killAfterMs === undefined
        ? undefined
        : setTimeout(() => signalChild(child, 'SIGKILL', group), options.killAfterMs);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }
  if (!group) return;
  const deadline = Date.now() + options.groupExitMs;
  while (groupAlive(child.pid!)) {
    if (Date.now() > deadline)
      throw new ProcessGroupOutlivedError(
        `processes of pid ${child.pid}'s group outlived it by ${options.groupExitMs} ms`,
      );
    await delay(20);
  }
}
