// The worker protocol's names and constants (docs/worker-protocol.md), without its zod schemas: what the service's
// workflows load. Every workflow in a worker evaluates the modules it loads afresh, so the schemas
// (job-type-declaration.ts, which re-exports this file) stay out of them.

/** Sent in every declaration; a registry refuses versions it does not know. */
export const workerProtocolVersion = 1;

export const jobPriorities = ['high', 'normal', 'low'] as const;
export type Priority = (typeof jobPriorities)[number];

/** The task queue of one job type's attempts at one priority: only workers with the type's handler poll it. */
export function jobTypeTaskQueue(prefix: string, type: string, priority: Priority): string {
  return `${prefix}:${type}:${priority}`;
}

/** The registry workflow of a task queue prefix: `#` is in no job id, tenant or prefix, so no job can take it. */
export function registryWorkflowId(prefix: string): string {
  return `${prefix}#job-type-registry`;
}

/** The registry runs on the job workflows' queue, served by the service's own workers. */
export function registryTaskQueue(prefix: string): string {
  return `${prefix}-workflows`;
}

/**
 * The most the registry's state takes as JSON (UTF-8), and so the most one declaration's job types may: its query's
 * answer and the state continue-as-new carries are each one payload, which Temporal refuses past 2 MiB.
 */
export const registryMaxBytes = 1024 * 1024;

export const registryWorkflowType = 'jobTypeRegistryWorkflow';
export const declareWorkerUpdateName = 'declareWorker';
export const renewLeaseUpdateName = 'renewLease';
export const leaveUpdateName = 'leave';
export const registryStateQueryName = 'registryState';
/** The failure type of a renewal the registry does not take (unknown or expired worker): the worker declares again. */
export const workerNotDeclaredErrorType = 'WorkerNotDeclared';

/** Signalled to the job workflow when an attempt begins executing, so that `queued` turns `running`. */
export const attemptStartedSignalName = 'attemptStarted';
export interface AttemptStarted {
  readonly attempt: number;
  /**
   * When the attempt began, by the worker's clock (ISO 8601), not when the signal is sent: the job's `startedAt`. The
   * workflow moves it into the time between scheduling the attempt and hearing of it. A worker from before sends none.
   */
  readonly startedAt?: string;
}

/** The failure type that ends a job at once, whatever attempts remain. */
export const unrecoverableErrorType = 'UnrecoverableError';
