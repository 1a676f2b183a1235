// The dashboard's one client of the REST API: the project's typed client (src/client), with the signed-in key.
import { createJobsClient, JobsApiError } from '../src/client/index.js';
import { storedKey } from './session.js';

export const client = createJobsClient({ baseUrl: location.origin, apiKey: storedKey });

export { isJobFinished, JobsApiError, type Job, type JobLogLine, type JobStatus, type ListJobsQuery } from '../src/client/index.js';

/** True for the API's 401: the key is missing, wrong or revoked, and the user must sign in (again). */
export function isUnauthorized(err: unknown): boolean {
  return err instanceof JobsApiError && err.status === 401;
}

/** What to show for a failed call: the API's own message, or the browser's. */
export function messageOf(err: unknown): string {
  if (err instanceof JobsApiError) return err.message;
  return err instanceof Error ? `the API did not answer: ${err.message}` : String(err);
}
