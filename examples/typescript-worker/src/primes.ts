import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { defineJobType } from '@durable-jobs/worker';
import { z } from 'zod';

/** Numbers sieved between two yields to the event loop, which lets heartbeats (and so cancellation) through. */
const chunk = 1_000_000;

/** CPU-bound, with progress: a sieve of Eratosthenes, chunked so that a cancel stops it within a second. */
export const primes = defineJobType({
  name: 'primes',
  description: 'Counts the primes below `below` (a sieve of Eratosthenes), reporting progress as it sieves.',
  input: z.object({
    below: z.number().int().min(2).max(200_000_000).describe('count the primes smaller than this'),
  }),
  result: z.object({ below: z.number(), count: z.number(), largest: z.number().nullable() }),
  defaults: { timeoutSeconds: 600, heartbeatTimeoutSeconds: 10, retry: { maxAttempts: 3 } },
  async run({ below }, ctx) {
    ctx.log.info('sieving', { below });
    const composite = new Uint8Array(below);
    const limit = Math.floor(Math.sqrt(below - 1));
    let done = 0;
    for (let n = 2; n <= limit; n++) {
      if (composite[n]) continue;
      for (let multiple = n * n; multiple < below; multiple += n) {
        composite[multiple] = 1;
        if (++done % chunk === 0) {
          ctx.progress(Math.min(99, Math.round((100 * n) / limit)), `sieving by ${n}`);
          await yieldToEventLoop();
          ctx.signal.throwIfAborted();
        }
      }
    }
    let count = 0;
    let largest: number | null = null;
    for (let n = 2; n < below; n++) {
      if (composite[n]) continue;
      count++;
      largest = n;
    }
    ctx.progress(100, `${count} primes`);
    return { below, count, largest };
  },
});
