// The refusals a job operation throws, each with the contract's error code (its HTTP status is the contract's too),
// and how Temporal's own errors are told apart. src/api/errors.ts turns them into responses, in one place.
import { isGrpcServiceError } from '@temporalio/client';
import { z } from 'zod';
import { errorStatusByCode, type ErrorCode } from '../contract/errors.js';
import { didYouMean, listedMaxNames, listOf, pathKey, quoted } from './suggest.js';

/** A refusal the API answers with the contract's error body; only these expose their message. */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  /** Response headers the refusal needs (Retry-After, WWW-Authenticate). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown[],
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options);
    this.headers = options?.headers ?? {};
  }

  get status(): number {
    return errorStatusByCode[this.code];
  }
}

/** Thrown when a request's body, path or query does not satisfy the contract. */
export class RequestInvalidError extends ApiError {
  override readonly name = 'RequestInvalidError';
  constructor(message: string, details?: unknown[]) {
    super('invalid_request', message, details);
  }

  /** `sent`, the schema and the value it refused, lets an unknown field's problem name the field meant. */
  static fromZod(
    error: z.ZodError,
    pathPrefix: readonly (string | number)[] = [],
    sent?: { schema: z.ZodType; value: unknown },
  ): RequestInvalidError {
    const details = error.issues.flatMap((issue) => {
      const path = [...pathPrefix, ...issue.path].map(String).join('.');
      // A record's key refused: zod says only "Invalid key in record"; what the key must be is in its own issues.
      if (issue.code === 'invalid_key')
        return [{ path, message: issue.issues.map((inner) => inner.message).join('; ') }];
      if (issue.code !== 'unrecognized_keys') return [{ path, message: issue.message }];
      const known = sent ? fieldsAt(sent.schema, issue.path) : [];
      const holder = sent ? valueAt(sent.value, issue.path) : undefined;
      return issue.keys.slice(0, listedMaxNames).map((key) => ({
        path: [...pathPrefix, ...issue.path, pathKey(key)].map(String).join('.'),
        message: unknownFieldMessage(key, known, holder),
      }));
    });
    return RequestInvalidError.fromProblems(details);
  }

  /** The first problem is the message; all are the details (a job's input checked against its JSON Schema too). */
  static fromProblems(details: readonly { path: string; message: string }[]): RequestInvalidError {
    const first = details[0];
    const message = first ? (first.path ? `${first.path}: ${first.message}` : first.message) : 'invalid request';
    return new RequestInvalidError(message, [...details]);
  }
}

/** The parts of a zod schema's definition that lead from an object to its fields. */
interface SchemaDef {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly element?: z.ZodType;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
}

/** The fields the object schema at `path` declares (through optionals, defaults, arrays and pipes). */
function fieldsAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType | undefined = schema;
  let rest = [...path];
  while (current) {
    const def = current._zod.def as SchemaDef;
    if (def.type === 'object') {
      if (rest.length === 0) return Object.keys(def.shape ?? {});
      current = def.shape?.[String(rest[0])];
      rest = rest.slice(1);
    } else if (def.type === 'array') {
      current = def.element;
      rest = rest.slice(1);
    } else current = def.innerType ?? def.in;
  }
  return [];
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** What a job body carries in the example of a flat body: no more than a refusal should quote. */
const exampleMaxChars = 160;

/**
 * Why `key` is refused beside the `known` fields: the one it is near; for a job body (`type` and `input` known) with
 * the job's arguments at its top, where they go, shown on the caller's own body; else the fields there are.
 */
function unknownFieldMessage(key: string, known: readonly string[], holder: unknown): string {
  const near = didYouMean(key, known);
  if (near || known.length === 0) return `unknown field ${quoted(key)}${near}`;
  if (known.includes('input') && known.includes('type') && holder !== null && typeof holder === 'object') {
    const fields = holder as Record<string, unknown>;
    const args = Object.fromEntries(Object.entries(fields).filter(([name]) => !known.includes(name)));
    const type = typeof fields['type'] === 'string' ? fields['type'] : '…';
    const example = JSON.stringify({ type, input: args });
    const shown = example.length <= exampleMaxChars ? example : `{"type":${quoted(type)},"input":{…}}`;
    return `${quoted(key)} is not a field of a job request: a job's arguments go under "input": ${shown}`;
  }
  return `unknown field ${quoted(key)}; the fields here are ${listOf(known)}`;
}

/** Thrown when a request body, or a job's input, is over its size limit. */
export class PayloadTooLargeError extends ApiError {
  override readonly name = 'PayloadTooLargeError';
  constructor(limitBytes: number, what = 'request body', hint?: string) {
    super('payload_too_large', `${what} is larger than ${limitBytes} bytes${hint ? `: ${hint}` : ''}`);
  }
}

/** Thrown when no job has the requested id. */
export class JobNotFoundError extends ApiError {
  override readonly name = 'JobNotFoundError';
  constructor(readonly jobId: string) {
    // A job past retention is gone from Temporal without a trace: the message names every reason the API cannot tell apart.
    super(
      'not_found',
      `no job with id "${jobId}": it never existed, was deleted, or finished longer ago than the retention (JOB_RETENTION_HOURS)`,
    );
  }
}

/** Thrown when a request conflicts with the job's existing request or state. */
export class JobConflictError extends ApiError {
  override readonly name = 'JobConflictError';
  constructor(
    readonly jobId: string,
    message: string,
  ) {
    super('conflict', message);
  }
}

/**
 * Thrown when Temporal cannot be reached, did not answer a call before its deadline, or refused it for now (its rate
 * limits, a busy workflow): the message says which (a busy server is reachable, and an operator looks for different
 * causes).
 */
export class TemporalUnavailableError extends ApiError {
  override readonly name = 'TemporalUnavailableError';
  constructor(cause: unknown) {
    super('unavailable', `${whyUnavailable(firstGrpcCode(cause))}; try again shortly`, undefined, {
      cause,
      headers: { 'Retry-After': '5' },
    });
  }
}

function whyUnavailable(code: number | undefined): string {
  if (code === grpcDeadlineExceeded || code === grpcCancelled) return 'Temporal did not answer in time';
  if (code === grpcResourceExhausted || code === grpcAborted) return 'Temporal is busy and refused the call for now';
  return 'Temporal is unreachable';
}

/**
 * Thrown by a delete when Temporal still finds the job's workflow after deleting it for a while (it deletes in the
 * background): asking again is safe, and answers 204 once it is gone, or 404.
 */
export class JobDeleteUnfinishedError extends ApiError {
  override readonly name = 'JobDeleteUnfinishedError';
  constructor(readonly jobId: string) {
    super(
      'unavailable',
      `job "${jobId}" is being deleted and Temporal has not finished yet; DELETE it again shortly`,
      undefined,
      {
        headers: { 'Retry-After': '5' },
      },
    );
  }
}

/**
 * Thrown when a job's workflow start was sent to Temporal and its answer lost (the call's deadline passed, or the
 * connection broke): the job may exist. Its id is the idempotency key, so submitting the same request with it again is
 * safe: 200 with the job if it was started, 202 if not.
 */
export class JobStartOutcomeUnknownError extends ApiError {
  override readonly name = 'JobStartOutcomeUnknownError';
  constructor(
    readonly jobId: string,
    message: string,
    cause: unknown,
  ) {
    super('outcome_unknown', message, [{ jobId }], { cause, headers: { 'Retry-After': '5' } });
  }
}

const grpcCancelled = 1;
const grpcUnavailable = 14;
const grpcDeadlineExceeded = 4;
const grpcNotFound = 5;
const grpcResourceExhausted = 8;
const grpcAborted = 10;
/** The codes of a call Temporal could not take now, which the client's own retry gave up on by the call's deadline. */
const unavailableCodes = new Set([
  grpcUnavailable,
  grpcDeadlineExceeded,
  grpcCancelled,
  grpcResourceExhausted,
  grpcAborted,
]);

/** The gRPC status code of a failed call to Temporal, if the error is one. */
function grpcCodeOf(err: unknown): number | undefined {
  return isGrpcServiceError(err) ? err.code : undefined;
}

/** True when Temporal answered that what was asked of it does not exist (a raw service call's workflow, say). */
export function isTemporalNotFound(err: unknown): boolean {
  return grpcCodeOf(err) === grpcNotFound;
}

/** The first gRPC status code in the error's cause chain. */
function firstGrpcCode(err: unknown): number | undefined {
  for (let current = err; current; current = (current as { cause?: unknown }).cause) {
    const code = grpcCodeOf(current);
    if (code !== undefined) return code;
    if (typeof current !== 'object') break;
  }
  return undefined;
}

/**
 * True when the error (or one of its causes) says Temporal could not be reached, did not answer in time, or refused
 * the call for now (RESOURCE_EXHAUSTED: its rate limits or a busy workflow; ABORTED). A call cancelled by the server
 * counts: Temporal cancels a call whose deadline it saw pass before this process did.
 */
export function isTemporalUnavailable(err: unknown): boolean {
  for (let current = err; current; current = (current as { cause?: unknown }).cause) {
    const code = grpcCodeOf(current);
    if (code !== undefined && unavailableCodes.has(code)) return true;
    if (
      current instanceof Error &&
      /ECONNREFUSED|Connection refused|connect error|transport error/i.test(current.message)
    )
      return true;
    if (typeof current !== 'object') break;
  }
  return false;
}
