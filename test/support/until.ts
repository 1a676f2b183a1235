import { setTimeout as delay } from 'node:timers/promises';

/**
 * Reads `read` every 100 ms until `done` holds for what it answers, and returns that answer. A read that throws or
 * answers undefined counts as not yet (a part still starting); past `ms` it throws, naming `what` and the last answer.
 */
export async function until<T>(
  what: string,
  read: () => Promise<T | undefined>,
  done: (value: T) => boolean,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    last = await read().catch(() => last);
    if (last !== undefined && done(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(last)})`);
    await delay(100);
  }
}
