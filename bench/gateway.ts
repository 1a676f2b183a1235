// The gateway as its clients see it: JSON over HTTP/1.1 with keep-alive connections.
import { Agent, request } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { Job, JobStatus } from '../src/contract/job.js';
import { finishedStatuses } from '../src/workflows/job-state.js';

export interface Reply<T> {
  readonly status: number;
  readonly body: T;
}

/** What a benchmark job asks for; the gateway's defaults fill in the rest, as for any client. */
export interface JobBody {
  readonly type: 'sleep';
  readonly input: { readonly seconds: number };
  readonly priority?: 'high' | 'normal' | 'low';
  /** With one, a submit answered 503 is sent again, as the contract says: the same id answers the job if it was made. */
  readonly jobId?: string;
}

/** The job most scenarios run: all the work is the service's own. */
export const zeroSecondJob: JobBody = { type: 'sleep', input: { seconds: 0 } };

/** Thrown when the gateway answers a benchmark request with a status the scenario cannot go on from. */
export class GatewayReplyUnexpectedError extends Error {
  override readonly name = 'GatewayReplyUnexpectedError';
  constructor(
    readonly what: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`${what}: HTTP ${status} ${JSON.stringify(body).slice(0, 300)}`);
  }
}

/**
 * How long a request answered 503 (Temporal slow or away) is sent again. On the cluster on a slow 2-core machine, while
 * a backlog drained, cancels took 9.5 s at the median and one answered 503 after 11.8 s, then after 18.5 s: 30 s was
 * not enough.
 */
const unavailableRetryMs = 120_000;

/** Thrown when a request went out on a kept-alive connection the server had just closed. */
class StaleConnectionError extends Error {
  override readonly name = 'StaleConnectionError';
  constructor(cause: Error) {
    super('the server closed the kept-alive connection', { cause });
  }
}

/**
 * node:http with a keep-alive agent rather than fetch: undici's fetch costs several times more CPU per
 * request in Node 20, and the client must not be what limits the figures. With several API processes, the
 * requests go to each in turn, as a round-robin load balancer would send them.
 */
export class Gateway {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private sent = 0;

  constructor(
    private readonly host: string,
    private readonly ports: readonly number[],
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const port = this.ports[this.sent++ % this.ports.length]!;
    try {
      return await this.send<T>(port, method, path, payload);
    } catch (err) {
      // The server closed an idle keep-alive connection as this request went out on it: the request never
      // reached it, so it is sent again once (Node's documented remedy for this race), on a connection of its own:
      // the pool's other idle connections were likely closed at the same moment (a cluster CI run met two in a row).
      if (!(err instanceof StaleConnectionError)) throw err;
      return this.send<T>(port, method, path, payload, false);
    }
  }

  private send<T>(
    port: number,
    method: string,
    path: string,
    payload: string | undefined,
    agent: Agent | false = this.agent,
  ): Promise<Reply<T>> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.host,
          port,
          method,
          path,
          agent,
          headers:
            payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T });
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(req.reusedSocket && err.code === 'ECONNRESET' ? new StaleConnectionError(err) : err),
      );
      req.end(payload);
    });
  }

  /** The URL of `path` on the next API process in turn, for requests that need a connection of their own. */
  urlOf(path: string): string {
    return `http://${this.host}:${this.ports[this.sent++ % this.ports.length]!}${path}`;
  }

  /** POST /api/v1/jobs, with `?wait=N` when `waitSeconds` is given; a 503 sent again when the body has a jobId. */
  async submit(body: JobBody, waitSeconds?: number): Promise<Job> {
    const deadline = Date.now() + unavailableRetryMs;
    for (;;) {
      const reply = await this.request<Job>(
        'POST',
        `/api/v1/jobs${waitSeconds === undefined ? '' : `?wait=${waitSeconds}`}`,
        body,
      );
      if (reply.status === 200 || reply.status === 202) return reply.body;
      if (reply.status !== 503 || body.jobId === undefined || Date.now() > deadline)
        throw new GatewayReplyUnexpectedError('submit', reply.status, reply.body);
      await delay(250);
    }
  }

  /** GET /api/v1/jobs/{jobId}; a 503 (Temporal slow or away) answers undefined when `tolerateUnavailable`. */
  async getJob(jobId: string): Promise<Job>;
  async getJob(jobId: string, tolerateUnavailable: true): Promise<Job | undefined>;
  async getJob(jobId: string, tolerateUnavailable = false): Promise<Job | undefined> {
    const reply = await this.request<Job>('GET', `/api/v1/jobs/${encodeURIComponent(jobId)}`);
    if (reply.status === 200) return reply.body;
    if (reply.status === 503 && tolerateUnavailable) return undefined;
    throw new GatewayReplyUnexpectedError(`GET job ${jobId}`, reply.status, reply.body);
  }

  /**
   * POST /api/v1/jobs/{jobId}/cancel; a 503 (Temporal slow or away) is sent again, as the contract says.
   * A 503 may come after the cancel reached Temporal (the job could not be read in time after it): the cancel sent
   * again then finds the job already `cancelled` (409), which is the cancel done.
   */
  async cancel(jobId: string): Promise<Job> {
    const deadline = Date.now() + unavailableRetryMs;
    let unavailable = false;
    for (;;) {
      const reply = await this.request<Job>('POST', `/api/v1/jobs/${encodeURIComponent(jobId)}/cancel`);
      if (reply.status === 202) return reply.body;
      if (reply.status === 409 && unavailable) {
        const job = await this.getJob(jobId, true);
        if (job?.status === 'cancelled') return job;
      }
      if (reply.status !== 503 || Date.now() > deadline)
        throw new GatewayReplyUnexpectedError(`cancel ${jobId}`, reply.status, reply.body);
      unavailable = true;
      await delay(250);
    }
  }

  /** Polls the job every `intervalMs` until its status is one of `statuses`; a 503 means try again, as the contract says. */
  async followUntil(job: Job, statuses: ReadonlySet<JobStatus>, intervalMs = 50): Promise<Job> {
    let current = job;
    while (!statuses.has(current.status)) {
      await delay(intervalMs);
      current = (await this.getJob(job.jobId, true)) ?? current;
    }
    return current;
  }

  /**
   * Submits the job and follows it to its end as a client would: `POST ?wait=N` answers when the job
   * finishes; should N pass first, polling takes over. Throws unless the job succeeded.
   */
  async runJob(body: JobBody, waitSeconds = 60): Promise<Job> {
    const job = await this.followUntil(await this.submit(body, waitSeconds), finishedStatuses);
    if (job.status !== 'succeeded')
      throw new GatewayReplyUnexpectedError(`job ${job.jobId} ended ${job.status}`, 200, job);
    return job;
  }

  close(): void {
    this.agent.destroy();
  }
}
