// The ports a launcher needs, checked before it starts anything. Plain Node.js on purpose: dev/run.mjs checks
// `npm run api` and `npm run worker` with it.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The ports `parts` listen on with `config` (src/config.ts's), each with the variable that moves it. The dev server
 * listens on loopback (the SDK's and the CLI's default); the API and a worker's metrics on HOST.
 */
export function portsOf(config, parts) {
  const ports = [];
  if (parts.includes('temporal')) {
    ports.push(
      {
        port: config.TEMPORAL_DEV_PORT,
        host: '127.0.0.1',
        variable: 'TEMPORAL_DEV_PORT',
        what: 'the Temporal dev server',
      },
      {
        port: config.TEMPORAL_DEV_UI_PORT,
        host: '127.0.0.1',
        variable: 'TEMPORAL_DEV_UI_PORT',
        what: "the dev server's Web UI",
      },
    );
  }
  // PORT=0 asks the kernel for a free port: nothing to check.
  if (parts.includes('api') && config.PORT !== 0)
    ports.push({ port: config.PORT, host: config.listenHost, variable: 'PORT', what: 'the API' });
  if (parts.includes('worker') && config.WORKER_METRICS_PORT !== undefined)
    ports.push({
      port: config.WORKER_METRICS_PORT,
      host: config.listenHost,
      variable: 'WORKER_METRICS_PORT',
      what: "the worker's metrics",
    });
  return ports;
}

/** Resolves to the error code binding `host:port` fails with right now, undefined when it is free. */
function bindError({ port, host }) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err) => resolve(err.code ?? err.message));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** One line for each port of `ports` that is taken (or named twice), empty when all are free. */
export async function portProblems(ports) {
  const problems = [];
  ports.forEach((entry, index) => {
    const first = ports.findIndex(({ port }) => port === entry.port);
    if (first < index)
      problems.push(
        `${ports[first].variable} and ${entry.variable} both name port ${entry.port}: set one of them to another port`,
      );
  });
  for (const entry of ports) {
    const code = await bindError(entry);
    if (code === undefined) continue;
    const taken = code === 'EADDRINUSE' ? 'is in use' : `cannot be bound (${code})`;
    problems.push(
      `port ${entry.port} on ${entry.host} ${taken}: ${entry.what} needs it; stop what holds it, or set ${entry.variable} to a free port`,
    );
  }
  return problems;
}

/** The inodes of the sockets listening on TCP `port` (IPv4 and IPv6), from Linux's /proc/net. */
function listeningInodes(port) {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) => {
    const rows = existsSync(table) ? readFileSync(table, 'utf8').trim().split('\n').slice(1) : [];
    return rows
      .map((row) => row.trim().split(/\s+/))
      .filter(([, local, , state]) => state === '0A' && local.endsWith(`:${hexPort}`))
      .map((fields) => fields[9]);
  });
}

/**
 * Whether process `pid` holds a socket listening on `port`: so what answers there is the process a launcher started,
 * not another one. Undefined where Linux's /proc is not there to tell.
 */
export function listensOn(pid, port) {
  if (!existsSync('/proc/net/tcp')) return undefined;
  const inodes = new Set(listeningInodes(port).map((inode) => `socket:[${inode}]`));
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        return false; // closed meanwhile
      }
    });
  } catch {
    return false; // gone
  }
}
