// The task queues jobs run on, named once: the API starts jobs on them, the worker polls them.
import type { JobPriority } from '../contract/job.js';

/** The task queue of a priority's job attempts (activities): each has its own worker slots. */
export function taskQueueFor(prefix: string, priority: JobPriority): string {
  return `${prefix}-${priority}`;
}

/**
 * The task queue of every job workflow, served by every worker process whatever priorities it runs, so a
 * job whose priority has no free worker still answers queries and is cancelled at once. Workflow tasks
 * are short, and carry the job's priority key so high ones are picked first.
 */
export function workflowTaskQueueFor(prefix: string): string {
  return `${prefix}-workflows`;
}
