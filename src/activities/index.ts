import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { JobProgress } from '../contract/job.js';
import type { AttemptInfo, AttemptOutcome } from '../workflows/job-state.js';
import type { JobActivities } from '../workflows/job-workflow.js';
import { attemptStartedSignal, type HeartbeatDetails } from '../workflows/messages.js';
import type { JobType, JobTypeSettings } from './job-type.js';
import { jobTypes } from './registry.js';

/** Progress and liveness go to the server this often; cancellation is seen on the heartbeat after it. */
export const heartbeatIntervalMs = 1000;

export interface ActivityDeps {
  /** Tells the job workflow an attempt began executing. */
  readonly client: Client;
  readonly settings: JobTypeSettings;
  readonly onSignalError?: (err: unknown) => void;
}

function attemptActivity(jobType: JobType, deps: ActivityDeps) {
  return async (input: unknown, attempt: AttemptInfo): Promise<AttemptOutcome> => {
    const activity = Context.current();
    activity.log.info('attempt started', { jobId: attempt.jobId, jobAttempt: attempt.attempt });
    let progress: JobProgress | null = null;
    const heartbeat = (): void => activity.heartbeat({ progress } satisfies HeartbeatDetails);
    // Heartbeat before telling the workflow: a slow signal must not let the heartbeat timeout kill the attempt.
    heartbeat();
    const beating = setInterval(heartbeat, heartbeatIntervalMs);
    try {
      const execution = activity.info.workflowExecution!;
      // Without this the workflow could not tell a running attempt from one still waiting for a worker.
      await deps.client.workflow
        .getHandle(execution.workflowId, execution.runId)
        .signal(attemptStartedSignal, { attempt: attempt.attempt })
        .catch((err: unknown) => deps.onSignalError?.(err));
      const parsedInput = jobType.inputSchema.parse(input);
      // A parent's handler gets its children's ends in its input, beside what the submitter gave.
      const handlerInput = attempt.childResults
        ? { ...(parsedInput as object), childResults: attempt.childResults }
        : parsedInput;
      const result = await jobType.run(
        handlerInput,
        {
          jobId: attempt.jobId,
          attempt: attempt.attempt,
          signal: activity.cancellationSignal,
          progress(percent, message) {
            progress = { percent, message: message ?? null };
            heartbeat();
          },
        },
        deps.settings,
      );
      return { result, progress };
    } catch (err) {
      // Report a cancellation as one, whatever error the handler's abort produced.
      if (activity.cancellationSignal.aborted) throw activity.cancellationSignal.reason;
      throw err;
    } finally {
      clearInterval(beating);
    }
  };
}

/** One activity per registered job type, named after it. */
export function createActivities(deps: ActivityDeps): JobActivities {
  return Object.fromEntries(jobTypes.map((jobType) => [jobType.name, attemptActivity(jobType, deps)]));
}
