import { defineJobType, UnrecoverableError } from '@durable-jobs/worker';
import { z } from 'zod';

/** Calls out, and can fail both ways: a 4xx answer ends the job at once, a 5xx or a network error is retried. */
export const checkUrl = defineJobType({
  name: 'check-url',
  description:
    'GETs `url` and reports its status and how long it took; 4xx fails the job, 5xx and network errors retry.',
  input: z.object({
    url: z.url({ protocol: /^https?$/ }),
    timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  }),
  result: z.object({ status: z.number(), ms: z.number(), bytes: z.number() }),
  defaults: {
    timeoutSeconds: 120,
    heartbeatTimeoutSeconds: 10,
    retry: { maxAttempts: 4, initialIntervalSeconds: 2, backoffCoefficient: 2 },
  },
  async run({ url, timeoutMs }, ctx) {
    ctx.progress(null, `GET ${url} (attempt ${ctx.attempt})`);
    const started = performance.now();
    // Cancelling the job aborts the request too.
    const response = await fetch(url, { signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]) });
    const body = await response.arrayBuffer();
    const ms = Math.round(performance.now() - started);
    if (response.status >= 400 && response.status < 500)
      throw new UnrecoverableError(`${url} answered ${response.status}: retrying will not help`);
    if (response.status >= 500) throw new Error(`${url} answered ${response.status}`);
    ctx.log.info('checked', { url, status: response.status, ms });
    return { status: response.status, ms, bytes: body.byteLength };
  },
});
