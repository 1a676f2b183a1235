// Where a submit is validated: a body, its job type and its tenant become the job workflow's request, and the request
// its hash (the idempotency check of a repeated submit). Pure but for finding the job type in the registry.
import { createHash, randomUUID } from 'node:crypto';
import { JobId, type ChildJobBody, type SubmitJobBody } from '../contract/job.js';
import { redactedInput } from '../contract/job-json.js';
import { jobTypeTaskQueue } from '../contract/job-type-declaration.js';
import { workflowIdOf, type JobRequest } from '../workflows/job-state.js';
import { jobStartMetadata } from '../workflows/search-attributes.js';
import { workflowTaskQueueFor } from '../workflows/task-queues.js';
import { workflowVersion } from '../workflows/version.js';
import { PayloadTooLargeError, RequestInvalidError } from './errors.js';
import { defaultsFor, type KnownJobType } from './job-types.js';
import { canonicalJsonPieces, jsonByteLength } from './json-bytes.js';
import { didYouMean, listOf, quoted } from './suggest.js';

/**
 * A job's input travels in its workflow's history and in every poll: well under Temporal's 2 MB payload
 * limit, and refused here before Temporal sees it.
 */
export const maxInputBytes = 512 * 1024;

/**
 * The most a parent's request may take, its children's inputs included: it is its workflow's input, one payload, and
 * Temporal refuses a payload over 2 MiB (its default blob size limit). Room is left for encryption and the server's
 * framing; a body within the default BODY_LIMIT_BYTES (1 MiB) stays under it.
 */
export const maxRequestBytes = 1536 * 1024;

/** A runAt this far in the past still counts as "now": clocks differ. */
export const runAtSkewMs = 60_000;
const maxDelayMs = 366 * 24 * 60 * 60 * 1000;

export interface RequestSettings {
  /** The job type of a name from the job type registry, or undefined. */
  readonly findJobType: (name: string) => Promise<KnownJobType | undefined>;
  /** The names of every known type, for the refusal of an unknown one. */
  readonly jobTypeNames: () => Promise<readonly string[]>;
  readonly taskQueuePrefix: string;
  /** Off when CALLBACK_SECRET is not set; `refusal` says why a callback URL may not be called, if it may not. */
  readonly callbacks: { readonly enabled: boolean; readonly refusal: (url: URL) => string | undefined };
  /** Milliseconds since the epoch: submission times and runAt checks. */
  readonly now?: () => number;
  /** A job id for a body without one. */
  readonly newJobId?: () => string;
  /** The version requests are stamped with (JOBS_WORKFLOW_VERSION, at most this code's); none when undefined. */
  readonly commandsVersion?: number;
}

/** Why a type name is refused: the known names (a bounded list) and the one it is near, if any. */
export function unknownJobTypeMessage(name: string, known: readonly string[]): string {
  const names = known.length > 0 ? listOf(known) : 'none yet (no worker has declared any)';
  return `unknown job type ${quoted(name)}; known: ${names}${didYouMean(name, known)}`;
}

/** When a delayed job may first run: from delaySeconds or runAt, nothing for an immediate job. */
function runAtOf(body: ChildJobBody, now: number): { runAt?: string } {
  if (body.delaySeconds !== undefined && body.runAt !== undefined)
    throw new RequestInvalidError('give delaySeconds or runAt, not both');
  if (body.delaySeconds) return { runAt: new Date(now + body.delaySeconds * 1000).toISOString() };
  if (body.runAt === undefined) return {};
  const at = Date.parse(body.runAt);
  if (at < now - runAtSkewMs) throw new RequestInvalidError('runAt: is in the past');
  if (at > now + maxDelayMs) throw new RequestInvalidError('runAt: is more than a year ahead');
  return at > now ? { runAt: new Date(at).toISOString() } : {};
}

/**
 * Two submits are the same request when everything but the submission times, the run, the trace and the workflow
 * version stamp match (a repeat stamped otherwise, after an upgrade, is still a repeat). A command's
 * env values are left out, as the job JSON leaves them out: a 200 or 409 would otherwise tell a caller
 * guessing them whether its guess was right.
 */
export function requestHash(request: JobRequest): string {
  const {
    submittedAt: _submittedAt,
    run: _run,
    traceId: _traceId,
    commandsVersion: _commandsVersion,
    children,
    input,
    ...identity
  } = request;
  const childHashes = children?.map((child) => child.requestHash);
  const hash = createHash('sha256');
  for (const piece of canonicalJsonPieces({
    ...identity,
    input: redactedInput(request.type, input),
    children: childHashes,
  }))
    hash.update(piece);
  return hash.digest('hex');
}

/** Job ids a submit refuses: GET /api/v1/jobs/counts is the counts, so a job of that id could not be read. */
const reservedJobIds = new Set(['counts']);

/** Validates one job's body against its job type and applies the type's defaults. */
export async function resolveJob(settings: RequestSettings, tenant: string, body: ChildJobBody): Promise<JobRequest> {
  if (body.jobId !== undefined && reservedJobIds.has(body.jobId))
    throw new RequestInvalidError(
      `jobId: "${body.jobId}" is reserved (GET /api/v1/jobs/${body.jobId}); choose another`,
    );
  const jobType = await settings.findJobType(body.type);
  if (!jobType) {
    const message = unknownJobTypeMessage(body.type, await settings.jobTypeNames());
    throw new RequestInvalidError(`type: ${message}`, [{ path: 'type', message }]);
  }
  if (jsonByteLength(body.input ?? {}) > maxInputBytes) throw new PayloadTooLargeError(maxInputBytes, 'input');
  const checked = jobType.check(body.input ?? {});
  if ('problems' in checked) throw RequestInvalidError.fromProblems(checked.problems);
  const { name } = jobType.view.declaration;
  const defaults = defaultsFor(jobType.view.declaration, checked.input);
  const retry = { ...defaults.retry, ...body.retry };
  if (body.callbackUrl) checkCallbackUrl(settings, body.callbackUrl);
  if (retry.maximumIntervalSeconds < retry.initialIntervalSeconds) {
    throw new RequestInvalidError('retry.maximumIntervalSeconds: must be ≥ retry.initialIntervalSeconds');
  }
  const now = (settings.now ?? Date.now)();
  return {
    jobId: body.jobId ?? (settings.newJobId ?? randomUUID)(),
    tenant,
    type: name,
    priority: body.priority,
    input: checked.input,
    timeoutSeconds: body.timeoutSeconds ?? defaults.timeoutSeconds,
    heartbeatTimeoutSeconds: body.heartbeatTimeoutSeconds ?? defaults.heartbeatTimeoutSeconds,
    retry,
    // Only workers with the type's handler poll it (docs/worker-protocol.md).
    taskQueue: jobTypeTaskQueue(settings.taskQueuePrefix, name, body.priority),
    submittedAt: new Date(now).toISOString(),
    ...(body.callbackUrl ? { callbackUrl: body.callbackUrl } : {}),
    ...runAtOf(body, now),
    ...(body.tags?.length ? { tags: body.tags } : {}),
    ...commandsVersionOf(settings),
  };
}

/** The stamp a request of this API carries: JOBS_WORKFLOW_VERSION, never above the workflows this code knows. */
export function commandsVersionOf(settings: Pick<RequestSettings, 'commandsVersion'>): { commandsVersion?: number } {
  return settings.commandsVersion === undefined
    ? {}
    : { commandsVersion: Math.min(settings.commandsVersion, workflowVersion) };
}

function checkCallbackUrl(settings: RequestSettings, url: string): void {
  if (!settings.callbacks.enabled)
    throw new RequestInvalidError(
      'callbackUrl: callbacks are not enabled on this service (CALLBACK_SECRET is not set)',
    );
  const refusal = settings.callbacks.refusal(new URL(url));
  if (refusal) throw new RequestInvalidError(`callbackUrl: ${refusal}`, [{ path: 'callbackUrl', message: refusal }]);
}

/** Validates a submit body (with its children) against the job types and applies their defaults. */
export async function resolveSubmit(
  settings: RequestSettings,
  tenant: string,
  body: SubmitJobBody,
): Promise<JobRequest> {
  const request = await resolveJob(settings, tenant, body);
  if (!body.children) return request;
  // A child without a jobId is <jobId>.<index>, which must be a job id too, or no route could read or cancel it.
  const unnamedChildId = (index: number): string => `${request.jobId}.${index}`;
  const lastUnnamed = body.children.findLastIndex((child) => child.jobId === undefined);
  const longestChildId = lastUnnamed < 0 ? undefined : unnamedChildId(lastUnnamed);
  if (longestChildId !== undefined && !JobId.safeParse(longestChildId).success)
    throw new RequestInvalidError(
      `jobId: leaves no room for its children's ids, <jobId>.<index>, in a job id's 128 characters (child ${lastUnnamed}'s would have ${longestChildId.length}): give it at most ${128 - (longestChildId.length - request.jobId.length)} characters, or give each child a jobId`,
    );
  const children = await Promise.all(
    body.children.map(async (childBody, index) => {
      const child = await resolveJob(settings, tenant, {
        ...childBody,
        jobId: childBody.jobId ?? unnamedChildId(index),
      }).catch((err: unknown) => {
        if (err instanceof RequestInvalidError)
          throw new RequestInvalidError(`children.${index}.${err.message}`, err.details);
        throw err;
      });
      return { request: child, requestHash: requestHash(child) };
    }),
  );
  const ids = children.map(({ request: child }) => child.jobId);
  if (new Set(ids).size !== ids.length || ids.includes(request.jobId))
    throw new RequestInvalidError('children: job ids must differ from each other and from the parent');
  const parent: JobRequest = { ...request, children, onChildFailure: body.onChildFailure ?? 'fail' };
  if (jsonByteLength(parent) > maxRequestBytes)
    throw new PayloadTooLargeError(
      maxRequestBytes,
      "the job with its children's inputs",
      "Temporal takes at most 2 MiB for a job's request: give the children smaller inputs, or submit them as jobs of their own",
    );
  return parent;
}

/** How a job's workflow starts: its id, queue, input, memo, search attributes and Temporal priority. */
export function jobStartOptions(taskQueuePrefix: string, tenant: string, request: JobRequest) {
  return {
    workflowId: workflowIdOf(tenant, request.jobId),
    taskQueue: workflowTaskQueueFor(taskQueuePrefix),
    args: [request] as [JobRequest],
    ...jobStartMetadata(request, requestHash(request)),
  };
}
