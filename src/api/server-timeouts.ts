// The API server's own timeouts: a submit's `?wait` holds its answer up to maxWaitSeconds, and a client still sending
// its request is cut off far sooner.
import type { Server } from 'node:http';

/**
 * Node's timeouts for one API server (node:http defaults in brackets):
 * - requestTimeout (300 s): the most a client may take to send its whole request, headers and body. It ends when the
 *   request is read, before any wait begins, so it need not cover one; at 60 s, a client that trickles a body (one
 *   refused with 401 among them, whose body Node reads to keep the connection) holds its connection no longer than
 *   one that trickles its headers (headersTimeout, 60 s).
 * - timeout (none): no socket inactivity limit, so a wait with no byte sent is not cut.
 * keepAliveTimeout stays Node's 5 s: an idle connection (an abandoned event stream's among them) is closed soon; a
 * proxy that pools connections to the API keeps them idle for less (docs/operations.md).
 */
export const serverTimeouts = {
  requestTimeout: 60_000,
  headersTimeout: 60_000,
  timeout: 0,
} as const;

export function applyServerTimeouts(server: Server): void {
  Object.assign(server, serverTimeouts);
}
