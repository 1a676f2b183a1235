// The worker protocol's names and shapes (docs/worker-protocol.md): what a handler worker declares to the job type
// registry and what a job's attempt is given and gives back. Written once, here, so that the SDK installs on its own
// (from a path or a git URL); the service's contract takes it from the `@durable-jobs/worker/protocol` subpath
// (src/contract/job-type-declaration.ts). Only zod here. The names, which the service's workflows load, are in
// protocol-names.ts: these schemas cost each workflow that loads them 1.4 MB (docs/performance.md).
import { z } from 'zod';
import { registryMaxBytes, workerProtocolVersion, type Priority } from './protocol-names.js';

export * from './protocol-names.js';

/** What is wrong with `value` as `schema` reads it, for a message or an error; undefined when nothing is. */
export function problemWith(schema: z.ZodType, value: unknown): string | undefined {
  const result = schema.safeParse(value);
  return result.success ? undefined : z.prettifyError(result.error);
}

/** Lower-case so that `Primes` and `primes` cannot become two task queues; no `:`, which separates task queue parts. */
export const JobTypeName = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'must be 1–64 characters of [a-z0-9_.-], starting with a letter');

/** A JSON Schema (draft 2020-12) object, kept small: the registry holds every declaration in its workflow state. */
export const JsonSchema = z
  .record(z.string(), z.unknown())
  .refine((schema) => JSON.stringify(schema).length <= 65_536, 'must be at most 64 KiB as JSON');

export const RetryDefaults = z.strictObject({
  maxAttempts: z.number().int().min(1).max(100),
  initialIntervalSeconds: z.number().min(0).max(86_400),
  backoffCoefficient: z.number().min(1).max(100),
  maximumIntervalSeconds: z.number().min(0).max(86_400),
});

export const JobTypeDefaults = z.strictObject({
  timeoutSeconds: z.number().int().min(1).max(604_800),
  heartbeatTimeoutSeconds: z.number().int().min(1).max(86_400),
  retry: RetryDefaults,
});
export type JobTypeDefaults = z.infer<typeof JobTypeDefaults>;

/** What a declaration leaves out of its defaults takes these (SDKs fill them in before declaring). */
export const protocolDefaults: JobTypeDefaults = {
  timeoutSeconds: 3600,
  heartbeatTimeoutSeconds: 30,
  retry: { maxAttempts: 3, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 60 },
};

/** Some of the defaults: what a `defaultsWhen` case sets over the type's own. */
export const PartialJobTypeDefaults = z.strictObject({
  timeoutSeconds: JobTypeDefaults.shape.timeoutSeconds.optional(),
  heartbeatTimeoutSeconds: JobTypeDefaults.shape.heartbeatTimeoutSeconds.optional(),
  retry: RetryDefaults.partial().optional(),
});
export type PartialJobTypeDefaults = z.infer<typeof PartialJobTypeDefaults>;

/**
 * Defaults that depend on the value of one top-level input field (the command type's per-command manifests): the
 * first case whose `field` equals `equals` applies over `defaults`; a submit's own fields still win.
 */
export const DefaultsWhen = z
  .array(
    z.strictObject({
      field: z.string().min(1).max(128),
      equals: z.union([z.string().max(1000), z.number(), z.boolean()]),
      defaults: PartialJobTypeDefaults,
    }),
  )
  .max(1000);
export type DefaultsWhen = z.infer<typeof DefaultsWhen>;

/** One job type as callers and the API see it; the handler stays in the worker. */
export const JobTypeDeclaration = z.strictObject({
  name: JobTypeName,
  description: z.string().max(2000),
  inputSchema: JsonSchema,
  resultSchema: JsonSchema.nullable(),
  defaults: JobTypeDefaults,
  /** Optional (protocol version 1 without it is whole): per-value defaults, see DefaultsWhen. */
  defaultsWhen: DefaultsWhen.optional(),
});
export type JobTypeDeclaration = z.infer<typeof JobTypeDeclaration>;

/** Attempts a worker process runs at once per priority; a priority it leaves out (or at 0) it does not poll. */
export const WorkerQueues = z.strictObject({
  high: z.number().int().min(0).max(10_000).optional(),
  normal: z.number().int().min(0).max(10_000).optional(),
  low: z.number().int().min(0).max(10_000).optional(),
});
export type WorkerQueues = z.infer<typeof WorkerQueues>;

/** The argument of the `declareWorker` update, sent with Update-With-Start when a worker starts. */
export const DeclareWorker = z.strictObject({
  protocolVersion: z.literal(workerProtocolVersion),
  /** Unique per process start (host, pid and a random part): a restarted process is a new worker. */
  workerId: z.string().min(1).max(200),
  /** Free text for people: the SDK, its version, the host. */
  identity: z.string().max(500),
  jobTypes: z
    .array(JobTypeDeclaration)
    .min(1)
    .max(100)
    .refine((types) => new Set(types.map((type) => type.name)).size === types.length, 'must not name a type twice')
    // Temporal refuses an update past 2 MiB in a way the registry cannot answer: its refusal echoes the request.
    .refine(
      (types) => new TextEncoder().encode(JSON.stringify(types)).byteLength <= registryMaxBytes,
      `must be at most ${registryMaxBytes / 1024} KiB as JSON, what the registry holds of every declaration: declare fewer types or smaller schemas`,
    ),
  queues: WorkerQueues,
  /** The worker counts as live this long after each declaration or renewal; it renews every third of it. */
  leaseSeconds: z.number().int().min(2).max(300),
});
export type DeclareWorker = z.infer<typeof DeclareWorker>;

export const DeclareWorkerResult = z.object({
  leaseExpiresAt: z.iso.datetime(),
  /** Types that other live workers declare differently (a rolling upgrade, or a name clash): this declaration now wins. */
  differing: z.array(z.object({ name: z.string(), otherWorkers: z.number().int().min(1) })),
});
export type DeclareWorkerResult = z.infer<typeof DeclareWorkerResult>;

/** The argument of `renewLease` (every leaseSeconds / 3) and of `leave` (at graceful shutdown). */
export const WorkerRef = z.strictObject({ workerId: z.string().min(1).max(200) });
export type WorkerRef = z.infer<typeof WorkerRef>;

export const RenewLeaseResult = z.object({ leaseExpiresAt: z.iso.datetime() });
export type RenewLeaseResult = z.infer<typeof RenewLeaseResult>;

/** One distinct declaration of a type, numbered in the order the registry first saw it. */
export const JobTypeVariant = z.object({
  revision: z.number().int().min(1),
  declaration: JobTypeDeclaration,
  declaredAt: z.iso.datetime(),
});
export type JobTypeVariant = z.infer<typeof JobTypeVariant>;

export const WorkerLease = z.object({
  identity: z.string(),
  queues: WorkerQueues,
  /** The revision of each type's variant this worker declared. */
  types: z.record(z.string(), z.number().int()),
  leaseSeconds: z.number().int(),
  declaredAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
});
export type WorkerLease = z.infer<typeof WorkerLease>;

/** What the `registryState` query answers and what continue-as-new carries. */
export const RegistryState = z.object({
  nextRevision: z.number().int().min(1),
  /** By type name: its variants still declared by a live worker, and always its newest one. */
  types: z.record(z.string(), z.array(JobTypeVariant)),
  workers: z.record(z.string(), WorkerLease),
});
export type RegistryState = z.infer<typeof RegistryState>;

/** The registry workflow's argument. */
export const RegistryInput = z.object({
  state: RegistryState.nullable(),
  /** Continue as new past this many history events (default 2000); tests set it low. */
  historyLimit: z.number().int().min(10).optional(),
});
export type RegistryInput = z.infer<typeof RegistryInput>;

/** A job type as the API serves it: the declaration in force and its live worker processes per priority. */
export interface JobTypeView {
  readonly declaration: JobTypeDeclaration;
  readonly revision: number;
  readonly workers: Record<Priority, number>;
  /** Distinct declarations among live workers: more than one during a rolling upgrade. */
  readonly liveVariants: number;
}

/** The job activity's second argument; the first is the job's input as submitted. */
export interface AttemptInfo {
  readonly jobId: string;
  readonly tenant: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** A parent job's children's ends, by index; handlers see them as `input.childResults`. */
  readonly childResults?: readonly unknown[];
}

export interface AttemptProgress {
  readonly percent: number | null;
  readonly message: string | null;
}

/** What the job activity returns. */
export interface AttemptOutcome {
  readonly result: unknown;
  readonly progress: AttemptProgress | null;
  /** The attempt's log lines; a worker from before logs sends none. */
  readonly logs?: AttemptLogs;
  /**
   * When the attempt began, by the worker's clock (ISO 8601), as in `AttemptStarted`: an attempt that ends within
   * 250 ms sends no signal, so its outcome says it. A worker from before sends none.
   */
  readonly startedAt?: string;
}

/** The job activity's heartbeat details: the API reads progress and the live log tail back from the pending attempt. */
export interface AttemptHeartbeat {
  readonly progress: AttemptProgress | null;
  readonly logs?: AttemptLogs;
}

/** A job log line's level, lowest first. */
export const attemptLogLevels = ['debug', 'info', 'warn', 'error'] as const;
export type AttemptLogLevel = (typeof attemptLogLevels)[number];

/** One line a handler logged (or a command printed) in an attempt; `seq` counts from 1 in each attempt. */
export const AttemptLogLine = z.object({
  seq: z.number().int().min(1),
  time: z.iso.datetime({ offset: true }),
  level: z.enum(attemptLogLevels),
  message: z.string(),
});
export type AttemptLogLine = z.infer<typeof AttemptLogLine>;

/**
 * The log lines an attempt kept: the newest, within `attemptLogLimits`; the `dropped` older ones (seq 1 to
 * `dropped`) were let go. Sent in the heartbeat details and the completion, and as the last of an attempt failure's
 * details `{ "logs": … }`.
 */
export const AttemptLogs = z.object({
  lines: z.array(AttemptLogLine),
  dropped: z.number().int().min(0),
});
export type AttemptLogs = z.infer<typeof AttemptLogs>;

/** What an attempt keeps: its last 1,000 lines and 256 KiB of messages, each message cut at 8 KiB. */
export const attemptLogLimits = { lines: 1000, bytes: 256 * 1024, messageBytes: 8 * 1024 } as const;
