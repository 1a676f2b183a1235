import type { JobRequest } from '../../src/workflows/job-state.js';

/** A job's request as the API makes it: a one-second `sleep` with three attempts, submitted 2025-01-01. */
export function sampleJobRequest(overrides: Partial<JobRequest> = {}): JobRequest {
  return {
    jobId: 'job-1',
    type: 'sleep',
    priority: 'normal',
    input: { seconds: 1 },
    timeoutSeconds: 60,
    heartbeatTimeoutSeconds: 10,
    retry: { maxAttempts: 3, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 60 },
    taskQueue: 'jobs-normal',
    submittedAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}
