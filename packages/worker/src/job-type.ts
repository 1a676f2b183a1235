import type { Logger } from '@temporalio/common';
import { z } from 'zod';
import {
  JobTypeDeclaration,
  JobTypeName,
  problemWith,
  protocolDefaults,
  type AttemptLogLevel,
  type DefaultsWhen,
  unrecoverableErrorType,
  type JobTypeDefaults,
} from './job-type-declaration.js';

/** A JSON Schema (draft 2020-12) given as a plain object, for a type whose input is not described with zod. */
export type JsonSchemaObject = Readonly<Record<string, unknown>>;

/** zod's output type of a zod schema; `unknown` for a plain JSON Schema, which this SDK does not check. */
export type Infer<S> = S extends z.ZodType ? z.output<S> : unknown;

/** What a handler is given for one attempt. */
export interface JobContext {
  readonly jobId: string;
  /** The tenant that submitted the job ("default" without API keys). */
  readonly tenant: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborted when the job is cancelled, the attempt times out or the worker shuts down: stop promptly. */
  readonly signal: AbortSignal;
  /** Reports progress (percent 0–100, or null for unknown): it shows in polls within about a second. */
  progress(percent: number | null, message?: string | null): void;
  /**
   * The attempt's logger: every line is kept in the job's logs (`GET /api/v1/jobs/{jobId}/logs`, the dashboard) and
   * written to the worker's log with the job id, tenant and attempt.
   */
  readonly log: JobLogger;
}

export interface JobLogger extends Logger {
  /** Keeps a line in the job's logs only, not in the worker's log: for output the handler relays (a command's lines). */
  keep(level: AttemptLogLevel, message: string): void;
}

export interface JobTypeDefinition<S extends z.ZodType | JsonSchemaObject, R> {
  /** 1–64 characters of [a-z0-9_.-], starting with a letter: what callers submit as `type`. */
  readonly name: string;
  readonly description: string;
  /** A zod schema (the handler gets the parsed value) or a JSON Schema object (the handler gets the input as sent). */
  readonly input: S;
  /** Documents the result; a zod schema is also checked, and a result that fails it ends the job. */
  readonly result?: z.ZodType<R> | JsonSchemaObject;
  /** What a submit leaves out; the rest falls back to the protocol's defaults. */
  readonly defaults?: {
    readonly timeoutSeconds?: number;
    readonly heartbeatTimeoutSeconds?: number;
    readonly retry?: Partial<JobTypeDefaults['retry']>;
  };
  /** Defaults that depend on one input field's value, over `defaults` (docs/worker-protocol.md, "defaultsWhen"). */
  readonly defaultsWhen?: DefaultsWhen;
  run(input: Infer<S>, ctx: JobContext): Promise<R>;
}

/** A job type ready to serve: its declaration, as the registry and the API see it, and its handler. */
export interface JobType<I = unknown, R = unknown> {
  readonly declaration: JobTypeDeclaration;
  /** The handler's input from what was submitted; throws when it does not match this worker's schema. */
  parseInput(input: unknown): I;
  /** The result to return; throws when it does not match a zod result schema. */
  parseResult(result: unknown): R;
  run(input: I, ctx: JobContext): Promise<R>;
}

/** Thrown by defineJobType when a declaration is not one the registry would take. */
export class JobTypeDefinitionError extends Error {
  override readonly name = 'JobTypeDefinitionError';
  constructor(
    readonly jobType: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`job type "${jobType}": ${message}`, options);
  }
}

/**
 * Thrown by a handler for a failure no retry can fix: the job ends `failed` at once, whatever attempts remain. Its
 * name is the failure type the service matches, so it is a literal (a minifier must not rename it).
 */
export class UnrecoverableError extends Error {
  override readonly name = unrecoverableErrorType;
}

/** zod 4 schemas carry `_zod`; checked by shape so that a schema from another copy of zod is one too. */
function isZodSchema(schema: unknown): schema is z.ZodType {
  return typeof schema === 'object' && schema !== null && '_zod' in schema;
}

/** The JSON Schema of a zod schema or a plain one, marked draft 2020-12. */
export function jsonSchemaOf(jobType: string, schema: z.ZodType | JsonSchemaObject, io: 'input' | 'output') {
  if (!isZodSchema(schema)) return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...schema };
  try {
    return z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'throw' }) as Record<string, unknown>;
  } catch (err) {
    throw new JobTypeDefinitionError(jobType, `its ${io} schema has no JSON Schema (${(err as Error).message})`, {
      cause: err,
    });
  }
}

/** Declares a job type: checked here, at startup, so a worker with a bad declaration never starts. */
export function defineJobType<S extends z.ZodType | JsonSchemaObject, R>(
  definition: JobTypeDefinition<S, R>,
): JobType<Infer<S>, R> {
  const badName = problemWith(JobTypeName, definition.name);
  if (badName) throw new JobTypeDefinitionError(definition.name, `its name: ${badName}`);
  const given = definition.defaults ?? {};
  const declared = JobTypeDeclaration.safeParse({
    name: definition.name,
    description: definition.description,
    inputSchema: jsonSchemaOf(definition.name, definition.input, 'input'),
    resultSchema: definition.result ? jsonSchemaOf(definition.name, definition.result, 'output') : null,
    defaults: {
      timeoutSeconds: given.timeoutSeconds ?? protocolDefaults.timeoutSeconds,
      heartbeatTimeoutSeconds: given.heartbeatTimeoutSeconds ?? protocolDefaults.heartbeatTimeoutSeconds,
      retry: { ...protocolDefaults.retry, ...given.retry },
    },
    ...(definition.defaultsWhen ? { defaultsWhen: definition.defaultsWhen } : {}),
  });
  if (!declared.success) throw new JobTypeDefinitionError(definition.name, z.prettifyError(declared.error));
  const input = definition.input;
  const result = definition.result;
  return {
    declaration: declared.data,
    parseInput: (value) => (isZodSchema(input) ? input.parse(value) : value) as Infer<S>,
    parseResult: (value) => (result && isZodSchema(result) ? result.parse(value) : value) as R,
    run: (input, ctx) => definition.run(input, ctx),
  };
}
