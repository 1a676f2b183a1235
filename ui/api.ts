// The dashboard's one client of the REST API: the project's typed client (src/client), with the signed-in key.
import { createJobsClient, isJobFinished, JobsApiError, type Job } from '../src/client/index.js';
import { storedKey } from './session.js';

export const client = createJobsClient({ baseUrl: location.origin, apiKey: storedKey });

export {
  dataOf,
  isJobFinished,
  JobsApiError,
  type BulkJobsResult,
  type Job,
  type JobAttempts,
  type JobLogLine,
  type JobStatus,
  type ListJobsQuery,
} from '../src/client/index.js';

/** True for the API's 401: the key is missing, wrong or revoked, and the user must sign in (again). */
export function isUnauthorized(err: unknown): boolean {
  return err instanceof JobsApiError && err.status === 401;
}

/**
 * True for a refusal that asking again cannot change (400, 404…: any 4xx but 401, 408 and 429): a live page stops
 * reading on it, where a 503 or a lost connection is read again.
 */
export function isLastingRefusal(err: unknown): boolean {
  return err instanceof JobsApiError && err.status >= 400 && err.status < 500 && ![401, 408, 429].includes(err.status);
}

/** What to show for a failed call: the API's own message, or the browser's. */
export function messageOf(err: unknown): string {
  if (err instanceof JobsApiError) return err.message;
  return err instanceof Error ? `the API did not answer: ${err.message}` : String(err);
}

export type JobAction = 'cancel' | 'retry';

/** What a job's page and the list's bulk bar both offer: each action's button label and the jobs it applies to. */
export const jobActions: Readonly<
  Record<JobAction, { readonly label: string; readonly applies: (job: Job) => boolean }>
> = {
  // An unfinished job (the API answers 409 for a finished one).
  cancel: { label: 'Cancel', applies: (job) => !isJobFinished(job) },
  // A job that failed, timed out or was cancelled (the API answers 409 otherwise).
  retry: { label: 'Retry', applies: (job) => isJobFinished(job) && job.status !== 'succeeded' },
};
