// Every operation the gateway serves, with its answers: the table the OpenAPI document (openapi.ts) is made from and
// the tests check the router against.
import type { z } from 'zod';
import { JobAttempts } from '../contract/attempts.js';
import { BulkJobsBody, BulkJobsResult } from '../contract/bulk.js';
import { CodecPayloads } from '../contract/codec.js';
import { ErrorBody } from '../contract/errors.js';
import {
  Job,
  JobBatchBody,
  JobBatchResult,
  JobTypeList,
  QueueList,
  SubmitJobBody,
  WaitQuery,
} from '../contract/job.js';
import { JobCounts, JobFilterQuery, JobList, ListJobsQuery } from '../contract/job-list.js';
import { JobLogLine, JobLogs, JobLogsQuery } from '../contract/logs.js';
import { CreateScheduleBody, Schedule, ScheduleList } from '../contract/schedule.js';
import { CreatedHook, CreateHookBody, Hook, HookDelivery, HookList, UpdateHookBody } from '../contract/hooks.js';
import { Whoami } from '../contract/whoami.js';
import { probePaths } from './allowed-hosts.js';

/** The named schemas of the document: the same zod schemas the routes validate and answer with. */
export const components = {
  Job,
  JobList,
  JobCounts,
  SubmitJobBody,
  JobBatchBody,
  JobBatchResult,
  JobAttempts,
  JobLogs,
  JobLogLine,
  BulkJobsBody,
  BulkJobsResult,
  CreateScheduleBody,
  Schedule,
  ScheduleList,
  CreateHookBody,
  UpdateHookBody,
  Hook,
  CreatedHook,
  HookList,
  HookDelivery,
  ErrorBody,
  JobTypeList,
  QueueList,
  CodecPayloads,
  Whoami,
} as const;
export type ComponentName = keyof typeof components;

interface Answer {
  readonly description: string;
  readonly schema?: ComponentName;
  readonly contentType?: string;
}

export interface Operation {
  readonly method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI path template, e.g. /api/v1/jobs/{jobId}. */
  readonly path: string;
  readonly summary: string;
  readonly query?: z.ZodObject;
  readonly body?: ComponentName;
  readonly responses: Readonly<Record<number, Answer>>;
  /** Served without an API key (src/api/access.ts): the route authenticates the request itself. */
  readonly public?: true;
}

const refused = (description: string): Answer => ({ description, schema: 'ErrorBody' });
const invalid = refused('the request does not satisfy the contract (`invalid_request`)');
const notFound = refused('no job with this id (`not_found`)');
const unavailable = refused('Temporal is unreachable (`unavailable`)');
const startUnknown = refused(
  "Temporal is unreachable (`unavailable`: nothing started), or the job's start was sent and its answer lost (`outcome_unknown`: `details` names the jobId; submitting the same request with it again is safe)",
);

const triggerRefusals: Readonly<Record<number, Answer>> = {
  429: refused("over the tenant's submit rate or unfinished-job cap (`rate_limited`, with Retry-After)"),
};

const routes: readonly Operation[] = [
  {
    method: 'post',
    path: '/api/v1/jobs',
    summary: 'Submit a job',
    query: WaitQuery,
    body: 'SubmitJobBody',
    responses: {
      200: {
        description: 'the job finished within `?wait`, or this jobId was submitted before with an identical request',
        schema: 'Job',
      },
      202: { description: 'accepted: the job is queued (Location names it)', schema: 'Job' },
      400: invalid,
      409: refused('the jobId exists with a different request (`conflict`)'),
      413: refused('the body or the input is too large (`payload_too_large`)'),
      415: refused('the body is not JSON (`unsupported_media_type`)'),
      429: refused(
        "over the tenant's submit rate or unfinished-job cap, or with `?wait`, its held waits at JOBS_MAX_WAITS_PER_TENANT (`rate_limited`, with Retry-After)",
      ),
      503: startUnknown,
    },
  },
  {
    method: 'get',
    path: '/api/v1/jobs',
    summary: 'List jobs, newest first',
    query: ListJobsQuery,
    responses: { 200: { description: 'a page of jobs', schema: 'JobList' }, 400: invalid, 503: unavailable },
  },
  {
    method: 'get',
    path: '/api/v1/jobs/counts',
    summary: "Count the tenant's jobs per status, under the list's filters",
    query: JobFilterQuery,
    responses: { 200: { description: 'the counts', schema: 'JobCounts' }, 400: invalid, 503: unavailable },
  },
  {
    method: 'get',
    path: '/api/v1/jobs/{jobId}',
    summary: 'Poll one job',
    responses: { 200: { description: 'the job', schema: 'Job' }, 400: invalid, 404: notFound, 503: unavailable },
  },
  {
    method: 'delete',
    path: '/api/v1/jobs/{jobId}',
    summary: 'Delete a finished job: its history is gone and its jobId free again',
    responses: {
      204: { description: 'deleted' },
      400: invalid,
      404: notFound,
      409: refused('the job has not finished (`conflict`): cancel it first'),
      503: refused('Temporal is unreachable, or has not finished deleting it yet (`unavailable`): DELETE it again'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/jobs/{jobId}/cancel',
    summary: 'Cancel a queued or running job',
    responses: {
      202: { description: 'cancellation requested; the job as it is now', schema: 'Job' },
      400: invalid,
      404: notFound,
      409: refused('the job already finished (`conflict`)'),
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/v1/jobs/{jobId}/attempts',
    summary: "A job's attempts in its latest run: when each was scheduled, started and ended, how, and why it failed",
    responses: {
      200: { description: 'the attempts, oldest first', schema: 'JobAttempts' },
      400: invalid,
      404: notFound,
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/v1/jobs/{jobId}/logs',
    summary:
      "What a job's handler logged (and a command printed) in one attempt, the latest by default: paged by seq with `after`",
    query: JobLogsQuery,
    responses: {
      200: { description: "a page of the attempt's lines, in seq order", schema: 'JobLogs' },
      400: refused('a bad query, or an attempt the finished job never had (`invalid_request`)'),
      404: notFound,
      503: unavailable,
    },
  },
  ...(['cancel', 'retry'] as const).map((action): Operation => ({
    method: 'post',
    path: `/api/v1/jobs/${action}`,
    summary:
      action === 'cancel'
        ? 'Cancel up to 100 queued or running jobs; each job answers alone'
        : 'Retry up to 100 failed, timed-out or cancelled jobs; each job answers alone',
    body: 'BulkJobsBody',
    responses: {
      200: {
        description: "one result per job id, in order: 202 with the job's status, or the refusal it alone would get",
        schema: 'BulkJobsResult',
      },
      400: refused('no ids, over 100, an id twice, or an id that is not one (`invalid_request`)'),
      413: refused('the body is too large (`payload_too_large`)'),
      415: refused('the body is not JSON (`unsupported_media_type`)'),
      429: refused(
        "the tenant's previous bulk cancel or retry on this API process is still running: wait for its answer, then send the next (`rate_limited`, with Retry-After)",
      ),
    },
  })),
  {
    method: 'get',
    path: '/api/v1/jobs/{jobId}/events',
    summary:
      'Follow a job: Server-Sent Events `job`, and `log` for each line its running attempt logs, until it finishes',
    responses: {
      200: {
        description: 'an event stream; each `job` event carries the Job, each `log` event a JobLogLine',
        contentType: 'text/event-stream',
      },
      400: invalid,
      404: notFound,
      429: refused(
        'the tenant holds JOBS_MAX_STREAMS_PER_TENANT streams on this API process (`rate_limited`, with Retry-After)',
      ),
      503: unavailable,
    },
  },
  {
    method: 'post',
    path: '/api/v1/jobs/{jobId}/retry',
    summary: 'Run a failed, timed-out or cancelled job again (run + 1)',
    responses: {
      202: { description: 'the new run, queued', schema: 'Job' },
      400: invalid,
      404: notFound,
      409: refused('the job is unfinished or succeeded (`conflict`)'),
      429: refused("over the tenant's submit rate or unfinished-job cap (`rate_limited`)"),
      503: startUnknown,
    },
  },
  {
    method: 'post',
    path: '/api/v1/job-batches',
    summary: 'Submit up to 100 jobs; each item stands alone',
    body: 'JobBatchBody',
    responses: {
      200: { description: 'one result per item, by index', schema: 'JobBatchResult' },
      400: invalid,
      413: refused('the body is too large (`payload_too_large`)'),
      415: refused('the body is not JSON (`unsupported_media_type`)'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/schedules',
    summary: 'Create a schedule that submits a job by cron or interval',
    body: 'CreateScheduleBody',
    responses: {
      201: { description: 'the schedule', schema: 'Schedule' },
      400: refused(
        'the request does not satisfy the contract, or fires more often than SCHEDULE_MIN_INTERVAL_SECONDS (`invalid_request`)',
      ),
      409: refused('the schedule exists, or the tenant has MAX_SCHEDULES_PER_TENANT schedules (`conflict`)'),
      415: refused('the body is not JSON'),
      429: refused("over the tenant's submit rate (`rate_limited`, with Retry-After)"),
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/v1/schedules',
    summary: 'List schedules',
    responses: { 200: { description: 'the schedules', schema: 'ScheduleList' }, 503: unavailable },
  },
  {
    method: 'get',
    path: '/api/v1/schedules/{scheduleId}',
    summary: 'Read a schedule',
    responses: {
      200: { description: 'the schedule', schema: 'Schedule' },
      400: invalid,
      404: refused('no such schedule'),
      503: unavailable,
    },
  },
  {
    method: 'delete',
    path: '/api/v1/schedules/{scheduleId}',
    summary: 'Remove a schedule (its jobs stay)',
    responses: { 204: { description: 'removed' }, 400: invalid, 404: refused('no such schedule'), 503: unavailable },
  },
  ...(['pause', 'unpause', 'trigger'] as const).map((verb): Operation => ({
    method: 'post',
    path: `/api/v1/schedules/{scheduleId}/${verb}`,
    summary:
      verb === 'trigger' ? "Run the schedule's job now" : `${verb[0]!.toUpperCase()}${verb.slice(1)} the schedule`,
    responses: {
      200: { description: 'the schedule', schema: 'Schedule' },
      400: invalid,
      404: refused('no such schedule'),
      ...(verb === 'trigger' ? triggerRefusals : {}),
      503: unavailable,
    },
  })),
  {
    method: 'post',
    path: '/api/v1/hooks',
    summary: 'Define an inbound webhook: a signed POST from a third party becomes a job (the secret is shown once)',
    body: 'CreateHookBody',
    responses: {
      201: { description: 'the hook, with its signing secret (never shown again)', schema: 'CreatedHook' },
      400: refused('the request does not satisfy the contract, or names an unknown job type (`invalid_request`)'),
      409: refused('the tenant holds 100 hooks (`conflict`)'),
      413: refused('the body is too large (`payload_too_large`)'),
      415: refused('the body is not JSON (`unsupported_media_type`)'),
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/v1/hooks',
    summary: "List the tenant's hooks (without secrets)",
    responses: { 200: { description: 'the hooks', schema: 'HookList' }, 503: unavailable },
  },
  {
    method: 'get',
    path: '/api/v1/hooks/{hookId}',
    summary: 'Read a hook (without its secret)',
    responses: {
      200: { description: 'the hook', schema: 'Hook' },
      400: invalid,
      404: refused('the tenant has no such hook (`not_found`)'),
      503: unavailable,
    },
  },
  {
    method: 'patch',
    path: '/api/v1/hooks/{hookId}',
    summary: 'Disable or enable a hook',
    body: 'UpdateHookBody',
    responses: {
      200: { description: 'the hook', schema: 'Hook' },
      400: invalid,
      404: refused('the tenant has no such hook (`not_found`)'),
      415: refused('the body is not JSON (`unsupported_media_type`)'),
      503: unavailable,
    },
  },
  {
    method: 'delete',
    path: '/api/v1/hooks/{hookId}',
    summary: 'Delete a hook (its jobs stay)',
    responses: {
      204: { description: 'deleted' },
      400: invalid,
      404: refused('the tenant has no such hook (`not_found`)'),
      503: unavailable,
    },
  },
  {
    method: 'post',
    path: '/api/v1/hooks/{hookId}',
    summary:
      "A hook's delivery (public: no API key; the body, any JSON or GitHub's form payload=<URL-encoded JSON>, is signed as sent with the hook's secret in X-Hub-Signature-256 or Stripe-Signature): submits a job",
    public: true,
    responses: {
      202: {
        description:
          "the delivery's job id and status, not the job (the same job again for a redelivery: the same delivery id, or Stripe event id); the tenant reads the job with its key",
        schema: 'HookDelivery',
      },
      400: refused(
        "the body is not JSON, the form is not GitHub's (one payload field of JSON), the delivery id or Stripe event id is malformed, or the job type refuses the input (`invalid_request`)",
      ),
      401: refused(
        'no signature, a signature header given twice, one that does not match the body under the secret, or a timestamp more than 300 s away (`unauthorized`)',
      ),
      404: refused('no such hook (`not_found`)'),
      409: refused('the hook is disabled, or the delivery id came before with another body (`conflict`)'),
      413: refused('the body or the input is too large (`payload_too_large`)'),
      415: refused(
        "the body is neither JSON nor GitHub's form (application/x-www-form-urlencoded, UTF-8) (`unsupported_media_type`)",
      ),
      429: refused("over the hook tenant's submit rate or unfinished-job cap (`rate_limited`, with Retry-After)"),
      503: startUnknown,
    },
  },
  {
    method: 'get',
    path: '/api/v1/job-types',
    summary:
      'The job types the job type registry knows: input JSON Schemas, defaults, and live worker processes per priority',
    responses: { 200: { description: 'the job types', schema: 'JobTypeList' }, 503: unavailable },
  },
  {
    method: 'get',
    path: '/api/v1/queues',
    summary:
      'Per priority: task queue, backlog, pollers, queued and running jobs; per job type and priority: workers, and why jobs wait',
    responses: { 200: { description: 'the queues', schema: 'QueueList' }, 503: unavailable },
  },
  {
    method: 'get',
    path: '/api/v1/whoami',
    summary: "The tenant the caller's API key acts as",
    responses: { 200: { description: 'the tenant', schema: 'Whoami' } },
  },
  ...(['encode', 'decode'] as const).map((direction): Operation => ({
    method: 'post',
    path: `/api/v1/codec/${direction}`,
    body: 'CodecPayloads',
    summary: `${direction === 'encode' ? 'Encode (encrypt)' : 'Decode (decrypt)'} Temporal payloads: the remote codec protocol, for the Temporal Web UI (CORS: TEMPORAL_UI_URL only)`,
    responses: {
      200: {
        description: `the payloads, ${direction}d with the service's PAYLOAD_ENCRYPTION_KEY (as they were when it has none)`,
        schema: 'CodecPayloads',
      },
      400: refused('not payloads, or a payload no configured key decrypts (`invalid_request`)'),
      403: refused("with API keys configured, the caller's tenant is not one of CODEC_TENANTS (`forbidden`)"),
      413: refused('the body is too large (`payload_too_large`)'),
      415: refused('the body is not JSON (`unsupported_media_type`)'),
    },
  })),
  { method: 'get', path: '/healthz', summary: 'The process is alive', responses: { 200: { description: 'alive' } } },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Temporal is reachable and the namespace exists',
    responses: { 200: { description: 'ready' }, 503: refused('not ready, with the reason') },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    responses: { 200: { description: 'text exposition', contentType: 'text/plain' } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    responses: { 200: { description: 'OpenAPI 3.1' } },
  },
  {
    method: 'get',
    path: '/docs',
    summary: 'This document, rendered',
    responses: { 200: { description: 'an HTML page', contentType: 'text/html' } },
  },
];

const crossSite = 'a browser sent it from a page of another site (Sec-Fetch-Site: cross-site)';
const unknownHost =
  'with no API keys configured, the Host header names neither localhost (nor *.localhost), an IP address nor a name of API_ALLOW_HOSTS';

/**
 * Every route the gateway serves (a test checks this list against the router); /api/v1 needs a key when keys are
 * configured, and refuses to act for a page of another site (src/api/access.ts); without keys, every route but the
 * probes and a hook's delivery refuses an unknown Host (src/api/allowed-hosts.ts).
 */
export const operations: readonly Operation[] = routes.map((operation) => {
  const responses: Record<number, Answer> = { ...operation.responses };
  const forbidden = [operation.responses[403]?.description.replace(/ \(`forbidden`\)$/, '')];
  if (operation.path.startsWith('/api/v1/') && !operation.public) {
    responses[401] = refused('no valid API key (`unauthorized`, with WWW-Authenticate)');
    if (operation.method !== 'get') forbidden.push(crossSite);
  }
  if (!operation.public && !probePaths.has(operation.path)) forbidden.push(unknownHost);
  const reasons = forbidden.filter((reason) => reason !== undefined);
  if (reasons.length > 0) responses[403] = refused(`${reasons.join(', or ')} (\`forbidden\`)`);
  return { ...operation, responses };
});
