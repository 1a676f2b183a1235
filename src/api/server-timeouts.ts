// The API server's own timeouts, set for the longest answer it holds open on purpose: a submit's `?wait`.
import type { Server } from 'node:http';
import { maxWaitSeconds } from '../contract/job.js';

/**
 * Node's timeouts for one API server (node:http defaults in brackets), so that a `?wait` of up to maxWaitSeconds is
 * answered and an idle keep-alive connection is closed by whoever sits in front of the API first:
 * - requestTimeout (300 s): the most a client may take to send its whole request (a wait begins once it is read), kept
 *   past the longest wait all the same;
 * - keepAliveTimeout (5 s): an idle connection is kept 65 s, past the 60 s idle timeout of common load balancers and
 *   reverse proxies, so they close it first and never send a request onto a connection being closed;
 * - headersTimeout (60 s): the most a client may take to send a request's headers, kept above keepAliveTimeout as Node
 *   asks;
 * - timeout (none): no socket inactivity limit, so a wait with no byte sent is not cut.
 */
export const serverTimeouts = {
  requestTimeout: (maxWaitSeconds + 10) * 1000,
  keepAliveTimeout: 65_000,
  headersTimeout: 66_000,
  timeout: 0,
} as const;

export function applyServerTimeouts(server: Server): void {
  Object.assign(server, serverTimeouts);
}
