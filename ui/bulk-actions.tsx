// The jobs list's bulk actions: cancel or retry the selected jobs in one request (POST /api/v1/jobs/cancel or
// …/retry), confirmed first; each job's outcome comes back on its own, and the refusals are listed.
import { useRef, useState } from 'preact/hooks';
import { client, jobActions, type BulkJobsResult, type Job, type JobAction } from './api.js';
import { ConfirmDialog, useConfirmation } from './confirm-dialog.js';
import './bulk-actions.css';

/** What each action says it did, and what it will do. */
const bulkWords: Readonly<Record<JobAction, { readonly done: string; readonly explanation: string }>> = {
  cancel: { done: 'cancelled', explanation: 'Each running attempt is told to stop; the jobs end cancelled.' },
  retry: { done: 'retried', explanation: 'Each job runs again with the same input, as a new run of the same job id.' },
};

/** What the last bulk action did: how many jobs it acted on, and each refusal. */
interface Outcome {
  readonly action: JobAction;
  readonly done: number;
  readonly refused: readonly { jobId: string; message: string }[];
}

function outcomeOf(action: JobAction, results: BulkJobsResult['results']): Outcome {
  return {
    action,
    done: results.filter((result) => result.status === 202).length,
    refused: results.flatMap((result) =>
      result.error ? [{ jobId: result.jobId, message: result.error.message }] : [],
    ),
  };
}

/** The choice offered once a whole page is ticked and more pages follow: every job under the filters. */
export interface AllMatching {
  /** How many jobs the filters match (at most the bound a bulk action takes). */
  readonly count: number;
  readonly chosen: boolean;
  readonly choose: (on: boolean) => void;
  /** Reads every job under the filters. */
  readonly collect: () => Promise<Job[]>;
}

/** The API takes this many job ids per request: more are sent in turn. */
const idsPerRequest = 100;

interface Props {
  /** The selected jobs, as the list last showed them. */
  readonly selected: readonly Job[];
  readonly matching: AllMatching | undefined;
  readonly onDone: () => void;
  readonly onUnauthorized: () => void;
}

export function BulkActions({ selected, matching, onDone, onUnauthorized }: Props) {
  const { open, ask } = useConfirmation<JobAction>();
  const [outcome, setOutcome] = useState<Outcome | undefined>();
  // Always on the page, so that screen readers announce what it comes to say; the focus goes there once an action
  // is done (its button may be disabled by then: nothing is selected any more).
  const outcomeNotice = useRef<HTMLDivElement>(null);
  // The list may be a moment old: a job that no longer applies is the API's to refuse, and shows among the refusals.
  const applying = (action: JobAction) => selected.filter((job) => jobActions[action].applies(job));
  const allMatching = matching?.chosen === true;
  /** How many jobs the action would be sent for: the matching ones are counted when they are read. */
  const countFor = (action: JobAction) => (allMatching ? matching.count : applying(action).length);

  const act = async (action: JobAction) => {
    const chosen = allMatching ? await matching.collect() : selected;
    const jobIds = chosen.filter((job) => jobActions[action].applies(job)).map((job) => job.jobId);
    const results: BulkJobsResult['results'] = [];
    for (let start = 0; start < jobIds.length; start += idsPerRequest) {
      const batch = jobIds.slice(start, start + idsPerRequest);
      results.push(...(action === 'cancel' ? await client.cancelMany(batch) : await client.retryMany(batch)));
    }
    setOutcome(outcomeOf(action, results));
    onDone();
  };

  return (
    <div class="bulk">
      <div class="bulk-bar wrapping-row" role="group" aria-label="Selected jobs">
        <span class="muted" data-testid="selected-count">
          {allMatching ? `all ${matching.count} matching selected` : `${selected.length} selected`}
        </span>
        {matching && (
          <button type="button" class="button-quiet" data-select-matching onClick={() => matching.choose(!allMatching)}>
            {allMatching ? 'Only this page' : `Select all ${matching.count} matching`}
          </button>
        )}
        {(Object.keys(jobActions) as JobAction[]).map((action) => {
          const count = countFor(action);
          return (
            <button key={action} type="button" data-bulk={action} disabled={count === 0} onClick={() => ask(action)}>
              {jobActions[action].label} {count > 0 ? count : ''}
            </button>
          );
        })}
      </div>
      <div
        ref={outcomeNotice}
        class={outcome ? `notice${outcome.refused.length > 0 ? ' notice-error' : ''}` : undefined}
        role="status"
        tabIndex={-1}
        data-testid="bulk-outcome"
      >
        {outcome && (
          <>
            <p>
              {outcome.done} {outcome.done === 1 ? 'job' : 'jobs'} {bulkWords[outcome.action].done}
              {outcome.refused.length > 0 && `, ${outcome.refused.length} refused:`}
            </p>
            {outcome.refused.length > 0 && (
              <ul>
                {outcome.refused.map(({ jobId, message }) => (
                  <li key={jobId}>
                    <code>{jobId}</code>: {message}
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </div>
      {open && (
        <ConfirmDialog
          key={open.key}
          title={`${jobActions[open.action].label} ${countFor(open.action)} ${countFor(open.action) === 1 ? 'job' : 'jobs'}?`}
          explanation={bulkWords[open.action].explanation}
          keepLabel="Keep them"
          actLabel={`${jobActions[open.action].label} ${countFor(open.action)}`}
          danger={open.action === 'cancel'}
          actData={{ 'data-confirm-bulk': open.action }}
          onConfirm={() => act(open.action)}
          onDone={() => outcomeNotice.current?.focus()}
          onClose={open.close}
          onUnauthorized={onUnauthorized}
        />
      )}
    </div>
  );
}
