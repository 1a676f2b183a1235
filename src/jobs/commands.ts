// What changes a job: submit (start its workflow), retry (a new run of it), cancel, delete. Each tells the reads what it
// did.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { JobState } from '../contract/job.js';
import { jobWorkflow } from '../workflows/index.js';
import { callbackWorkflowIdOf, initialJobState, type JobRequest } from '../workflows/job-state.js';
import { visibilityLiteral } from '../workflows/search-attributes.js';
import { isOutcomeUnknown } from '../temporal/connection.js';
import { withTraceId } from '../telemetry/trace-id.js';
import {
  isTemporalNotFound,
  JobConflictError,
  JobDeleteUnfinishedError,
  JobStartOutcomeUnknownError,
} from './errors.js';
import type { JobReads } from './reads.js';
import { commandsVersionOf, jobStartOptions, requestHash, type RequestSettings } from './request.js';
import type { JobWaits } from './wait.js';
import type { WorkflowReads } from './workflow-reads.js';

/** How long a delete waits for Temporal's background deletion before answering 503 (measured ≈ 4 s on the dev server). */
const deleteWaitMs = 15_000;

export class JobCommands {
  constructor(
    private readonly workflows: WorkflowReads,
    private readonly reads: JobReads,
    private readonly waits: JobWaits,
    private readonly taskQueuePrefix: string,
    /** What requests are stamped with (RequestSettings.commandsVersion). */
    private readonly stamp: Pick<RequestSettings, 'commandsVersion'> = {},
  ) {}

  /**
   * Refuses a parent whose child ids are taken, before anything starts (a child started in the meantime
   * still cannot run twice: its workflow id is refused, and the parent records it as failed).
   */
  async checkChildrenFree(tenant: string, request: JobRequest): Promise<void> {
    if (!request.children) return;
    // A repeat of an existing parent is the submit's to answer (200 or 409), whatever its children.
    if (await this.workflows.exists(tenant, request.jobId)) return;
    for (const { request: child } of request.children) {
      if (await this.workflows.exists(tenant, child.jobId))
        throw new JobConflictError(child.jobId, `child job "${child.jobId}" already exists`);
    }
  }

  /**
   * Starts the job's workflow. The workflow id is the idempotency key: Temporal refuses a second start,
   * and the stored request hash tells a repeat of the same request (200) from a different one (409).
   */
  async submit(tenant: string, submitted: JobRequest): Promise<{ state: JobState; created: boolean }> {
    const request = withTraceId(submitted);
    try {
      await this.workflows.client.workflow.start(jobWorkflow, {
        ...jobStartOptions(this.taskQueuePrefix, tenant, request),
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      const state = initialJobState(request);
      // A client's first poll usually follows its submit at once: it is answered with this, and reads.
      this.reads.record(tenant, request.jobId, state);
      return { state, created: true };
    } catch (err) {
      if (isOutcomeUnknown(err)) {
        throw new JobStartOutcomeUnknownError(
          request.jobId,
          `job "${request.jobId}" may or may not have been created: Temporal's answer was lost. Submitting the same request with "jobId": "${request.jobId}" again is safe: 200 with the job if it exists, else it starts once`,
          err,
        );
      }
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const description = await this.workflows.describe(tenant, request.jobId);
      if (description.memo?.['requestHash'] !== requestHash(request)) {
        throw new JobConflictError(request.jobId, `job "${request.jobId}" exists with a different request`);
      }
      return { state: await this.reads.stateOf(description), created: false };
    }
  }

  /**
   * Runs a failed, timed-out or cancelled job again: a new run of the same workflow id with the same
   * request. Temporal's ALLOW_DUPLICATE_FAILED_ONLY admits exactly those ends (a succeeded job's
   * workflow completed), and refuses a second concurrent retry.
   */
  async retry(tenant: string, jobId: string): Promise<JobState> {
    const description = await this.workflows.describe(tenant, jobId);
    const current = await this.reads.stateOf(description);
    if (!['failed', 'timed_out', 'cancelled'].includes(current.status)) {
      throw new JobConflictError(
        jobId,
        `job "${jobId}" is ${current.status}; only failed, timed_out or cancelled jobs can be retried`,
      );
    }
    const previous = await this.workflows.requestOf(description);
    // The retry's own trace, or none: not the first run's.
    const { traceId: _firstRunTrace, commandsVersion: _firstRunStamp, ...untraced } = previous;
    const request: JobRequest = withTraceId({
      ...untraced,
      run: (previous.run ?? 1) + 1,
      submittedAt: new Date().toISOString(),
      // A new run, so a new history: stamped as a submit of now is, whenever the first ran.
      ...commandsVersionOf(this.stamp),
    });
    try {
      await this.workflows.client.workflow.start(jobWorkflow, {
        ...jobStartOptions(this.taskQueuePrefix, tenant, request),
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        throw new JobConflictError(jobId, `job "${jobId}" is already running again`);
      if (isOutcomeUnknown(err)) {
        throw new JobStartOutcomeUnknownError(
          jobId,
          `the retry of job "${jobId}" may or may not have started: Temporal's answer was lost. Poll the job to see; retrying it again is safe (409 if this retry started)`,
          err,
        );
      }
      throw err;
    }
    const state = initialJobState(request);
    this.reads.record(tenant, jobId, state, { newRun: true });
    return state;
  }

  /** Asks the job to stop; a running attempt hears of it on its next heartbeat. */
  async cancel(tenant: string, jobId: string): Promise<JobState> {
    const description = await this.workflows.describe(tenant, jobId);
    if (description.status.name !== 'RUNNING') {
      const state = await this.reads.stateOf(description);
      throw new JobConflictError(jobId, `job "${jobId}" already finished (${state.status})`);
    }
    await this.workflows.client.workflow.getHandle(description.workflowId, description.runId).cancel();
    // A queued job is cancelled at once: give it a moment so the answer already says so.
    return (await this.waits.waitForFinish(tenant, jobId, 1)) ?? this.reads.read(tenant, jobId);
  }

  /**
   * Removes a finished job from Temporal: every run of its workflow (a retried job has several) and its callback's
   * delivery, by DeleteWorkflowExecution. Temporal deletes in the background: this returns once it no longer finds
   * the workflow, so that a submit of the same jobId that follows starts a new job.
   */
  async delete(tenant: string, jobId: string): Promise<void> {
    const description = await this.workflows.describe(tenant, jobId);
    if (description.status.name === 'RUNNING') {
      const { status } = await this.reads.stateOf(description);
      throw new JobConflictError(
        jobId,
        `job "${jobId}" has not finished (${status}): cancel it first (POST /api/v1/jobs/${jobId}/cancel), then delete it once it is cancelled`,
      );
    }
    const { client } = this.workflows;
    const { workflowId } = description;
    const callbackId = callbackWorkflowIdOf(workflowId);
    // The described run may not be in visibility yet; the earlier runs closed before it started, so they are.
    const runs = [
      { workflowId, runId: description.runId },
      { workflowId: callbackId, runId: undefined },
    ];
    const query = `WorkflowId IN (${visibilityLiteral(workflowId)}, ${visibilityLiteral(callbackId)})`;
    for await (const run of client.workflow.list({ query }))
      runs.push({ workflowId: run.workflowId, runId: run.runId });
    for (const execution of runs) {
      await client.workflowService
        .deleteWorkflowExecution({ namespace: client.options.namespace, workflowExecution: execution })
        .catch((err: unknown) => {
          if (!isTemporalNotFound(err)) throw err;
        });
    }
    this.reads.forget(tenant, jobId);
    await this.untilGone(jobId, workflowId);
  }

  /** Resolves once Temporal no longer finds the workflow (its deletion is a background task of the server's). */
  private async untilGone(jobId: string, workflowId: string): Promise<void> {
    const { client } = this.workflows;
    const deadline = Date.now() + deleteWaitMs;
    for (;;) {
      const found = await client.workflowService
        .describeWorkflowExecution({ namespace: client.options.namespace, execution: { workflowId } })
        .then(
          () => true,
          (err: unknown) => {
            if (isTemporalNotFound(err)) return false;
            throw err;
          },
        );
      if (!found) return;
      if (Date.now() > deadline) throw new JobDeleteUnfinishedError(jobId);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
