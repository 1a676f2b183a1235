// `?wait`: a submit's answer may wait for the job to finish, through a long poll of its workflow's close event (read
// raw, a big state held as text as every read holds it).
import { setMaxListeners } from 'node:events';
import type { JobState } from '../contract/job.js';
import { isFinished, workflowIdOf } from '../workflows/job-state.js';
import { isTemporalUnavailable } from './errors.js';
import { temporalDeadlineMs, type JobReads } from './reads.js';
import type { WorkflowReads } from './workflow-reads.js';

export class JobWaits {
  constructor(
    private readonly workflows: WorkflowReads,
    private readonly reads: JobReads,
  ) {}

  /**
   * Waits up to `seconds` for the job to finish, or until `until` aborts (the client went away, the server shuts
   * down): the job's state then, finished or not (a fresh read once the wait runs out); undefined without a wait, or
   * when Temporal is away. `until` must be this wait's own: the SDK adds a listener to it per history long poll (a busy
   * job's can pass ten) and never removes one, so a long-lived signal would keep them for good.
   */
  async waitForFinish(
    tenant: string,
    jobId: string,
    seconds: number,
    until?: AbortSignal,
  ): Promise<JobState | undefined> {
    if (seconds <= 0) return undefined;
    const workflowId = workflowIdOf(tenant, jobId);
    const { connection } = this.workflows.client;
    const deadline = Date.now() + seconds * 1000;
    const closed = (): Promise<JobState | undefined> =>
      connection.withDeadline(deadline, () => this.workflows.awaitFinalState(workflowId, deadline));
    if (until) setMaxListeners(0, until);
    let final: JobState | undefined;
    try {
      final = await (until ? connection.withAbortSignal(until, closed) : closed());
    } catch (err) {
      // The wait running out is a deadline too; before it, one means Temporal is away.
      if (isTemporalUnavailable(err) && Date.now() < deadline && !until?.aborted) return undefined;
    }
    // The close event carries the final state of a job that ended by its own logic (not a cancel).
    if (final && isFinished(final.status)) {
      const state = await connection.withDeadline(Date.now() + temporalDeadlineMs, () =>
        this.workflows.withCallback(final, workflowId),
      );
      this.reads.record(tenant, jobId, state);
      return state;
    }
    // Still going, cancelled or ended from outside, or the wait was cut short: the job as it is now, each call of the
    // read with a deadline of its own. One deadline for the whole read (a describe, then a query or a history read) ran
    // out on a busy server whose every call answered: a cancel's answer was a 503 although the cancel had been made.
    return this.reads.read(tenant, jobId);
  }
}
