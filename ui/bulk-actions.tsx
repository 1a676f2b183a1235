// The jobs list's bulk actions: cancel or retry the selected jobs in one request (POST /api/v1/jobs/cancel or
// …/retry), confirmed first; each job's outcome comes back on its own, and the refusals are listed.
import { useRef, useState } from 'preact/hooks';
import { client, isCancellable, isRetryable, isUnauthorized, messageOf, type BulkJobsResult, type Job } from './api.js';
import './bulk-actions.css';

type BulkAction = 'cancel' | 'retry';

const bulkActions: Readonly<Record<BulkAction, { label: string; done: string; applies: (job: Job) => boolean }>> = {
  cancel: {
    label: 'Cancel',
    done: 'cancelled',
    applies: isCancellable,
  },
  retry: {
    label: 'Retry',
    done: 'retried',
    applies: isRetryable,
  },
};

/** What the last bulk action did: how many jobs it acted on, and each refusal. */
interface Outcome {
  readonly action: BulkAction;
  readonly done: number;
  readonly refused: readonly { jobId: string; message: string }[];
}

function outcomeOf(action: BulkAction, results: BulkJobsResult['results']): Outcome {
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
  const dialog = useRef<HTMLDialogElement>(null);
  const [asking, setAsking] = useState<BulkAction | undefined>();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const [outcome, setOutcome] = useState<Outcome | undefined>();
  // The list may be a moment old: a job that no longer applies is the API's to refuse, and shows among the refusals.
  const applying = (action: BulkAction) => selected.filter((job) => bulkActions[action].applies(job));
  const allMatching = matching?.chosen === true;
  /** How many jobs the action would be sent for: the matching ones are counted when they are read. */
  const countFor = (action: BulkAction) => (allMatching ? matching.count : applying(action).length);

  const ask = (action: BulkAction) => {
    setProblem(undefined);
    setAsking(action);
    dialog.current?.showModal();
  };
  const confirm = async () => {
    if (!asking) return;
    setBusy(true);
    try {
      const chosen = allMatching ? await matching.collect() : selected;
      const jobIds = chosen.filter((job) => bulkActions[asking].applies(job)).map((job) => job.jobId);
      const results: BulkJobsResult['results'] = [];
      for (let start = 0; start < jobIds.length; start += idsPerRequest) {
        const batch = jobIds.slice(start, start + idsPerRequest);
        results.push(...(asking === 'cancel' ? await client.cancelMany(batch) : await client.retryMany(batch)));
      }
      setOutcome(outcomeOf(asking, results));
      dialog.current?.close();
      onDone();
    } catch (err) {
      if (isUnauthorized(err)) {
        onUnauthorized();
        return;
      }
      setProblem(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="bulk">
      <div class="bulk-bar" role="group" aria-label="Selected jobs">
        <span class="muted" data-testid="selected-count">
          {allMatching ? `all ${matching.count} matching selected` : `${selected.length} selected`}
        </span>
        {matching && (
          <button type="button" class="button-quiet" data-select-matching onClick={() => matching.choose(!allMatching)}>
            {allMatching ? 'Only this page' : `Select all ${matching.count} matching`}
          </button>
        )}
        {(Object.keys(bulkActions) as BulkAction[]).map((action) => {
          const count = countFor(action);
          return (
            <button key={action} type="button" data-bulk={action} disabled={count === 0} onClick={() => ask(action)}>
              {bulkActions[action].label} {count > 0 ? count : ''}
            </button>
          );
        })}
      </div>
      {outcome && (
        <div
          class={`notice${outcome.refused.length > 0 ? ' notice-error' : ''}`}
          role="status"
          data-testid="bulk-outcome"
        >
          <p>
            {outcome.done} {outcome.done === 1 ? 'job' : 'jobs'} {bulkActions[outcome.action].done}
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
        </div>
      )}
      <dialog ref={dialog} class="confirm" aria-labelledby="bulk-confirm-title" onClose={() => setAsking(undefined)}>
        {asking && (
          <div>
            <h2 id="bulk-confirm-title">
              {bulkActions[asking].label} {countFor(asking)} {countFor(asking) === 1 ? 'job' : 'jobs'}?
            </h2>
            <p>
              {asking === 'cancel'
                ? 'Each running attempt is told to stop; the jobs end cancelled.'
                : 'Each job runs again with the same input, as a new run of the same job id.'}
            </p>
            {problem && (
              <p class="notice notice-error" role="alert">
                {problem}
              </p>
            )}
            <div class="dialog-buttons">
              <button type="button" class="button-quiet" onClick={() => dialog.current?.close()}>
                Keep them
              </button>
              <button
                type="button"
                class={asking === 'cancel' ? 'button-danger' : 'button-primary'}
                data-confirm-bulk={asking}
                disabled={busy}
                onClick={() => void confirm()}
              >
                {busy ? 'Working…' : `${bulkActions[asking].label} ${countFor(asking)}`}
              </button>
            </div>
          </div>
        )}
      </dialog>
    </div>
  );
}
