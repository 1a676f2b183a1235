// Spawning a child that dies with this process however this process dies. Plain Node.js on purpose: dev/run.mjs
// uses it before anything but Node is there.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** util-linux's setpriv: it sets the parent-death signal (prctl PR_SET_PDEATHSIG), then becomes the command (same pid). */
const setpriv = process.platform === 'linux' ? ['/usr/bin/setpriv', '/bin/setpriv'].find(existsSync) : undefined;

/** Whether children spawned by spawnTied get SIGTERM when this process dies, even by SIGKILL. */
export const childrenDieWithUs = setpriv !== undefined;

/**
 * `spawn`, except that the child gets SIGTERM when this process dies, even by SIGKILL or the OOM killer, so it never
 * lives on as an orphan holding a port; SIGTERM rather than SIGKILL so it stops as if asked (a worker lets its running
 * attempts finish). Linux sends the signal when the thread that spawned the child ends: Node spawns from its main
 * thread, whose end is the process's. Without setpriv (not Linux) the child is spawned as is.
 */
export function spawnTied(command, args, options) {
  if (!setpriv) return spawn(command, args, options);
  return spawn(setpriv, ['--pdeathsig', 'TERM', '--', command, ...args], options);
}
