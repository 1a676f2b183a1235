// Small pieces the pages share: the browser tab's title, a live page's heading, what stands before its first answer,
// a figures column's heading, a job's status badge and its progress bar.
import { useEffect } from 'preact/hooks';
import type { Job, JobStatus } from './api.js';
import { statusLabel } from './format.js';
import type { Live } from './live.js';
import { Link, taggedJobsPath } from './router.js';

/** Names the page in the browser's tab: "Jobs · durable-jobs". */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · durable-jobs`;
  }, [title]);
}

/**
 * A live page's heading, and beside it how often it reads again or, while it shows older data, why the last read
 * failed (before any data, <Pending> says so in the page itself), with a Try again button once a refusal stopped it.
 */
export function LiveHead({
  title,
  live,
  refreshMs,
}: {
  readonly title: string;
  readonly live: Pick<Live<unknown>, 'data' | 'problem' | 'again'>;
  readonly refreshMs: number;
}) {
  const staleProblem = live.data === undefined ? undefined : live.problem;
  return (
    <div class="page-head wrapping-row">
      <h1>{title}</h1>
      <span class="muted live-note">
        {staleProblem ? (
          <span class="problem">{staleProblem}</span>
        ) : live.again ? (
          'not updating'
        ) : (
          `updates every ${refreshMs / 1000} s`
        )}
      </span>
      {live.data !== undefined && <TryAgain again={live.again} />}
    </div>
  );
}

/**
 * What stands where data will be: "Loading…" until the first answer, or the API's message when the read failed (with
 * Try again when the refusal stopped the reading).
 */
export function Pending({
  problem,
  again,
}: {
  readonly problem: string | undefined;
  readonly again?: Live<unknown>['again'];
}) {
  return problem === undefined ? (
    <p class="muted">Loading…</p>
  ) : (
    <p class="notice notice-error" role="alert">
      {problem} <TryAgain again={again} />
    </p>
  );
}

/** Reads again, shown once a refusal that asking again would not change (404, 400) stopped a live page's reading. */
export function TryAgain({ again }: { readonly again: Live<unknown>['again'] }) {
  return again ? (
    <button type="button" onClick={again}>
      Try again
    </button>
  ) : null;
}

/** A table's column heading for figures, right-aligned as they are. */
export function NumberHead({ children }: { readonly children: string }) {
  return (
    <th scope="col" class="number">
      {children}
    </th>
  );
}

/** Draws an element in a status's colour: its CSS reads `--status-color` (a badge, an attempt's bar). */
export function statusColor(status: JobStatus): { readonly '--status-color': string } {
  return { '--status-color': `var(--${status})` };
}

export function StatusBadge({ status }: { readonly status: JobStatus }) {
  return (
    <span class="status" style={statusColor(status)}>
      {statusLabel(status)}
    </span>
  );
}

/**
 * The job's last reported progress. A succeeded job is full whatever it last said; a job without a percentage shows
 * an indeterminate bar while it runs and an empty one otherwise.
 */
export function ProgressBar({ job, label }: { readonly job: Job; readonly label: string }) {
  const reported = job.progress?.percent ?? null;
  const percent = job.status === 'succeeded' ? 100 : reported;
  const indeterminate = percent === null && job.status === 'running';
  const value = percent === null ? undefined : Math.round(percent);
  return (
    <div
      class={`progress progress-${job.status}${indeterminate ? ' progress-indeterminate' : ''}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value}
      aria-valuetext={value === undefined ? 'no progress reported' : `${value}%`}
    >
      <div class="progress-fill" style={{ width: `${value ?? 0}%` }} />
    </div>
  );
}

/** A job's tags, each a link to the jobs it shares it with. */
export function Tags({ tags }: { readonly tags: readonly string[] }) {
  if (tags.length === 0) return null;
  return (
    <ul class="tags" aria-label="Tags">
      {tags.map((tag) => (
        <li key={tag}>
          <Link href={taggedJobsPath(tag)} class="tag">
            {tag}
          </Link>
        </li>
      ))}
    </ul>
  );
}
