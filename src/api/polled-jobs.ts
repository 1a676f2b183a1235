import { isFinished, type JobState } from '../workflows/job-state.js';

/** The oldest read of an unfinished job a poll is answered with. */
export const pollMaxAgeMs = 1_000;

interface Read {
  readonly state: JobState;
  readonly at: number;
}

/**
 * The latest read of each unfinished job that was polled in the last `pollMaxAgeMs`. A poll is answered with it
 * and starts the next read in the background, one at a time per job: a job's workflow is queried about as often
 * as one read takes, however many clients poll it and however fast, and a poll waits for Temporal only when
 * nobody polled the job within the last second. A client polling every 100 ms sees a state about one read old.
 */
export class PolledJobReads {
  private readonly reads = new Map<string, Read>();
  private readonly reading = new Map<string, Promise<JobState>>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** The job's state: the latest read if it is recent enough (and a new read begins), else a new read. */
  async poll(workflowId: string, read: () => Promise<JobState>): Promise<JobState> {
    this.dropExpired();
    // Dropped unless recent: the map's order is the order reads ended in.
    const latest = this.reads.get(workflowId);
    const next = this.reading.get(workflowId) ?? this.startRead(workflowId, read);
    if (latest) {
      // Its failure is the next poll's to see: that one waits for a read of its own.
      next.catch(() => undefined);
      return latest.state;
    }
    return next;
  }

  /** The job changed through this process (cancelled, retried): the next poll reads it anew. */
  forget(workflowId: string): void {
    this.reads.delete(workflowId);
  }

  private startRead(workflowId: string, read: () => Promise<JobState>): Promise<JobState> {
    const next = read()
      .then((state) => {
        this.reads.delete(workflowId);
        if (!isFinished(state.status)) this.reads.set(workflowId, { state, at: this.now() });
        return state;
      })
      .catch((err: unknown) => {
        this.reads.delete(workflowId);
        throw err;
      })
      .finally(() => this.reading.delete(workflowId));
    this.reading.set(workflowId, next);
    return next;
  }

  /** Reads are kept in the order they ended: the expired ones are at the front. */
  private dropExpired(): void {
    const oldest = this.now() - pollMaxAgeMs;
    for (const [workflowId, { at }] of this.reads) {
      if (at >= oldest) return;
      this.reads.delete(workflowId);
    }
  }
}
