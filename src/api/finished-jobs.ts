import type { JobState } from '../contract/job.js';

/** How long a job's latest finished state is served without asking Temporal (see `latest`). */
export const latestFinishedTtlMs = 5_000;

/**
 * The final states of finished jobs. By run id they never go stale (a run's end never changes); the oldest
 * are dropped past `capacity`. By workflow id they are kept for `latestFinishedTtlMs` only: a retry starts a
 * new run of the same workflow id, and an API process that did not take the retry learns of it that late.
 */
export class FinishedJobCache {
  private readonly byRun = new Map<string, JobState>();
  private readonly byWorkflow = new Map<string, { state: JobState; until: number }>();

  constructor(
    private readonly capacity = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(runId: string): JobState | undefined {
    return this.byRun.get(runId);
  }

  set(runId: string, workflowId: string, state: JobState): void {
    remember(this.byRun, runId, state, this.capacity);
    remember(this.byWorkflow, workflowId, { state, until: this.now() + latestFinishedTtlMs }, this.capacity);
  }

  /** The job's latest finished state, if it was read within the TTL. */
  latest(workflowId: string): JobState | undefined {
    const entry = this.byWorkflow.get(workflowId);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry.state;
    this.byWorkflow.delete(workflowId);
    return undefined;
  }

  /** This process started a new run of the workflow: its last finished state is no longer the job's. */
  forget(workflowId: string): void {
    this.byWorkflow.delete(workflowId);
  }
}

function remember<V>(map: Map<string, V>, key: string, value: V, capacity: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > capacity) map.delete(map.keys().next().value!);
}
