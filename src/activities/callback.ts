import { createHmac } from 'node:crypto';
import { toJobJson, type JobLinkSettings } from '../contract/job-json.js';
import type { CallbackActivities, CallbackDelivery } from '../workflows/callback-workflow.js';
import { UnrecoverableError } from './job-type.js';

export interface CallbackSettings extends JobLinkSettings {
  /** CALLBACK_SECRET: the HMAC key of X-Signature. */
  readonly secret: string | undefined;
}

const requestTimeoutMs = 10_000;

/** `sha256=<hex HMAC-SHA256 of the body>`: what a receiver recomputes with the shared secret to trust a callback. */
export function callbackSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Thrown by the callback delivery when the receiver does not answer 2xx. */
export class CallbackRefusedError extends Error {
  override readonly name = 'CallbackRefusedError';
}

export function createCallbackActivities(settings: CallbackSettings): CallbackActivities {
  return {
    async deliverCallback({ url, jobWorkflowId, job }: CallbackDelivery): Promise<void> {
      if (!settings.secret) throw new UnrecoverableError('CALLBACK_SECRET is not set on the worker');
      const body = JSON.stringify(toJobJson(job, jobWorkflowId, settings));
      const response = await fetch(url, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'durable-jobs',
          'x-job-id': job.jobId,
          'x-signature': callbackSignature(settings.secret, body),
        },
        signal: AbortSignal.timeout(requestTimeoutMs),
        redirect: 'manual',
      });
      await response.body?.cancel();
      if (!response.ok) throw new CallbackRefusedError(`the callback answered ${response.status}`);
    },
  };
}
