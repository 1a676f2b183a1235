import { z } from 'zod';

/** The job's lifecycle states (contract §1): the one enum behind the API, the workflow's state and its search attribute. */
export const JobStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatus>;

export const JobPriority = z.enum(['high', 'normal', 'low']);
export type JobPriority = z.infer<typeof JobPriority>;

export const JobId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
    'must be 1–128 characters of [A-Za-z0-9._:-], starting with a letter or digit',
  );

/** A job id a client chooses: the `hook-` ids are the inbound webhooks' deliveries', so no submit can take one first. */
export const ClientJobId = JobId.regex(
  /^(?!hook-)/,
  'must not start with "hook-": those ids name inbound webhooks\' deliveries (choose another)',
);

/**
 * A job's tag (contract §1): `key:value`, what the list and the counts filter on (`?tag=`). No quotes, backslashes or
 * spaces: Temporal's visibility store matches a value holding a backslash only unescaped and fails a query holding a
 * double quote, so a tag is refused before any query sees it.
 */
export const JobTag = z
  .string()
  .max(128, 'must be at most 128 characters')
  .regex(
    /^[a-z0-9][a-z0-9_.-]{0,62}:[A-Za-z0-9_.:/@+=-]+$/,
    'must be key:value — a key of [a-z0-9_.-] starting with a letter or digit, a colon, a value of [A-Za-z0-9_.:/@+=-]',
  );

/** The most tags a job may carry. */
export const maxJobTags = 10;

export const JobError = z.object({
  type: z.string(),
  message: z.string(),
  details: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      "what the handler attached to its failure, when it did: a failed command's exitCode, stdoutTail and stderrTail (the last 4 KiB of each, env values masked)",
    ),
});
export type JobError = z.infer<typeof JobError>;

export const JobProgress = z.object({
  percent: z.number().min(0).max(100).nullable(),
  message: z.string().nullable(),
});
export type JobProgress = z.infer<typeof JobProgress>;

export const IsoTime = z.iso.datetime();

export const JobCallback = z.object({
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int().min(0),
  lastError: JobError.nullable().describe(
    "why the last failed delivery attempt failed (a refused target, the receiver's answer…); null while none has",
  ),
});
export type JobCallback = z.infer<typeof JobCallback>;

export const Job = z.object({
  jobId: JobId,
  type: z.string(),
  priority: JobPriority,
  status: JobStatus,
  attempt: z.number().int().min(0).describe('attempts started so far'),
  maxAttempts: z.number().int().min(1),
  progress: JobProgress.nullable(),
  input: z.unknown().describe("the input as submitted, but a command job's `env` values read `***`"),
  result: z.unknown(),
  error: JobError.nullable(),
  lastError: JobError.nullable(),
  createdAt: IsoTime,
  startedAt: IsoTime.nullable(),
  finishedAt: IsoTime.nullable(),
  runAt: IsoTime.nullable().describe("a delayed job's first attempt starts no earlier than this"),
  run: z.number().int().min(1).describe('1 for the first run; each retry of a finished job adds one'),
  callback: JobCallback.nullable().describe('delivery of the finished job to callbackUrl; null without one'),
  children: z
    .array(z.object({ jobId: JobId, status: JobStatus }))
    .nullable()
    .describe("a parent job's children, as the parent last saw them (poll a child for its live state)"),
  tags: z.array(z.string()).describe('the tags it was submitted with (key:value)'),
  traceId: z
    .string()
    .nullable()
    .describe(
      'the OpenTelemetry trace the submit (or retry) was in, when the API exports traces: the trace to open; else null',
    ),
  links: z.object({
    self: z.string(),
    ui: z.string(),
    trace: z
      .string()
      .optional()
      .describe(
        "the job's trace in the trace viewer (TRACE_UI_URL); only when it has a traceId and TRACE_UI_URL is set",
      ),
  }),
});
export type Job = z.infer<typeof Job>;

/**
 * The job as its workflow keeps it and answers the jobState query: the job JSON without the links, which depend on
 * where it is served. `tags` and `traceId` only when it has some: the states of jobs without stay as they were before.
 */
export type JobState = Omit<Job, 'links' | 'tags' | 'traceId'> & {
  readonly tags?: string[];
  readonly traceId?: string;
};

export const RetrySettings = z.strictObject({
  maxAttempts: z.number().int().min(1).max(100),
  initialIntervalSeconds: z.number().min(0).max(86_400),
  backoffCoefficient: z.number().min(1).max(100),
  maximumIntervalSeconds: z.number().min(0).max(86_400),
});
export type RetrySettings = z.infer<typeof RetrySettings>;

/** What a job type falls back to for the fields a submit body leaves out. */
export const JobDefaults = z.object({
  timeoutSeconds: z.number().int().min(1),
  heartbeatTimeoutSeconds: z.number().int().min(1),
  retry: RetrySettings,
});
export type JobDefaults = z.infer<typeof JobDefaults>;

/** A job as submitted, without children: what each child of a parent job is. */
export const ChildJobBody = z.strictObject({
  type: z.string().min(1).max(128),
  input: z.unknown().optional(),
  jobId: ClientJobId.optional(),
  priority: JobPriority.default('normal'),
  timeoutSeconds: z.number().int().min(1).max(604_800).optional(),
  heartbeatTimeoutSeconds: z.number().int().min(1).max(86_400).optional(),
  retry: RetrySettings.partial().optional(),
  callbackUrl: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .optional()
    .describe(
      'POSTed the finished job, signed; https to a public address (its host is resolved and checked at delivery; redirects are not followed), or http or a non-public address only for a host:port in CALLBACK_ALLOW_HOSTS',
    ),
  delaySeconds: z
    .number()
    .min(0)
    .max(31_536_000)
    .optional()
    .describe('start the first attempt no earlier than this many seconds from now'),
  runAt: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('start the first attempt no earlier than this time (at most a year ahead)'),
  tags: z
    .array(JobTag)
    .max(maxJobTags, `must hold at most ${maxJobTags} tags`)
    .refine((tags) => new Set(tags).size === tags.length, 'must not repeat a tag')
    .optional()
    .describe('up to 10 key:value tags, e.g. workspace:acme-eu; the list filters on them (?tag=)'),
});
export type ChildJobBody = z.infer<typeof ChildJobBody>;

/** The body of POST /api/v1/jobs. `input` is checked afterwards against the chosen type's own schema. */
export const SubmitJobBody = ChildJobBody.extend({
  children: z
    .array(ChildJobBody)
    .min(1)
    .max(100)
    .optional()
    .describe("jobs that run first, concurrently; their results reach this job's handler as input.childResults"),
  onChildFailure: z
    .enum(['fail', 'continue'])
    .optional()
    .describe('fail (default): the first failed child fails this job and cancels the others; continue: run anyway'),
});
export type SubmitJobBody = z.infer<typeof SubmitJobBody>;

export const ChildResult = z.object({
  jobId: JobId,
  status: JobStatus,
  result: z.unknown(),
  error: JobError.nullable(),
});
export type ChildResult = z.infer<typeof ChildResult>;

/** The longest `?wait`: a reverse proxy in front of the API must hold a request this long (docs/operations.md). */
export const maxWaitSeconds = 300;

export const WaitQuery = z.strictObject({
  wait: z.coerce.number().int().min(0).max(maxWaitSeconds).optional(),
});

export const JobTypeDescription = z.object({
  name: z.string(),
  description: z.string(),
  inputSchema: z.record(z.string(), z.unknown()).describe("JSON Schema (draft 2020-12) of the type's input"),
  resultSchema: z.record(z.string(), z.unknown()).nullable().describe("JSON Schema of the type's result, if declared"),
  defaults: JobDefaults,
  defaultsWhen: z
    .array(
      z.object({
        field: z.string(),
        equals: z.unknown().describe('a string, number or boolean'),
        defaults: z.object({
          timeoutSeconds: z.number().int().optional(),
          heartbeatTimeoutSeconds: z.number().int().optional(),
          retry: RetrySettings.partial().optional(),
        }),
      }),
    )
    .optional()
    .describe("defaults for inputs whose `field` equals `equals`, over `defaults` (a command's manifest)"),
  revision: z.number().int().min(1).describe("the registry's number of the declaration in force"),
  workers: z
    .object({ high: z.number().int().min(0), normal: z.number().int().min(0), low: z.number().int().min(0) })
    .describe('live worker processes serving the type, per priority'),
  liveVariants: z
    .number()
    .int()
    .min(0)
    .describe('distinct declarations among live workers: 2 or more during a rolling upgrade'),
});

export const JobTypeList = z.object({ types: z.array(JobTypeDescription) });

export const QueueFigures = z.object({
  priority: JobPriority,
  taskQueue: z.string(),
  backlog: z
    .number()
    .int()
    .min(0)
    .nullable()
    .describe(
      'attempts waiting in the task queue, as the server estimates it (cached ≈ 10 s); null where it cannot say',
    ),
  pollers: z
    .number()
    .int()
    .min(0)
    .nullable()
    .describe('workers polling the queue recently; null where the server cannot say'),
  queuedJobs: z.number().int().min(0),
  runningJobs: z.number().int().min(0),
});
export type QueueFigures = z.infer<typeof QueueFigures>;

export const TypeQueueFigures = z.object({
  type: z.string(),
  priority: JobPriority,
  taskQueue: z.string().describe("the type's own task queue at this priority: only workers with its handler poll it"),
  workers: z.number().int().min(0).describe('live worker processes serving the type at this priority (the registry)'),
  backlog: QueueFigures.shape.backlog,
  pollers: QueueFigures.shape.pollers,
  queuedJobs: z.number().int().min(0),
  waiting: z
    .string()
    .nullable()
    .describe("why the type's jobs wait at this priority (no live worker serves it), or null when one does"),
});
export type TypeQueueFigures = z.infer<typeof TypeQueueFigures>;

export const QueueList = z.object({
  queues: z.array(QueueFigures).describe('per priority: its shared queue and the jobs of every type'),
  types: z.array(TypeQueueFigures).describe('per job type and priority'),
});
export type QueueList = z.infer<typeof QueueList>;

export const RetryJobParams = z.strictObject({});

export const JobBatchBody = z.strictObject({
  jobs: z.array(z.unknown()).min(1).max(100).describe('submit bodies, each as POST /api/v1/jobs takes it'),
});

export const JobBatchResult = z.object({
  results: z.array(
    z.object({
      index: z.number().int().min(0),
      status: z.number().int().describe('the HTTP status this item alone would have had'),
      job: Job.optional(),
      error: z.object({ code: z.string(), message: z.string(), details: z.array(z.unknown()).optional() }).optional(),
    }),
  ),
});
