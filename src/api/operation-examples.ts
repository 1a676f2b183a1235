// A realistic request and answer for every operation of the OpenAPI document, so that Swagger UI's "Try it out"
// starts from a body that succeeds and shows what comes back. Typed by the contract's own schemas (a body as a
// client sends it, an answer as the API writes it); test/unit/operation-examples.test.ts parses each with them.
import type { z } from 'zod';
import type { JobAttempts } from '../contract/attempts.js';
import type { BulkJobsBody, BulkJobsResult } from '../contract/bulk.js';
import type { CodecPayloads } from '../contract/codec.js';
import type { CreatedHook, CreateHookBody, Hook, UpdateHookBody } from '../contract/hooks.js';
import type { JobCounts, JobList } from '../contract/job-list.js';
import type { Job, JobBatchBody, JobBatchResult, JobTypeList, QueueList, SubmitJobBody } from '../contract/job.js';
import type { JobLogs } from '../contract/logs.js';
import type { CreateScheduleBody, Schedule } from '../contract/schedule.js';
import type { Whoami } from '../contract/whoami.js';

export interface OperationExamples {
  /** Named request bodies: Swagger UI offers each, and prefills the first. */
  readonly requests?: Readonly<Record<string, { readonly summary: string; readonly value: unknown }>>;
  /** The answer of each success status that has a JSON body. */
  readonly responses?: Readonly<Record<number, unknown>>;
}

/** What the path parameters stand for in the examples. */
export const pathParameterExamples: Readonly<Record<string, string>> = {
  jobId: 'report-42',
  scheduleId: 'nightly-report',
  hookId: 'hk_3q2-7wE5dQx0c8bZ1rTyL6mNv4sKaP9o',
};

const jobId = pathParameterExamples['jobId']!;
const hookId = pathParameterExamples['hookId']!;
const scheduleId = pathParameterExamples['scheduleId']!;

const sleepBody = {
  type: 'sleep',
  jobId,
  input: { seconds: 5, message: 'building the report' },
  priority: 'normal',
  tags: ['team:data'],
} satisfies z.input<typeof SubmitJobBody>;

const queuedJob = {
  jobId,
  type: 'sleep',
  priority: 'normal',
  status: 'queued',
  attempt: 0,
  maxAttempts: 3,
  progress: null,
  input: { seconds: 5, message: 'building the report' },
  result: null,
  error: null,
  lastError: null,
  createdAt: '2026-11-30T19:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  runAt: null,
  run: 1,
  callback: null,
  children: null,
  tags: ['team:data'],
  traceId: null,
  links: {
    self: `/api/v1/jobs/${jobId}`,
    ui: `http://localhost:8233/namespaces/default/workflows/${jobId}`,
  },
} satisfies z.output<typeof Job>;

const runningJob = {
  ...queuedJob,
  status: 'running',
  attempt: 1,
  progress: { percent: 40, message: 'building the report' },
  startedAt: '2026-11-30T19:00:00.120Z',
} satisfies z.output<typeof Job>;

const succeededJob = {
  ...runningJob,
  status: 'succeeded',
  progress: { percent: 100, message: 'done' },
  result: { slept: 5 },
  finishedAt: '2026-11-30T19:00:05.150Z',
} satisfies z.output<typeof Job>;

const cancelledJob = {
  ...runningJob,
  status: 'cancelled',
  error: { type: 'Cancelled', message: 'cancelled by a client' },
  finishedAt: '2026-11-30T19:00:02.300Z',
} satisfies z.output<typeof Job>;

const retriedJob = { ...queuedJob, run: 2, createdAt: '2026-11-30T19:05:00.000Z' } satisfies z.output<typeof Job>;

const bulkBody = { jobIds: [jobId, 'report-43', 'report-44'] } satisfies z.input<typeof BulkJobsBody>;

const schedule = {
  scheduleId,
  cron: '0 2 * * *',
  timezone: 'UTC',
  intervalSeconds: null,
  job: { type: 'sleep', input: { seconds: 5, message: 'nightly report' }, priority: 'low' },
  paused: false,
  overlap: 'skip',
  nextRunTimes: ['2026-12-01T02:00:00.000Z', '2026-12-02T02:00:00.000Z'],
  recentJobs: [{ jobId: `${scheduleId}-2026-11-30T02:00:00Z`, scheduledAt: '2026-11-30T02:00:00.000Z' }],
  createdAt: '2026-11-01T09:00:00.000Z',
  skippedRuns: 0,
  lastSkippedAt: null,
} satisfies z.output<typeof Schedule>;

const hook = {
  hookId,
  url: `/api/v1/hooks/${hookId}`,
  type: 'sleep',
  inputFrom: { message: '/head_commit/message' },
  priority: 'normal',
  enabled: true,
  description: 'GitHub pushes of the report repository',
  createdAt: '2026-11-30T18:00:00.000Z',
  updatedAt: '2026-11-30T18:00:00.000Z',
} satisfies z.output<typeof Hook>;

const payloads = {
  payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'eyJzZWNvbmRzIjo1fQ==' }],
} satisfies z.input<typeof CodecPayloads>;

/** By `<METHOD> <path>`, as the operations table names them. */
export const operationExamples: Readonly<Record<string, OperationExamples>> = {
  'POST /api/v1/jobs': {
    requests: {
      sleep: { summary: 'a sleep job (built in): sleeps, reporting progress', value: sleepBody },
      command: {
        summary: 'a command job (built in): runs a command of JOBS_COMMANDS_DIR',
        value: {
          type: 'command',
          input: { command: 'hello', args: ['world'] },
          priority: 'high',
        } satisfies z.input<typeof SubmitJobBody>,
      },
      delayed: {
        summary: 'a job that starts in an hour, with its own retry policy',
        value: {
          type: 'sleep',
          input: { seconds: 1 },
          delaySeconds: 3600,
          retry: { maxAttempts: 5, initialIntervalSeconds: 2 },
        } satisfies z.input<typeof SubmitJobBody>,
      },
    },
    responses: { 200: succeededJob, 202: queuedJob },
  },
  'GET /api/v1/jobs': {
    responses: { 200: { jobs: [runningJob], nextCursor: null } satisfies z.output<typeof JobList> },
  },
  'GET /api/v1/jobs/counts': {
    responses: {
      200: {
        total: 42,
        counts: { queued: 3, running: 2, succeeded: 31, failed: 4, timed_out: 1, cancelled: 1 },
      } satisfies z.output<typeof JobCounts>,
    },
  },
  'GET /api/v1/jobs/{jobId}': { responses: { 200: runningJob } },
  'DELETE /api/v1/jobs/{jobId}': {},
  'POST /api/v1/jobs/{jobId}/cancel': { responses: { 202: cancelledJob } },
  'GET /api/v1/jobs/{jobId}/attempts': {
    responses: {
      200: {
        jobId,
        run: 1,
        attempts: [
          {
            attempt: 1,
            scheduledAt: '2026-11-30T19:00:00.050Z',
            startedAt: '2026-11-30T19:00:00.120Z',
            endedAt: '2026-11-30T19:00:01.400Z',
            outcome: 'failed',
            error: { type: 'TransientError', message: 'the database did not answer' },
            durationMs: 1280,
          },
          {
            attempt: 2,
            scheduledAt: '2026-11-30T19:00:02.450Z',
            startedAt: '2026-11-30T19:00:02.500Z',
            endedAt: null,
            outcome: 'running',
            error: null,
            durationMs: null,
          },
        ],
        nextAttemptAt: null,
        scheduleId: null,
      } satisfies z.output<typeof JobAttempts>,
    },
  },
  'GET /api/v1/jobs/{jobId}/logs': {
    responses: {
      200: {
        jobId,
        attempt: 1,
        attempts: 1,
        attemptEnded: false,
        lines: [
          {
            attempt: 1,
            seq: 1,
            time: '2026-11-30T19:00:01.250Z',
            level: 'info',
            message: 'reading 120 rows',
            traceId: null,
          },
        ],
        nextAfter: 1,
        hasMore: false,
      } satisfies z.output<typeof JobLogs>,
    },
  },
  'POST /api/v1/jobs/cancel': {
    requests: { ids: { summary: 'three jobs by id', value: bulkBody } },
    responses: {
      200: {
        results: [
          { jobId, status: 202, jobStatus: 'cancelled' },
          { jobId: 'report-43', status: 202, jobStatus: 'running' },
          {
            jobId: 'report-44',
            status: 409,
            error: { code: 'conflict', message: 'job "report-44" already finished (succeeded)' },
          },
        ],
      } satisfies z.output<typeof BulkJobsResult>,
    },
  },
  'POST /api/v1/jobs/retry': {
    requests: { ids: { summary: 'three jobs by id', value: bulkBody } },
    responses: {
      200: {
        results: [
          { jobId, status: 202, jobStatus: 'queued' },
          { jobId: 'report-43', status: 404, error: { code: 'not_found', message: 'no job with id "report-43"' } },
          {
            jobId: 'report-44',
            status: 409,
            error: {
              code: 'conflict',
              message: 'job "report-44" is running; only failed, timed_out or cancelled jobs can be retried',
            },
          },
        ],
      } satisfies z.output<typeof BulkJobsResult>,
    },
  },
  'GET /api/v1/jobs/{jobId}/events': {},
  'POST /api/v1/jobs/{jobId}/retry': { responses: { 202: retriedJob } },
  'POST /api/v1/job-batches': {
    requests: {
      two: {
        summary: 'two jobs in one request',
        value: {
          jobs: [
            { type: 'sleep', input: { seconds: 1 } },
            { type: 'sleep', input: { seconds: 2 }, priority: 'high' },
          ],
        } satisfies z.input<typeof JobBatchBody>,
      },
    },
    responses: {
      200: {
        results: [
          { index: 0, status: 202, job: queuedJob },
          {
            index: 1,
            status: 400,
            error: { code: 'invalid_request', message: 'input.seconds: Too big: expected number to be <=86400' },
          },
        ],
      } satisfies z.output<typeof JobBatchResult>,
    },
  },
  'POST /api/v1/schedules': {
    requests: {
      cron: {
        summary: 'every night at 02:00 UTC',
        value: {
          scheduleId,
          cron: '0 2 * * *',
          job: { type: 'sleep', input: { seconds: 5, message: 'nightly report' }, priority: 'low' },
        } satisfies z.input<typeof CreateScheduleBody>,
      },
      cronInTimeZone: {
        summary: 'every weekday at 09:00 in New York, summer and winter',
        value: {
          scheduleId: 'morning-digest',
          cron: '0 9 * * 1-5',
          timezone: 'America/New_York',
          job: { type: 'sleep', input: { seconds: 1, message: 'morning digest' } },
        } satisfies z.input<typeof CreateScheduleBody>,
      },
      interval: {
        summary: 'every 15 minutes',
        value: {
          scheduleId: 'cache-warmup',
          intervalSeconds: 900,
          job: { type: 'sleep', input: { seconds: 1 } },
        } satisfies z.input<typeof CreateScheduleBody>,
      },
    },
    responses: { 201: schedule },
  },
  'GET /api/v1/schedules': { responses: { 200: { schedules: [schedule] } } },
  'GET /api/v1/schedules/{scheduleId}': { responses: { 200: schedule } },
  'DELETE /api/v1/schedules/{scheduleId}': {},
  'POST /api/v1/schedules/{scheduleId}/pause': { responses: { 200: { ...schedule, paused: true, nextRunTimes: [] } } },
  'POST /api/v1/schedules/{scheduleId}/unpause': { responses: { 200: schedule } },
  'POST /api/v1/schedules/{scheduleId}/trigger': { responses: { 200: schedule } },
  'POST /api/v1/hooks': {
    requests: {
      github: {
        summary: "GitHub pushes: each becomes a sleep job with the head commit's message",
        value: {
          type: 'sleep',
          inputFrom: { message: '/head_commit/message' },
          description: 'GitHub pushes of the report repository',
        } satisfies z.input<typeof CreateHookBody>,
      },
    },
    responses: {
      201: { ...hook, secret: 'c2VjcmV0LW9ubHktc2hvd24tb25jZQ' } satisfies z.output<typeof CreatedHook>,
    },
  },
  'GET /api/v1/hooks': { responses: { 200: { hooks: [hook] } } },
  'GET /api/v1/hooks/{hookId}': { responses: { 200: hook } },
  'PATCH /api/v1/hooks/{hookId}': {
    requests: {
      disable: {
        summary: 'stop taking deliveries',
        value: { enabled: false } satisfies z.input<typeof UpdateHookBody>,
      },
    },
    responses: { 200: { ...hook, enabled: false, updatedAt: '2026-11-30T19:10:00.000Z' } },
  },
  'DELETE /api/v1/hooks/{hookId}': {},
  'POST /api/v1/hooks/{hookId}': {
    responses: { 202: { jobId: 'hook-3f2a9c41d07be85a6c19e4b2d8f07a13c5e962d4', status: 'queued' } },
  },
  'GET /api/v1/job-types': {
    responses: {
      200: {
        types: [
          {
            name: 'sleep',
            description:
              'Sleeps for `seconds`, reporting progress about once a second; fails its first `failAttempts` attempts.',
            inputSchema: {
              type: 'object',
              properties: { seconds: { type: 'number', minimum: 0, maximum: 86400 }, message: { type: 'string' } },
              required: ['seconds'],
            },
            resultSchema: null,
            defaults: {
              timeoutSeconds: 3600,
              heartbeatTimeoutSeconds: 30,
              retry: { maxAttempts: 3, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 60 },
            },
            revision: 1,
            workers: { high: 1, normal: 1, low: 1 },
            liveVariants: 1,
          },
        ],
      } satisfies z.output<typeof JobTypeList>,
    },
  },
  'GET /api/v1/queues': {
    responses: {
      200: {
        queues: [
          { priority: 'high', taskQueue: 'durable-jobs-high', backlog: 0, pollers: 2, queuedJobs: 0, runningJobs: 1 },
          {
            priority: 'normal',
            taskQueue: 'durable-jobs-normal',
            backlog: 4,
            pollers: 2,
            queuedJobs: 4,
            runningJobs: 5,
          },
          {
            priority: 'low',
            taskQueue: 'durable-jobs-low',
            backlog: null,
            pollers: null,
            queuedJobs: 0,
            runningJobs: 0,
          },
        ],
        types: [
          {
            type: 'sleep',
            priority: 'normal',
            taskQueue: 'durable-jobs:sleep:normal',
            workers: 1,
            backlog: 4,
            pollers: 2,
            queuedJobs: 4,
            waiting: null,
          },
        ],
      } satisfies z.output<typeof QueueList>,
    },
  },
  'GET /api/v1/whoami': { responses: { 200: { tenant: 'acme' } satisfies z.output<typeof Whoami> } },
  'POST /api/v1/codec/encode': {
    requests: { payload: { summary: 'one JSON payload', value: payloads } },
    responses: { 200: payloads },
  },
  'POST /api/v1/codec/decode': {
    requests: { payload: { summary: 'one JSON payload', value: payloads } },
    responses: { 200: payloads },
  },
};
