// Event streams (Server-Sent Events) of jobs. Every stream of one job on this process follows one feed, which reads
// the job through the poll cache (so polls share its reads too) and writes each change once, as the same text, to
// every stream: a stream costs its socket and a place in its feed, not reads of Temporal.
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { Context } from 'koa';
import type { Job, JobState } from '../contract/job.js';
import { maxLogPageLines, type JobLogLine } from '../contract/logs.js';
import { isFinished, workflowIdOf } from '../workflows/job-state.js';
import { pollMaxAgeMs, writtenJson, type Jobs } from '../jobs/index.js';
import type { ApiMetrics } from './metrics.js';
import { TenantPlaces } from './rate-limits.js';

/** Progress shows in polls within about a second; the feed looks as often. */
export const eventPollIntervalMs = 500;
/** A running attempt's new log lines are looked for this often: its worker heartbeats them every second. */
export const logPollIntervalMs = 1000;
/** A comment line this often keeps proxies from closing a quiet stream. */
export const keepAliveIntervalMs = 15_000;
/** A stream with more than this unsent is sent no job state until its reader catches up; it gets the newest then. */
export const statesHeldBackBytes = 64 * 1024;
/**
 * A stream with more than this unsent beyond its last job state is closed: its reader stopped, and log lines cannot be
 * skipped as states are. EventSource reconnects; the lines are in GET /api/v1/jobs/{jobId}/logs.
 */
export const streamClosedBehindBytes = 256 * 1024;

/** The parts of a job whose change is worth an event. */
function fingerprint(state: JobState): string {
  return JSON.stringify([state.status, state.attempt, state.progress, state.lastError]);
}

/** An event of the stream: its data the JSON of `data` on one line (a job's held input written as it is). */
function sseEvent(event: string, data: unknown): Buffer {
  return Buffer.concat([Buffer.from(`event: ${event}\ndata: `), writtenJson(data), Buffer.from('\n\n')]);
}

/**
 * One open stream: its body (written with push: a PassThrough counts a chunk both as written and as readable while
 * its reader is behind), its response, and the fingerprint and size of the last state it sent.
 */
interface Stream {
  readonly body: Readable;
  readonly res: ServerResponse;
  last: string;
  lastBytes: number;
}

/** Bytes written to a stream that its reader has not taken: in the stream, and in its socket's buffer. */
function unsentBytes(stream: Stream): number {
  return stream.body.readableLength + stream.res.writableLength;
}

type FeedJobs = Pick<Jobs, 'reads' | 'toJson' | 'logs'>;

/** The one reader of a job on this process while any stream follows it. */
class JobFeed {
  readonly streams = new Set<Stream>();
  private readonly stop = new AbortController();
  /** The attempt whose log lines the streams follow (0: none yet), and the last seq they were sent. */
  private logged = { attempt: 0, seq: 0 };
  private logsReadAt = 0;

  /** A feed that stopped (its last stream left, the job finished, the server shuts down) takes no more streams. */
  get done(): boolean {
    return this.stop.signal.aborted;
  }

  constructor(
    private readonly jobs: FeedJobs,
    private readonly tenant: string,
    private readonly jobId: string,
    closing: AbortSignal,
    private readonly ended: () => void,
    private readonly closedBehind: () => void,
  ) {
    closing.addEventListener('abort', () => this.stop.abort(), { once: true, signal: this.stop.signal });
  }

  /** Sends the stream `first` (the state its request read, unfinished), then every change the feed reads. */
  add(stream: Stream, first: JobState): void {
    this.send([stream], first);
    this.streams.add(stream);
    if (this.streams.size === 1) void this.follow();
  }

  remove(stream: Stream): void {
    this.streams.delete(stream);
    if (this.streams.size === 0) this.stop.abort();
  }

  /**
   * The job's state is read once per interval for all the streams, and serialized once for those it changed for. A
   * reader behind is sent the newest state once it catches up, not every one it missed; the finished state always.
   */
  send(streams: Iterable<Stream>, state: JobState): void {
    const current = fingerprint(state);
    const finished = isFinished(state.status);
    let event: Buffer | undefined;
    for (const stream of streams) {
      if (stream.last === current && !finished) continue;
      if (!finished && unsentBytes(stream) > statesHeldBackBytes) continue;
      event ??= sseEvent('job', this.jobs.toJson(this.tenant, state) satisfies Job);
      stream.last = current;
      stream.lastBytes = event.length;
      stream.body.push(event);
    }
  }

  /** Writes what every stream must get (a log line, a keep-alive), closing the streams whose readers stopped. */
  private write(event: Buffer | string): void {
    for (const stream of this.streams) {
      if (unsentBytes(stream) - stream.lastBytes > streamClosedBehindBytes) {
        this.remove(stream);
        stream.body.destroy();
        stream.res.destroy();
        this.closedBehind();
        continue;
      }
      stream.body.push(event);
    }
  }

  /**
   * The lines logged since the last call: the running attempt's from its heartbeat, at most every
   * `logPollIntervalMs`; once that attempt has ended, the rest of its lines from its history.
   */
  private async newLogLines(state: JobState): Promise<JobLogLine[]> {
    const { attempt, seq } = this.logged;
    if (attempt > 0 && (state.attempt !== attempt || state.status !== 'running')) {
      const rest: JobLogLine[] = [];
      for (let after = seq, more = true; more;) {
        const page = await this.jobs.logs.page(this.tenant, this.jobId, { attempt, after, limit: maxLogPageLines });
        // The attempt's end is not in the history yet: look again at the next read.
        if (!page.attemptEnded) return rest;
        rest.push(...page.lines);
        this.logged = { attempt, seq: page.nextAfter };
        after = page.nextAfter;
        more = page.hasMore;
      }
      this.logged = { attempt: 0, seq: 0 };
      return rest;
    }
    const now = performance.now();
    if (state.status !== 'running' || state.attempt === 0 || now - this.logsReadAt < logPollIntervalMs) return [];
    this.logsReadAt = now;
    const lines = (
      await this.jobs.logs.runningTail(this.tenant, this.jobId, state.attempt, state.traceId ?? null)
    ).filter((line) => line.seq > (attempt === state.attempt ? seq : 0));
    this.logged = { attempt: state.attempt, seq: lines.at(-1)?.seq ?? (attempt === state.attempt ? seq : 0) };
    return lines;
  }

  private async follow(): Promise<void> {
    const { signal } = this.stop;
    const keepAlive = setInterval(() => this.write(': keep-alive\n\n'), keepAliveIntervalMs);
    try {
      while (!signal.aborted) {
        await delay(eventPollIntervalMs, undefined, { signal }).catch(() => undefined);
        if (signal.aborted) break;
        const state = await this.jobs.reads.read(this.tenant, this.jobId, pollMaxAgeMs).catch(() => undefined);
        if (!state || signal.aborted) continue;
        const lines = await this.newLogLines(state).catch(() => []);
        for (const line of lines) this.write(sseEvent('log', line));
        this.send(this.streams, state);
        if (isFinished(state.status)) break;
      }
    } finally {
      clearInterval(keepAlive);
      this.stop.abort();
      for (const stream of this.streams) stream.body.push(null);
      this.streams.clear();
      this.ended();
    }
  }
}

/** Every event stream of this process: one feed per job, and each tenant's streams counted against its cap. */
export class JobEventFeeds {
  private readonly feeds = new Map<string, JobFeed>();
  private readonly streams: TenantPlaces;

  constructor(
    private readonly jobs: FeedJobs,
    maxStreamsPerTenant: number,
    private readonly closing: AbortSignal,
    private readonly metrics: Pick<ApiMetrics, 'eventStreamsClosedBehind'>,
  ) {
    this.streams = new TenantPlaces(
      maxStreamsPerTenant,
      (tenant, open) =>
        `tenant "${tenant}" has ${open} event streams open on this API process, the most JOBS_MAX_STREAMS_PER_TENANT allows; close one first, or poll GET /api/v1/jobs/{jobId} instead`,
    );
  }

  /** Bytes written to every open stream that their readers have not taken yet. */
  unsentBytes(): number {
    let bytes = 0;
    for (const feed of this.feeds.values()) for (const stream of feed.streams) bytes += unsentBytes(stream);
    return bytes;
  }

  /** Takes one of the tenant's stream places, or throws RateLimitedError at the cap; the answer gives it back. */
  admit(tenant: string): () => void {
    return this.streams.take(tenant);
  }

  /**
   * Answers the request with the job's event stream until the job finishes, the client goes away or the server
   * shuts down; `release` (from `admit`) is called when it ends. The job must exist: the caller reads it first, so
   * a missing job is a plain 404.
   */
  stream(
    ctx: Context,
    { tenant, jobId }: { tenant: string; jobId: string },
    first: JobState,
    release: () => void,
  ): void {
    // Nothing to read on demand: what the feed pushes is what there is.
    const body = new Readable({ read() {} });
    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Accel-Buffering', 'no');
    ctx.body = body;
    const stream: Stream = { body, res: ctx.res, last: '', lastBytes: 0 };
    body.once('close', release);
    if (isFinished(first.status) || this.closing.aborted) {
      body.push(sseEvent('job', this.jobs.toJson(tenant, first) satisfies Job));
      body.push(null);
      return;
    }
    const key = workflowIdOf(tenant, jobId);
    let feed = this.feeds.get(key);
    if (!feed || feed.done) {
      const created = new JobFeed(
        this.jobs,
        tenant,
        jobId,
        this.closing,
        () => {
          if (this.feeds.get(key) === created) this.feeds.delete(key);
        },
        () => this.metrics.eventStreamsClosedBehind.inc(),
      );
      this.feeds.set(key, (feed = created));
    }
    const joined = feed;
    ctx.res.once('close', () => {
      joined.remove(stream);
      body.destroy();
    });
    joined.add(stream, first);
  }
}
