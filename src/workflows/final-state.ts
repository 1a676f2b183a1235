// Where a finished job's final state is: the memo's `finalJob` at every ending from v3 on (see jobWorkflow). The
// one fallback, for runs closed before v3 and for states too big for the memo, is the run's close event.
import { ApplicationFailure } from '@temporalio/common';
import type { JobState } from '../contract/job.js';

export function isJobState(value: unknown): value is JobState {
  return typeof value === 'object' && value !== null && 'status' in value && 'jobId' in value;
}

/** The final state in a job workflow's memo, if its run wrote one. */
export function finalStateInMemo(memo: Record<string, unknown> | undefined): JobState | undefined {
  const finalJob = memo?.['finalJob'];
  return isJobState(finalJob) ? finalJob : undefined;
}

/**
 * The final state a job workflow's run ended with, from its close event: the result of a succeeded run, or the
 * details of its failure (failed, timed out, skipped, a child failed), found down the cause chain of the client's
 * WorkflowFailedError or a parent's ChildWorkflowFailure. Undefined for a cancel (no details) or an ending from
 * outside the job's logic (terminated, workflow timeout).
 */
export function finalStateIn(outcome: unknown): JobState | undefined {
  for (let current = outcome; typeof current === 'object' && current !== null;) {
    if (isJobState(current)) return current;
    if (current instanceof ApplicationFailure) {
      const detail = current.details?.[0];
      return isJobState(detail) ? detail : undefined;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The longest final state (JSON characters, at most 3 bytes each) the memo takes. Temporal refuses a memo over
 * `limit.memoSize.error` (2 MiB by default, dev server and cluster alike: the workflow task would fail for good) and
 * logs one over `limit.memoSize.warn` (2 KiB); a list page (up to 100 rows) carries every row's memo, and a gRPC
 * message is held to 4 MB. Most jobs' states are far smaller; a bigger one (a large result or input) stays in the
 * close event alone, read as a run's from before v3 is: one history read more, once per run. Changing this changes
 * the commands of runs whose state falls between the two values: it needs a patch of its own.
 */
export const finalJobMemoMaxChars = 16 * 1024;

export function fitsInMemo(state: JobState): boolean {
  return JSON.stringify(state).length <= finalJobMemoMaxChars;
}
