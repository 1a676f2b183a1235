import { createHmac } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { log } from '@temporalio/activity';
import { hostKey, type Config } from '../config.js';
import { toJobJson, type JobLinkSettings } from '../contract/job-json.js';
import type { CallbackActivities, CallbackDelivery } from '../workflows/callback-workflow.js';
import {
  addressRefusal,
  callbackUrlRefusal,
  literalAddress,
  callbackRefusalRemedy,
  targetKey,
} from './callback-target.js';
import { UnrecoverableError } from '@durable-jobs/worker';

export interface CallbackSettings extends JobLinkSettings {
  /** CALLBACK_SECRET: the HMAC key of X-Signature. */
  readonly secret: string | undefined;
  /** CALLBACK_ALLOW_HOSTS: the `host:port`s reachable over http or on a non-public address. */
  readonly allowHosts: readonly string[];
  /** CALLBACK_CA_FILE's content: CA certificates trusted besides the system's. */
  readonly extraCa?: string;
  /** Resolves a receiver's host name; dns.lookup by default. */
  readonly lookup?: HostLookup;
}

/** Every address a host name resolves to (dns.lookup, as a connection would). */
export type HostLookup = (hostname: string) => Promise<readonly LookupAddress[]>;

export const lookupAllAddresses: HostLookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * Thrown when a callback's host resolves to an address that is not public. Its message, which the job's submitter
 * reads in `callback.lastError`, names neither the address nor its kind: the worker's resolver would otherwise tell any
 * tenant what the operator's internal names resolve to. The worker's log has both.
 */
export class CallbackTargetRefusedError extends Error {
  override readonly name = 'CallbackTargetRefusedError';
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly kind: string,
  ) {
    super(`callbackUrl refused: ${hostname} resolves to an address that is not public; ${callbackRefusalRemedy}`);
  }
}

/**
 * The address to deliver a callback to: its host resolved now, and refused if any address it resolves to is not
 * public (CallbackTargetRefusedError), unless its host:port is allow-listed. The caller connects to
 * this address, so no second lookup can answer differently.
 */
export async function resolveCallbackTarget(
  url: URL,
  allowed: readonly string[],
  lookup: HostLookup,
): Promise<LookupAddress> {
  const refusal = callbackUrlRefusal(url, allowed);
  if (refusal) throw new UnrecoverableError(`callbackUrl refused: ${refusal}`);
  const literal = literalAddress(url);
  if (literal) return { address: literal, family: isIP(literal) };
  // `localhost.` is `localhost`: the resolver may not read /etc/hosts for a name with its root dot.
  const addresses = await lookup(hostKey(url.hostname));
  if (addresses.length === 0)
    throw new UnrecoverableError(`callbackUrl refused: ${url.hostname} resolves to no address`);
  if (!allowed.includes(targetKey(url))) {
    for (const { address } of addresses) {
      const kind = addressRefusal(address);
      if (kind) throw new CallbackTargetRefusedError(url.hostname, address, kind);
    }
  }
  return addresses[0]!;
}

const requestTimeoutMs = 10_000;

/** `sha256=<hex HMAC-SHA256 of the body>`: what a receiver recomputes with the shared secret to trust a callback. */
export function callbackSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The worker's callback settings from its configuration; reads CALLBACK_CA_FILE. */
export function callbackSettingsOf(config: Config): CallbackSettings {
  return {
    secret: config.CALLBACK_SECRET,
    uiUrl: config.TEMPORAL_UI_URL,
    traceUrl: config.TRACE_UI_URL,
    namespace: config.TEMPORAL_NAMESPACE,
    allowHosts: config.CALLBACK_ALLOW_HOSTS ?? [],
    ...(config.CALLBACK_CA_FILE ? { extraCa: readFileSync(config.CALLBACK_CA_FILE, 'utf8') } : {}),
  };
}

/** Thrown by the callback delivery when the receiver does not answer 2xx. */
export class CallbackRefusedError extends Error {
  override readonly name = 'CallbackRefusedError';
}

/** Thrown by the callback delivery when the receiver has not answered in full within the request's time: retried. */
export class CallbackTimedOutError extends Error {
  override readonly name = 'CallbackTimedOutError';
}

export function createCallbackActivities(settings: CallbackSettings): CallbackActivities {
  return {
    async deliverCallback({ url, jobWorkflowId, job }: CallbackDelivery): Promise<void> {
      if (!settings.secret) throw new UnrecoverableError('CALLBACK_SECRET is not set on the worker');
      const target = new URL(url);
      const address = await resolveCallbackTarget(
        target,
        settings.allowHosts,
        settings.lookup ?? lookupAllAddresses,
      ).catch((err: unknown) => {
        if (err instanceof CallbackTargetRefusedError)
          log.warn('callback refused: its host resolves to an address that is not public', {
            jobWorkflowId,
            hostname: err.hostname,
            address: err.address,
            kind: err.kind,
          });
        // The delivery ends at once: the same name resolves the same way at the next attempt.
        throw err instanceof CallbackTargetRefusedError ? new UnrecoverableError(err.message) : err;
      });
      const body = JSON.stringify(toJobJson(job, jobWorkflowId, settings));
      const status = await post(
        target,
        address,
        body,
        {
          'content-type': 'application/json',
          'user-agent': 'durable-jobs',
          'x-job-id': job.jobId,
          'x-signature': callbackSignature(settings.secret, body),
        },
        settings.extraCa,
      );
      if (status >= 300 && status < 400) {
        throw new UnrecoverableError(
          `the callback answered ${status}, a redirect, which is not followed: give the final URL as callbackUrl`,
        );
      }
      if (status < 200 || status >= 300) throw new CallbackRefusedError(`the callback answered ${status}`);
    },
  };
}

/** POSTs `body` to `url` over a connection to `address`, the one that was checked: no second lookup. Answers the status. */
function post(
  url: URL,
  address: LookupAddress,
  body: string,
  headers: Record<string, string>,
  extraCa: string | undefined,
): Promise<number> {
  const timeout = AbortSignal.timeout(requestTimeoutMs);
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [address]);
    else callback(null, address.address, address.family);
  };
  const options: RequestOptions = {
    method: 'POST',
    headers,
    lookup,
    // A fresh connection each time: no pooled socket outlives the check of its address.
    agent: false,
    signal: timeout,
    ...(extraCa ? { ca: [...rootCertificates, extraCa] } : {}),
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // The timeout's abort says only "The operation was aborted": the submitter reads this error in callback.lastError.
    const fail = (err: Error): void =>
      reject(
        timeout.aborted
          ? new CallbackTimedOutError(`the callback did not answer within ${requestTimeoutMs / 1000} s`, { cause: err })
          : err,
      );
    const request = send(url, options, (response: IncomingMessage) => {
      response.resume();
      response.on('error', fail);
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', fail);
    request.end(body);
  });
}
