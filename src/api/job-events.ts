import { PassThrough } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { Context } from 'koa';
import type { Job, JobState } from '../contract/job.js';
import { isFinished } from '../workflows/job-state.js';
import type { Jobs } from '../jobs/index.js';

/** Progress shows in polls within about a second; the stream looks as often. */
export const eventPollIntervalMs = 500;
/** A comment line this often keeps proxies from closing a quiet stream. */
export const keepAliveIntervalMs = 15_000;

/** The parts of a job whose change is worth an event. */
function fingerprint(state: JobState): string {
  return JSON.stringify([state.status, state.attempt, state.progress, state.lastError]);
}

function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Streams `job` events (Server-Sent Events) for one job until it finishes, the client goes away or the
 * server shuts down.
 * The job must exist: the caller reads it first, so a missing job is a plain 404.
 */
export function streamJobEvents(
  ctx: Context,
  jobs: Pick<Jobs, 'reads' | 'toJson'>,
  { tenant, jobId }: { tenant: string; jobId: string },
  first: JobState,
  closing: AbortSignal,
): void {
  const stream = new PassThrough();
  const stop = new AbortController();
  ctx.req.once('close', () => stop.abort());
  closing.addEventListener('abort', () => stop.abort(), { once: true, signal: stop.signal });
  ctx.status = 200;
  ctx.type = 'text/event-stream';
  ctx.set('Cache-Control', 'no-cache');
  ctx.set('X-Accel-Buffering', 'no');
  ctx.body = stream;

  const send = (state: JobState): void => {
    stream.write(sseEvent('job', jobs.toJson(tenant, state) satisfies Job));
  };
  const keepAlive = setInterval(() => stream.write(': keep-alive\n\n'), keepAliveIntervalMs);

  const follow = async (): Promise<void> => {
    let last = fingerprint(first);
    send(first);
    let finished = isFinished(first.status);
    while (!finished && !stop.signal.aborted) {
      await delay(eventPollIntervalMs, undefined, { signal: stop.signal }).catch(() => undefined);
      if (stop.signal.aborted) break;
      const state = await jobs.reads.readOutsideRequest(tenant, jobId).catch(() => undefined);
      if (!state) continue;
      finished = isFinished(state.status);
      const current = fingerprint(state);
      if (current !== last || finished) {
        last = current;
        send(state);
      }
    }
  };
  void follow().finally(() => {
    clearInterval(keepAlive);
    stream.end();
  });
}
