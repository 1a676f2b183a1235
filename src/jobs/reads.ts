// Where a poll's answer comes from: one entry point, `read`, with a freshness bound, over this process's caches (the
// latest read of each polled job, finished jobs' final states) and the reads of Temporal behind them; and `record`,
// what this process just did to a job (a submit, a retry, a wait that saw it end).
import type { WorkflowExecutionDescription } from '@temporalio/client';
import type { JobState } from '../contract/job.js';
import { jobIdOf, workflowIdOf } from '../workflows/job-state.js';
import { isTemporalNotFound } from './errors.js';
import { pollMaxAgeMs, ReadsInFlight, type JobRead, type ReadCaches } from './read-cache.js';
import type { ExecutionInfo, QueriedState, WorkflowReads } from './workflow-reads.js';

/** Every read of Temporal gets this long before it counts as an outage (503). */
export const temporalDeadlineMs = 5000;

/**
 * A row of a visibility list, as its raw answer has it: its memo and search attributes are decoded (`info`) only
 * when its state is not kept. A list of 100 finished jobs decoded 100 memos of up to 16 KiB each, at every list.
 */
export interface ListedRow {
  readonly workflowId: string;
  readonly runId: string;
  readonly running: boolean;
  readonly info: () => Promise<ExecutionInfo>;
}

export class JobReads {
  /** The finished jobs whose latest run is being checked (see `recheckLatestRun`). */
  private readonly rechecks = new ReadsInFlight<void>();

  constructor(
    private readonly workflows: WorkflowReads,
    private readonly caches: ReadCaches<QueriedState>,
  ) {}

  /**
   * The job's state, no older than `maxAgeMs`: 0 (the default) reads Temporal now, and later polls may be answered
   * with it; a poll's bound (`pollMaxAgeMs`, the most this process keeps a read) may be answered with this process's
   * read from under that ago while the next read runs (see PolledJobReads).
   */
  async read(tenant: string, jobId: string, maxAgeMs = 0): Promise<JobState> {
    const workflowId = workflowIdOf(tenant, jobId);
    const finished = this.caches.finished.latest(workflowId);
    // A poll is answered with a finished state however long ago it was read, while its run is checked again in the
    // background now and then: a finished run never changes, only a retry elsewhere makes another run the latest.
    if (finished && (!finished.recheck || maxAgeMs > 0)) {
      if (finished.recheck) this.recheckLatestRun(workflowId, finished.runId);
      return this.workflows.withCallback(finished.state, workflowId);
    }
    if (maxAgeMs > 0) return this.caches.polled.poll(workflowId, (latest) => this.readTemporal(tenant, jobId, latest));
    const { state } = await this.readTemporal(tenant, jobId, undefined);
    this.caches.polled.record(workflowId, state);
    return state;
  }

  /**
   * What this process just learnt of the job, as a read taken now: a submit's or a wait's. `newRun`: this process
   * started a new run of its workflow (a retry), so the last run's final state is no longer the job's.
   */
  record(tenant: string, jobId: string, state: JobState, options: { newRun?: boolean } = {}): void {
    const workflowId = workflowIdOf(tenant, jobId);
    if (options.newRun) this.caches.finished.forget(workflowId);
    this.caches.polled.record(workflowId, state);
  }

  /** This process deleted the job: nothing of it answers any more. */
  forget(tenant: string, jobId: string): void {
    this.caches.forget(workflowIdOf(tenant, jobId));
  }

  /** A described job's state (the describe a command made anyway), its final state from the cache if it has ended. */
  async stateOf(description: WorkflowExecutionDescription): Promise<JobState> {
    if (description.status.name !== 'RUNNING') return this.finishedState(description);
    return this.workflows.runningState(
      description,
      this.workflows.queryState(description.workflowId, description.runId),
    );
  }

  /**
   * A row of a visibility list. A finished job's state is in the row's memo: no call, and when this process keeps the
   * run's final state, not even the memo's decoding. A running one's attempt and progress are not in visibility (the
   * workflow's query, the attempt's heartbeat), so it is read as a poll is, by the one reader per job that polls and
   * event streams share: lists in parallel, and the polls beside them, read each running job once (at most
   * `pollMaxAgeMs` old), not once per list.
   */
  listedState(tenant: string, row: ListedRow): Promise<JobState> {
    return row.running ? this.read(tenant, jobIdOf(tenant, row.workflowId), pollMaxAgeMs) : this.finishedRunState(row);
  }

  /** `latest`: this process's latest read of the job, which a poll is answered with while this one runs. */
  private async readTemporal(
    tenant: string,
    jobId: string,
    latest: JobRead<QueriedState> | undefined,
  ): Promise<JobRead<QueriedState>> {
    const workflowId = workflowIdOf(tenant, jobId);
    const finished = this.caches.finished.latest(workflowId);
    if (finished && !finished.recheck) return { state: await this.workflows.withCallback(finished.state, workflowId) };
    // The describe first, then the query only if the workflow's history has grown since the last.
    if (latest?.basis) {
      const unchanged = await this.workflows.readUnchanged(workflowId, latest.basis);
      if (unchanged) return { state: unchanged, basis: latest.basis };
    }
    const description = await this.workflows.describe(tenant, jobId);
    if (description.status.name !== 'RUNNING') return { state: await this.finishedState(description) };
    // A run that has only scheduled its first attempt (a queued job, however long the backlog) is its request: no
    // worker is asked. Otherwise the query, sent after the describe, answers for at least the history it counted.
    const queried =
      (await this.workflows.unattemptedState(description)) ??
      (await this.workflows.queryState(workflowId, description.runId));
    if (!queried) return { state: await this.workflows.runningState(description, Promise.resolve(undefined)) };
    return {
      state: await this.workflows.withPendingAttempt(queried, description),
      basis: { runId: description.runId, historyLength: description.historyLength, state: queried },
    };
  }

  /**
   * Asks Temporal, one describe at a time per job and outside any request, whether `runId` is still the latest run of
   * the job's workflow: confirmed, its state keeps answering polls; another run (a retry through another process)
   * makes the next poll read the job; gone (deleted), nothing of it answers. Unreachable: the next poll asks again.
   */
  private recheckLatestRun(workflowId: string, runId: string): void {
    const { client } = this.workflows;
    void this.rechecks.share(workflowId, () =>
      client.connection
        .withDeadline(Date.now() + temporalDeadlineMs, () =>
          // The raw describe: only its run id is read, and the client's full decoding would cost as much as the call.
          this.workflows.counted('describe', () =>
            client.workflowService.describeWorkflowExecution({
              namespace: client.options.namespace,
              execution: { workflowId },
            }),
          ),
        )
        .then(
          ({ workflowExecutionInfo }) => {
            if (workflowExecutionInfo?.execution?.runId === runId) this.caches.finished.confirm(workflowId, runId);
            else this.caches.finished.forget(workflowId);
          },
          (err: unknown) => {
            if (isTemporalNotFound(err)) this.caches.forget(workflowId);
          },
        ),
    );
  }

  /** A run's end never changes: its final state is read from Temporal once (one read shared meanwhile), then kept by run id. */
  private finishedState(info: ExecutionInfo): Promise<JobState> {
    return this.finishedRunState({ workflowId: info.workflowId, runId: info.runId, info: () => Promise.resolve(info) });
  }

  /** A finished run's final state: kept, or read from its info (its memo, else its close event). */
  private async finishedRunState(run: Omit<ListedRow, 'running'>): Promise<JobState> {
    const state = await this.caches.finished.read(run.runId, run.workflowId, async () =>
      this.workflows.closedState(await run.info()),
    );
    return this.workflows.withCallback(state, run.workflowId);
  }
}
