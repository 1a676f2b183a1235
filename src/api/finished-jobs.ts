import type { JobState } from '../workflows/job-state.js';

/**
 * The final states of finished jobs, by workflow run id. A run's final state never changes, so entries
 * never go stale; the oldest are dropped past `capacity`.
 */
export class FinishedJobCache {
  private readonly states = new Map<string, JobState>();
  constructor(private readonly capacity = 10_000) {}

  get(runId: string): JobState | undefined {
    return this.states.get(runId);
  }

  set(runId: string, state: JobState): void {
    this.states.delete(runId);
    this.states.set(runId, state);
    if (this.states.size > this.capacity) this.states.delete(this.states.keys().next().value!);
  }
}
