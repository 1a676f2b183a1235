// Helpers for tests that watch what a command does from outside: a directory both can use, and the pids of its
// processes as this test sees them.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A new directory any command may write and this test may read: outside /tmp, /var/tmp and /dev/shm, which are
 * private to each attempt of a root worker. Under the repository's ignored .cache; remove it after use.
 */
export async function commandScratchDir(): Promise<string> {
  const parent = fileURLToPath(new URL('../../.cache/', import.meta.url));
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(join(parent, 'command-scratch-'));
  // Commands run as another user (nobody, or a uid of their attempt's own).
  await chmod(dir, 0o1777);
  return dir;
}

/**
 * The pids, as this process sees them, of processes a command numbered in its pid namespace (`pid:[…]`, from
 * `readlink /proc/self/ns/pid`). A process not found is gone; so is every one of a namespace no process is in.
 */
export function hostPids(pids: readonly number[], namespace: string): number[] {
  if (namespace === readlinkSync('/proc/self/ns/pid')) return [...pids];
  const found = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) !== namespace) continue;
      const nsPids = /^NSpid:\s+(.*)$/m
        .exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]
        ?.trim()
        .split(/\s+/)
        .map(Number);
      const inner = nsPids?.at(-1);
      if (inner !== undefined) found.set(inner, Number(entry));
    } catch {
      // Ended while we looked.
    }
  }
  return pids.map((pid) => found.get(pid)).filter((pid): pid is number => pid !== undefined);
}
