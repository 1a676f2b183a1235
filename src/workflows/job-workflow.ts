import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { ChildResult, JobState } from '../contract/job.js';
import { callbackWorkflow } from './callback-workflow.js';
import {
  attemptFailed,
  attemptStarted,
  attemptStartTime,
  callbackWorkflowIdOf,
  defaultTenant,
  ended,
  initialJobState,
  isFinished,
  priorityOf,
  retryDelaySeconds,
  runRequest,
  succeeded,
  workflowIdOf,
  type AttemptInfo,
  type AttemptOutcome,
  type JobRequest,
} from './job-state.js';
import { describeFailure } from './attempt-failure.js';
import { finalStateIn, fitsInMemo } from './final-state.js';
import { reportFinished } from './job-metrics.js';
import { attemptStartedSignal, jobStateQuery } from './messages.js';
import { jobStartMetadata, JobStatusKey } from './search-attributes.js';
import { takesChange } from './changes.js';
import { atUnfinishedCap } from './unfinished-cap.js';

export type { TenantActivities } from './unfinished-cap.js';

/** Every job type's handler is registered on the worker as an activity named after the type. */
export type JobActivities = Record<string, (input: unknown, attempt: AttemptInfo) => Promise<AttemptOutcome>>;

/** How many of a parent's children run at once. */
const childConcurrency = 10;

function childEnd(jobId: string, err: unknown): ChildResult {
  const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
  const final = finalStateIn(err);
  if (final) return { jobId, status: final.status, result: null, error: final.error };
  if (isCancellation(cause))
    return { jobId, status: 'cancelled', result: null, error: { type: 'Cancelled', message: 'cancelled' } };
  return {
    jobId,
    status: 'failed',
    result: null,
    error: { type: (cause as Error).name ?? 'Error', message: (cause as Error).message ?? String(cause) },
  };
}

/**
 * Runs a parent's children as child workflows (real jobs, with their own ids), at most `childConcurrency`
 * at once. Under onChildFailure `fail` the first child that does not succeed cancels the others.
 */
async function runChildren(
  request: JobRequest,
  onEnd: (index: number, status: ChildResult['status']) => void,
): Promise<ChildResult[]> {
  const children = request.children!;
  const results = new Array<ChildResult>(children.length);
  const failFast = (request.onChildFailure ?? 'fail') === 'fail';
  const parent = CancellationScope.current();
  const siblings = new CancellationScope();
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let index = next++; index < children.length; index = next++) {
      const { request: child, requestHash } = children[index]!;
      const tenant = child.tenant ?? defaultTenant;
      try {
        const final = await executeChild(jobWorkflow, {
          workflowId: workflowIdOf(tenant, child.jobId),
          taskQueue: workflowInfo().taskQueue,
          args: [child],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          ...jobStartMetadata(child, requestHash),
        });
        results[index] = { jobId: child.jobId, status: 'succeeded', result: final.result, error: null };
      } catch (err) {
        results[index] = childEnd(child.jobId, err);
        if (parent.consideredCancelled) {
          // The parent's final state shows how each child it waited for ended.
          onEnd(index, results[index]!.status);
          throw err;
        }
        if (failFast) siblings.cancel();
      }
      onEnd(index, results[index]!.status);
    }
  };
  // A change of v5: a cancelled parent waits for every lane, so it ends only once each child has ended cancelled.
  // Ending at the first lane's rejection, as before, left the other children to the close policy, which terminates.
  const settlesEveryChild = takesChange(request, 5, 'children-settle-before-parent-ends');
  await siblings.run(async () => {
    const lanes = Array.from({ length: Math.min(childConcurrency, children.length) }, lane);
    if (!settlesEveryChild) {
      await Promise.all(lanes);
      return;
    }
    const rejected = (await Promise.allSettled(lanes)).find(
      (settled): settled is PromiseRejectedResult => settled.status === 'rejected',
    );
    if (rejected) {
      // A lane rejects only when the parent is cancelled: the children no lane had begun never will.
      for (let index = next; index < children.length; index++) onEnd(index, 'cancelled');
      throw rejected.reason;
    }
  });
  return results;
}

/** A handler may fail rather than stop cleanly when told to cancel; the request still decides. */
function cancelRequested(err: unknown): boolean {
  return isCancellation(err) || CancellationScope.current().consideredCancelled;
}

const now = (): string => new Date().toISOString();

/**
 * One job: runs its type's activity, retrying with backoff here rather than in the server, so that the
 * history shows when each attempt started and the state knows its attempt and last error at every step.
 * Ends Completed (succeeded), Failed (failed, timed_out, skipped, a child failed: the Web UI shows Failed) or Canceled;
 * at every ending the final state is in the memo (`finalJob`) if it fits (finalJobMemoMaxChars). Runs from before v3
 * had it there only when cancelled; otherwise, and past the budget, it is in the result or the failure's details
 * (finalStateIn reads it).
 */
export async function jobWorkflow(requested: JobRequest): Promise<JobState> {
  const request = runRequest(requested, workflowInfo());
  let state = initialJobState(request);
  let currentAttempt = 0;
  // The attempt whose activity is scheduled and not yet back: a start signal for any other is stale.
  let awaitingStart: number | undefined;
  // When the workflow scheduled the current attempt: the earliest start a worker may report for it.
  let attemptScheduledAt = now();
  // A change of v6: the job started when its worker says the first attempt did (clamped), not when the workflow heard.
  // An attempt tells its start 250 ms in (its signal) or at its end (its outcome). Decided there, when first needed: an
  // unstamped run's marker, asked before the first attempt, would lengthen every queued job's history past the five
  // events a read answers from the request alone (WorkflowReads.unattemptedState), and each poll would be a query.
  let startFromWorker: boolean | undefined;
  const startTime = (reported: unknown): string => {
    startFromWorker ??= takesChange(request, 6, 'attempt-start-from-worker');
    return startFromWorker ? attemptStartTime(reported, attemptScheduledAt, now()) : now();
  };
  const publish = (next: JobState): void => {
    if (next.status !== state.status) upsertSearchAttributes([{ key: JobStatusKey, value: next.status }]);
    state = next;
  };

  setHandler(jobStateQuery, () => state);
  setHandler(attemptStartedSignal, ({ attempt, startedAt }) => {
    if (attempt === awaitingStart && state.status === 'queued')
      publish(attemptStarted(state, attempt, startTime(startedAt)));
  });

  // Timeouts come with each request, so the proxy is made per job rather than once at module level.
  const activities = proxyActivities<JobActivities>({
    taskQueue: request.taskQueue,
    startToCloseTimeout: request.timeoutSeconds * 1000,
    heartbeatTimeout: request.heartbeatTimeoutSeconds * 1000,
    retry: { maximumAttempts: 1 },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    priority: priorityOf(request),
  });
  const runAttempt = activities[request.type]!;

  let cancelledByClient = false;
  const runToTheEnd = async (): Promise<void> => {
    try {
      if (await atUnfinishedCap(request)) {
        const error = {
          type: 'Skipped',
          message: `skipped: tenant "${request.tenant ?? defaultTenant}" is at its cap of ${request.unfinishedCap} unfinished jobs`,
        };
        publish(ended(state, 'cancelled', error, now()));
        // The workflow fails rather than ends Canceled as a client's cancel does, so visibility tells the two apart.
        throw ApplicationFailure.create({
          type: error.type,
          message: error.message,
          nonRetryable: true,
          details: [state],
        });
      }
      // A delayed job waits on a durable timer; cancelling it during the wait ends it with no attempt.
      const delayMs = request.runAt ? Date.parse(request.runAt) - Date.now() : 0;
      if (delayMs > 0) await sleep(delayMs);
      const childResults = request.children
        ? await runChildren(request, (index, status) => {
            state = {
              ...state,
              children: state.children!.map((child, i) => (i === index ? { ...child, status } : child)),
            };
          })
        : undefined;
      const failedChild = childResults?.find((child) => child.status !== 'succeeded');
      if (failedChild && (request.onChildFailure ?? 'fail') === 'fail') {
        const error = {
          type: failedChild.error?.type ?? 'ChildJobFailed',
          message: `child job ${failedChild.jobId} ended ${failedChild.status}: ${failedChild.error?.message ?? ''}`,
        };
        publish(ended(state, 'failed', error, now()));
        throw ApplicationFailure.create({
          type: error.type,
          message: error.message,
          nonRetryable: true,
          details: [state],
        });
      }
      for (currentAttempt = 1; ; currentAttempt++) {
        try {
          awaitingStart = currentAttempt;
          attemptScheduledAt = now();
          const attemptInfo: AttemptInfo = {
            jobId: request.jobId,
            tenant: request.tenant ?? defaultTenant,
            attempt: currentAttempt,
            ...(childResults ? { childResults } : {}),
          };
          const outcome = await runAttempt(request.input, attemptInfo).finally(() => {
            awaitingStart = undefined;
          });
          publish(succeeded(state, currentAttempt, outcome, now(), startTime(outcome.startedAt)));
          return;
        } catch (err) {
          if (cancelRequested(err)) throw err;
          const failure = describeFailure(err);
          // The attempt ran, though one that failed within 250 ms never told the workflow that it started (nor when:
          // a failure carries no start time, so the failure's time stands for it).
          const attempted: JobState = { ...state, attempt: currentAttempt, startedAt: state.startedAt ?? now() };
          if (!failure.retryable || currentAttempt >= request.retry.maxAttempts) {
            publish(ended(attempted, failure.timedOut ? 'timed_out' : 'failed', failure.error, now()));
            throw ApplicationFailure.create({
              type: failure.error.type,
              message: failure.error.message,
              nonRetryable: true,
              details: [state],
            });
          }
          publish(attemptFailed(attempted, currentAttempt, failure.error));
          await sleep(retryDelaySeconds(request.retry, currentAttempt) * 1000);
        }
      }
    } catch (err) {
      if (!cancelRequested(err) || isFinished(state.status)) throw err;
      publish(ended(state, 'cancelled', { type: 'Cancelled', message: 'cancelled by a client' }, now()));
      upsertMemo({ finalJob: state });
      cancelledByClient = true;
      throw new CancelledFailure('cancelled by a client');
    }
  };

  // What ended the job other than success: a Temporal failure (ApplicationFailure, CancelledFailure), rethrown as is.
  let ending: Error | undefined;
  await runToTheEnd().catch((err: unknown) => {
    ending = err as Error;
  });
  // Every ending leaves the final state in the memo, so one describe reads a finished job (the cancel path wrote it
  // already). A change of v3: a run begun before it replays without it, and its readers fall back to the close event.
  if (isFinished(state.status) && !cancelledByClient && fitsInMemo(state) && takesChange(request, 3, 'final-job-memo'))
    upsertMemo({ finalJob: state });
  // A sink, not a command: the history is unchanged, so no patch; not called while replaying, so counted once.
  if (isFinished(state.status)) reportFinished(state);
  if (request.callbackUrl) {
    const jobWorkflowId = workflowInfo().workflowId;
    await CancellationScope.nonCancellable(() =>
      startChild(callbackWorkflow, {
        workflowId: callbackWorkflowIdOf(jobWorkflowId),
        args: [{ url: request.callbackUrl!, jobWorkflowId, job: state }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      }),
    );
  }
  if (ending !== undefined) throw ending;
  return state;
}
