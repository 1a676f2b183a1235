// The API server's own timeouts, set for the longest answer it holds open on purpose: a submit's `?wait`.
import type { Server } from 'node:http';
import { maxWaitSeconds } from '../contract/job.js';

/**
 * Node's timeouts for one API server (node:http defaults in brackets), so that a `?wait` of up to maxWaitSeconds is
 * answered:
 * - requestTimeout (300 s): the most a client may take to send its whole request (a wait begins once it is read), kept
 *   past the longest wait all the same;
 * - timeout (none): no socket inactivity limit, so a wait with no byte sent is not cut.
 * keepAliveTimeout stays Node's 5 s: an idle connection (an abandoned event stream's among them) is closed soon; a
 * proxy that pools connections to the API keeps them idle for less (docs/operations.md). headersTimeout stays 60 s.
 */
export const serverTimeouts = {
  requestTimeout: (maxWaitSeconds + 10) * 1000,
  timeout: 0,
} as const;

export function applyServerTimeouts(server: Server): void {
  Object.assign(server, serverTimeouts);
}
