// The names an API without keys answers to. Open, it listens on loopback, but a web page can re-resolve its own name
// to 127.0.0.1 (DNS rebinding): its browser then takes the API for the page's own origin, and the page reads every job
// and submits commands. Such a request still carries the page's name in Host, and no site is served as localhost.
import { isIPv4, isIPv6 } from 'node:net';
import type { Context, Next } from 'koa';
import { hostKey } from '../config.js';
import { hookDeliveryPath } from '../contract/hooks.js';
import { quoted } from '../jobs/suggest.js';
import { ApiError } from './errors.js';

const hostRule =
  'with no API keys configured, this API answers only to localhost, *.localhost, IP addresses and the names in ' +
  "API_ALLOW_HOSTS (under any other name a web page's own could have been re-resolved to this machine: DNS rebinding)";

/** Thrown when an API without keys is called under a name it does not answer to, or with no one Host header. */
export class HostNotAllowedError extends ApiError {
  override readonly name = 'HostNotAllowedError';
  constructor(problem: string, remedy: string) {
    super('forbidden', `${problem}; ${hostRule}: ${remedy}`);
  }
}

/** What the Host header names: lower case, without port or trailing dot, an IPv6 address without its brackets. */
export function hostOf(header: string): { name: string; ip: boolean } | undefined {
  const bracketed = /^\[([^\]]+)\](?::\d*)?$/.exec(header);
  if (bracketed) return isIPv6(bracketed[1]!) ? { name: bracketed[1]!.toLowerCase(), ip: true } : undefined;
  const plain = /^([^:[\]]+)(?::\d*)?$/.exec(header);
  if (!plain) return undefined;
  const name = hostKey(plain[1]!);
  // Only the dotted quad: a browser writes any other spelling of an IPv4 address (0x7f000001, 2130706433, 127.1)
  // as one, so those come from other clients, which may list them.
  return { name, ip: isIPv4(name) };
}

/** A name no page can be served under but this machine: RFC 6761's, which browsers resolve to loopback themselves. */
function isLocalhost(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost');
}

/** Probes: supervisors and load balancers send them under any name, and their answers tell a page nothing. */
export const probePaths: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

/** The probes, and a hook's delivery, which its signature authenticates (a tunnel to a laptop sends its own name). */
function answersUnderAnyName(method: string, path: string): boolean {
  return (
    ((method === 'GET' || method === 'HEAD') && probePaths.has(path)) ||
    (method === 'POST' && hookDeliveryPath.test(path))
  );
}

/**
 * Refuses a request whose Host is not localhost, an IP address or one of `allowed` (`*`: any), on every route but
 * the probes and hook deliveries. Only for an API without keys: with keys, a rebinding page has none to send.
 */
export function refuseUnknownHosts(allowed: readonly string[]) {
  const names: ReadonlySet<string> = new Set(allowed);
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!names.has('*') && !answersUnderAnyName(ctx.method, ctx.path)) {
      // Node keeps the first of several Host headers: a proxy in front might have read another.
      const sent = ctx.req.rawHeaders.filter((field, i) => i % 2 === 0 && /^host$/i.test(field)).length;
      if (sent !== 1)
        throw new HostNotAllowedError(
          sent === 0 ? 'the request has no Host header' : `the request has ${sent} Host headers`,
          'send one Host header',
        );
      const header = ctx.req.headers.host ?? '';
      const host = hostOf(header);
      if (!host)
        throw new HostNotAllowedError(
          `the Host header ${quoted(header)} names no host`,
          'send one naming the host the API is reached at',
        );
      if (!host.ip && !isLocalhost(host.name) && !names.has(host.name))
        throw new HostNotAllowedError(
          `the Host header names ${quoted(host.name)}`,
          `to reach it under that name, add it to API_ALLOW_HOSTS (comma-separated), or configure API keys (API_KEYS or API_KEYS_FILE)`,
        );
    }
    await next();
  };
}
