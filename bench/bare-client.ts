// The bare-client side: the same job workflow started and awaited with the Temporal client alone.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { createJobs, ReadCaches, RegisteredJobTypes, TemporalReachability, type Jobs } from '../src/jobs/index.js';
import { SubmitJobBody, type JobState } from '../src/contract/job.js';
import type { jobWorkflow } from '../src/workflows/index.js';
import { defaultTenant, workflowIdOf } from '../src/workflows/job-state.js';
import { jobStateQuery } from '../src/workflows/messages.js';
import { workflowVersion } from '../src/workflows/version.js';
import { awaitResult } from './await-result.js';
import type { JobBody } from './gateway.js';

/** Thrown when a job started with the bare client ends other than `succeeded`. */
export class BareJobFailedError extends Error {
  override readonly name = 'BareJobFailedError';
  constructor(readonly state: JobState) {
    super(`job ${state.jobId} ended ${state.status}`);
  }
}

/**
 * Builds the workflow's arguments and start options with the gateway's own `requests.resolve` and
 * `commands.submit` (memo, search attributes, task queues, id policies, priority key), so both sides start
 * exactly the same workflow; what is left out is HTTP, Koa and the reads the gateway does to answer.
 */
export class BareClient {
  private readonly jobs: Jobs;

  constructor(
    readonly client: Client,
    taskQueuePrefix: string,
  ) {
    // The registry the service's worker declares the built-in types to, read as the API reads it.
    const reachability = new TemporalReachability(client, client.options.namespace);
    const jobTypes = new RegisteredJobTypes(client, taskQueuePrefix, reachability);
    this.jobs = createJobs({
      client,
      namespace: client.options.namespace,
      uiUrl: 'http://localhost:8233',
      requests: {
        findJobType: (name) => jobTypes.find(name),
        jobTypeNames: async () => (await jobTypes.all()).map((view) => view.declaration.name),
        taskQueuePrefix,
        callbacks: { enabled: false, refusal: () => undefined },
        // Stamped as the bench's API stamps them (dev/parts.ts): the same workflow, the same events.
        commandsVersion: workflowVersion,
      },
      caches: new ReadCaches(),
      reachability,
    });
  }

  /** The job's workflow; the API runs open (no keys), so every job is the default tenant's. */
  handle(jobId: string): WorkflowHandle<typeof jobWorkflow> {
    return this.client.workflow.getHandle<typeof jobWorkflow>(workflowIdOf(defaultTenant, jobId));
  }

  /** Starts the job's workflow and awaits its result (the final state); throws unless it succeeded. */
  async runJob(body: JobBody): Promise<JobState> {
    const request = await this.jobs.requests.resolve(defaultTenant, SubmitJobBody.parse(body));
    await this.jobs.commands.submit(defaultTenant, request);
    const state = await awaitResult<JobState>(this.handle(request.jobId));
    if (state.status !== 'succeeded') throw new BareJobFailedError(state);
    return state;
  }

  /** The job's state as its workflow answers the query: what a client without the gateway reads for a running job. */
  query(jobId: string): Promise<JobState> {
    return this.handle(jobId).query(jobStateQuery);
  }

  /** What a client without the gateway reads for a finished job. */
  async describe(jobId: string): Promise<void> {
    await this.handle(jobId).describe();
  }

  /** How many jobs a visibility query matches. */
  async count(query: string): Promise<number> {
    return (await this.client.workflow.count(query)).count;
  }
}
