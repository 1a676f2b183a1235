// Small pieces the pages share: a job's status badge and its progress bar.
import type { Job, JobStatus } from './api.js';
import { statusLabel } from './format.js';

export function StatusBadge({ status }: { readonly status: JobStatus }) {
  return <span class={`status status-${status}`}>{statusLabel(status)}</span>;
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
