// The TypeScript client of the durable-jobs REST API: openapi-fetch over the types that
// dev/generate-client.ts generates from the OpenAPI document (schema.ts), with the calls a program
// makes about jobs wrapped to answer a job or throw a typed error.
import createClient, { type Client } from 'openapi-fetch';
import { EventTooLargeError, readEventStream, type ServerSentEvent } from './event-stream.js';
import type { components, paths } from './schema.js';

export type { components, paths };
export type Job = components['schemas']['Job'];
export type JobStatus = Job['status'];
export type JobList = components['schemas']['JobList'];
export type SubmitJobBody = components['schemas']['SubmitJobBody'];
export type ListJobsQuery = NonNullable<paths['/api/v1/jobs']['get']['parameters']['query']>;
export type JobCounts = components['schemas']['JobCounts'];
export type JobCountsQuery = NonNullable<paths['/api/v1/jobs/counts']['get']['parameters']['query']>;
export type ErrorBody = components['schemas']['ErrorBody'];
export type ErrorCode = ErrorBody['error']['code'];
export type Whoami = components['schemas']['Whoami'];
export type JobAttempts = components['schemas']['JobAttempts'];
export type JobLogs = components['schemas']['JobLogs'];
export type JobLogLine = components['schemas']['JobLogLine'];
export type JobLogsQuery = NonNullable<paths['/api/v1/jobs/{jobId}/logs']['get']['parameters']['query']>;
export type BulkJobsResult = components['schemas']['BulkJobsResult'];

/**
 * What a job's event stream sends, in its order: the job when it changes (`job`), and each line its running attempt
 * logs (`log`); an attempt's last lines come before the `job` event that says it ended.
 */
export type JobEvent =
  { readonly type: 'job'; readonly job: Job } | { readonly type: 'log'; readonly line: JobLogLine };

// Written out rather than read from the document (types only reach run time this way): a new status in
// the contract fails to compile here until it is placed.
const finishedStatus = {
  queued: false,
  running: false,
  succeeded: true,
  failed: true,
  timed_out: true,
  cancelled: true,
} as const satisfies Record<JobStatus, boolean>;

/** True once the job is in an end state: succeeded, failed, timed_out or cancelled. */
export function isJobFinished(job: Job): boolean {
  return finishedStatus[job.status];
}

/** Thrown by the client when the API refuses a request; carries the contract's error body and the HTTP status. */
export class JobsApiError extends Error {
  override readonly name = 'JobsApiError';

  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: readonly unknown[] | undefined,
    /** From Retry-After (429 rate_limited, 503 unavailable): when trying again makes sense. */
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(message);
  }
}

/** Thrown by the client when an answer is not one the contract allows (an error without its error body, a missing body). */
export class JobsResponseInvalidError extends Error {
  override readonly name = 'JobsResponseInvalidError';

  constructor(
    readonly status: number,
    readonly body: unknown,
    /** What is wrong with it, when more is known than that it is outside the contract. */
    reason?: string,
  ) {
    super(
      `the jobs API answered ${status} with ${reason ?? (body === undefined || body === '' ? 'no body' : 'a body outside the contract')}`,
    );
  }
}

/** Thrown by `waitFor` when the job has not finished within `timeoutMs`; `lastSeen` is its last poll. */
export class JobWaitTimeoutError extends Error {
  override readonly name = 'JobWaitTimeoutError';

  constructor(
    readonly lastSeen: Job,
    readonly timeoutMs: number,
  ) {
    super(`job ${lastSeen.jobId} did not finish within ${timeoutMs} ms; it is ${lastSeen.status}`);
  }
}

export interface JobsClientOptions {
  /** Where the API answers, e.g. `http://localhost:3000`. */
  readonly baseUrl: string;
  /** The tenant's key, sent as `Authorization: Bearer <key>`; a function is asked again before each request. */
  readonly apiKey?: string | (() => string | undefined);
}

export interface SubmitOptions {
  /**
   * Seconds (0–300) the API may hold the answer until the job finishes (`?wait`). Node's fetch gives up on an answer
   * whose headers take over 300 s (undici's headersTimeout): past about 290, pass a dispatcher with a longer one.
   */
  readonly wait?: number;
}

export interface WaitOptions {
  /** How long to wait for an end state before `JobWaitTimeoutError` (default 60 000). */
  readonly timeoutMs?: number;
  /** Time between polls (default 500: the API sees progress about once a second). */
  readonly intervalMs?: number;
}

function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const { error } = body;
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    'message' in error &&
    typeof error.message === 'string'
  );
}

function errorFrom(response: Response, body: unknown): Error {
  if (!isErrorBody(body)) return new JobsResponseInvalidError(response.status, body);
  const retryAfter = response.headers.get('retry-after');
  return new JobsApiError(
    response.status,
    body.error.code,
    body.error.message,
    body.error.details,
    retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined,
  );
}

/** The data of a successful answer, or the error its status and body describe (for calls made through `api`). */
export function dataOf<T>({ data, error, response }: { data?: T; error?: unknown; response: Response }): T {
  if (response.ok && data !== undefined) return data;
  throw errorFrom(response, error);
}

/** A client of one durable-jobs API. Every method throws `JobsApiError` when the API refuses. */
export class JobsClient {
  /** The typed HTTP client underneath: any operation of the document, with its raw status and headers. */
  readonly api: Client<paths>;

  constructor(options: JobsClientOptions) {
    const { apiKey } = options;
    const keyOf = typeof apiKey === 'function' ? apiKey : () => apiKey;
    this.api = createClient<paths>({ baseUrl: options.baseUrl });
    this.api.use({
      onRequest({ request }) {
        const key = keyOf();
        if (key) request.headers.set('Authorization', `Bearer ${key}`);
        return request;
      },
    });
  }

  /** Submits a job: the new job (202), or the existing one for a repeated identical request with its `jobId`. */
  async submit(body: SubmitJobBody, options: SubmitOptions = {}): Promise<Job> {
    return dataOf(await this.api.POST('/api/v1/jobs', { body, params: { query: { wait: options.wait } } }));
  }

  async get(jobId: string): Promise<Job> {
    return dataOf(await this.api.GET('/api/v1/jobs/{jobId}', { params: { path: { jobId } } }));
  }

  /** Polls the job until it is in an end state, and answers it then. */
  async waitFor(jobId: string, options: WaitOptions = {}): Promise<Job> {
    const { timeoutMs = 60_000, intervalMs = 500 } = options;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.get(jobId);
      if (isJobFinished(job)) return job;
      const left = deadline - Date.now();
      if (left <= 0) throw new JobWaitTimeoutError(job, timeoutMs);
      await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
    }
  }

  /** Asks a queued or running job to stop; answers the job as it is now (409 conflict once it has finished). */
  async cancel(jobId: string): Promise<Job> {
    return dataOf(await this.api.POST('/api/v1/jobs/{jobId}/cancel', { params: { path: { jobId } } }));
  }

  /** Runs a failed, timed_out or cancelled job again; answers the new run (409 conflict for any other job). */
  async retry(jobId: string): Promise<Job> {
    return dataOf(await this.api.POST('/api/v1/jobs/{jobId}/retry', { params: { path: { jobId } } }));
  }

  /** Deletes a finished job: its history is gone and its jobId free again (409 conflict while it has not finished). */
  async delete(jobId: string): Promise<void> {
    const { error, response } = await this.api.DELETE('/api/v1/jobs/{jobId}', { params: { path: { jobId } } });
    if (!response.ok) throw errorFrom(response, error);
  }

  /** The attempts of the job's latest run: when each was scheduled, started and ended, how, and why it failed. */
  async attempts(jobId: string): Promise<JobAttempts> {
    return dataOf(await this.api.GET('/api/v1/jobs/{jobId}/attempts', { params: { path: { jobId } } }));
  }

  /** A page of one attempt's log lines (the latest attempt's by default), those with `seq` after `after`. */
  async logs(jobId: string, query: JobLogsQuery = {}): Promise<JobLogs> {
    return dataOf(await this.api.GET('/api/v1/jobs/{jobId}/logs', { params: { path: { jobId }, query } }));
  }

  /** Cancels 1–100 jobs in one request; each answers alone (202 with its status, or its refusal). */
  async cancelMany(jobIds: readonly string[]): Promise<BulkJobsResult['results']> {
    return dataOf(await this.api.POST('/api/v1/jobs/cancel', { body: { jobIds: [...jobIds] } })).results;
  }

  /** Retries 1–100 jobs in one request; each answers alone (202 with its status, or its refusal). */
  async retryMany(jobIds: readonly string[]): Promise<BulkJobsResult['results']> {
    return dataOf(await this.api.POST('/api/v1/jobs/retry', { body: { jobIds: [...jobIds] } })).results;
  }

  /** The tenant the client's key acts as (`default` when the API has no keys). */
  async whoami(): Promise<Whoami> {
    return dataOf(await this.api.GET('/api/v1/whoami'));
  }

  /** One page of the tenant's jobs, newest first; pass `nextCursor` back as `cursor` for the next page. */
  async list(query: ListJobsQuery = {}): Promise<JobList> {
    return dataOf(await this.api.GET('/api/v1/jobs', { params: { query } }));
  }

  /** How many of the tenant's jobs the filters keep (those of `list`, tags included), in all and per status. */
  async counts(query: JobCountsQuery = {}): Promise<JobCounts> {
    return dataOf(await this.api.GET('/api/v1/jobs/counts', { params: { query } }));
  }

  /**
   * The job each time it changes, from its events stream: the first is the job as it is now, and the
   * stream ends after an end state (or earlier if the server shuts down). Breaking out of the loop closes
   * the connection. `follow` gives the log lines of the same stream too.
   */
  async *events(jobId: string): AsyncGenerator<Job, void, undefined> {
    for await (const event of this.follow(jobId)) {
      if (event.type === 'job') yield event.job;
    }
  }

  /**
   * The job's events stream as it comes: `{ type: 'job', job }` each time the job changes (as `events` gives them)
   * and `{ type: 'log', line }` for each line its running attempt logs, from when the stream opened (earlier lines:
   * `logs`). Ends after an end state; breaking out of the loop closes the connection.
   */
  async *follow(jobId: string): AsyncGenerator<JobEvent, void, undefined> {
    const answer = await this.api.GET('/api/v1/jobs/{jobId}/events', {
      params: { path: { jobId } },
      headers: { Accept: 'text/event-stream' },
      parseAs: 'stream',
    });
    const stream = dataOf(answer);
    if (stream === null) throw new JobsResponseInvalidError(answer.response.status, undefined);
    const status = answer.response.status;
    const parsed = (event: ServerSentEvent): unknown => {
      try {
        return JSON.parse(event.data);
      } catch (err) {
        throw new JobsResponseInvalidError(
          status,
          event.data,
          `a ${event.event} event that is not JSON: ${String(err)}`,
        );
      }
    };
    try {
      for await (const event of readEventStream(stream)) {
        // Events of kinds a newer API may add are skipped, as a browser's EventSource skips unheard ones.
        if (event.event === 'job') yield { type: 'job', job: parsed(event) as Job };
        else if (event.event === 'log') yield { type: 'log', line: parsed(event) as JobLogLine };
      }
    } catch (err) {
      if (err instanceof EventTooLargeError) throw new JobsResponseInvalidError(status, null, err.message);
      throw err;
    }
  }
}

/** A client of the durable-jobs API at `baseUrl`, sending `apiKey` (when given) as the bearer key. */
export function createJobsClient(options: JobsClientOptions): JobsClient {
  return new JobsClient(options);
}
