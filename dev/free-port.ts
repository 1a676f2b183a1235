// Ports for the parts that the tests, the bench and the local cluster start.
import { createServer } from 'node:net';

/** True when nothing listens on the loopback port now: binding to it succeeds. */
export async function isPortFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Ports this process has handed out: each is bound later, by a part, so no two callers may get the same one. */
const handedOut = new Set<number>();
const lowestPort = 20_000;
/** Below Linux's ephemeral range (32768 and up by default); a cluster's membership ports must be ≤ 32767 too. */
const portsAbove = 12_000;

/**
 * A loopback TCP port that nothing listens on now, at random below the kernel's ephemeral range, where it picks the
 * port of a bind to port 0 and of a connection's local end. A port the kernel picked and this process let go can be
 * handed out again before the part it is for binds it: a dev server's Web UI found its port so taken (CI, 2026-12-01).
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 1000; tries++) {
    const port = lowestPort + Math.floor(Math.random() * portsAbove);
    if (!handedOut.has(port) && (await isPortFree(port))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${lowestPort}–${lowestPort + portsAbove - 1} after 1000 tries`);
}
