// A job's page: its state read every second until it finishes, its input and result, errors, children and callback,
// and Cancel or Retry where they apply, each confirmed first.
import type { ComponentChildren } from 'preact';
import { useRef } from 'preact/hooks';
import { client, isJobFinished, jobActions, JobsApiError, messageOf, type Job, type JobAction } from './api.js';
import { AttemptsPanel } from './attempts.js';
import { ConfirmDialog, useConfirmation } from './confirm-dialog.js';
import { LogsPanel } from './logs.js';
import { Pending, ProgressBar, StatusBadge, Tags, TryAgain, useDocumentTitle } from './components.js';
import { dateTime, duration, json, runTime } from './format.js';
import { useLive, type Live } from './live.js';
import { Link, jobPath, jobsPath } from './router.js';

const refreshMs = 1000;

/** What each action will do, as its confirmation asks. */
const questions: Readonly<Record<JobAction, string>> = {
  cancel: 'Cancel this job? A running attempt is told to stop; the job ends cancelled.',
  retry: 'Run this job again, with the same input? It starts a new run of the same job id.',
};

export function JobPage({ jobId, onUnauthorized }: { readonly jobId: string; readonly onUnauthorized: () => void }) {
  const live = useLive(
    jobId,
    () => client.get(jobId),
    refreshMs,
    onUnauthorized,
    (job) => !isJobFinished(job),
  );
  const job = live.data;
  useDocumentTitle(jobId);

  return (
    <section class="job">
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <Link href={jobsPath}>Jobs</Link> <span aria-hidden="true">/</span> <span>{jobId}</span>
      </nav>
      {job === undefined ? (
        <Pending problem={live.problem} again={live.again} />
      ) : (
        <JobDetails
          job={job}
          now={live.readAt}
          problem={live.problem}
          again={live.again}
          onChanged={live.replace}
          onUnauthorized={onUnauthorized}
        />
      )}
    </section>
  );
}

interface DetailsProps {
  readonly job: Job;
  readonly now: number;
  readonly problem: string | undefined;
  readonly again: Live<Job>['again'];
  readonly onChanged: (job: Job) => void;
  readonly onUnauthorized: () => void;
}

function JobDetails({ job, now, problem, again, onChanged, onUnauthorized }: DetailsProps) {
  const heading = useRef<HTMLHeadingElement>(null);
  const ran = runTime(job, now);
  const percent = job.progress?.percent;
  return (
    <>
      <div class="page-head wrapping-row">
        <h1 class="job-title" ref={heading} tabIndex={-1}>
          {job.jobId}
        </h1>
        <span role="status">
          <StatusBadge status={job.status} />
        </span>
        <Actions
          job={job}
          onChanged={onChanged}
          onDone={() => heading.current?.focus()}
          onUnauthorized={onUnauthorized}
        />
      </div>
      {problem && (
        <p class="notice notice-error" role="status">
          {problem} <TryAgain again={again} />
        </p>
      )}
      <div class="progress-large">
        <ProgressBar job={job} label="Progress" />
        <p class="progress-caption">
          <strong>{percent == null ? (job.status === 'succeeded' ? '100%' : '–') : `${Math.round(percent)}%`}</strong>
          {job.progress?.message && <span class="muted"> {job.progress.message}</span>}
        </p>
      </div>
      <dl class="facts">
        <Fact term="Type">{job.type}</Fact>
        <Fact term="Priority">
          <span class={`priority priority-${job.priority}`}>{job.priority}</span>
        </Fact>
        <Fact term="Attempt">
          <span data-testid="attempt">
            {job.attempt}/{job.maxAttempts}
          </span>
        </Fact>
        <Fact term="Run">
          <span data-testid="run">{job.run}</span>
        </Fact>
        <Fact term="Created">
          <time dateTime={job.createdAt}>{dateTime(job.createdAt)}</time>
        </Fact>
        {job.runAt && (
          <Fact term="Runs at">
            <time dateTime={job.runAt}>{dateTime(job.runAt)}</time>
          </Fact>
        )}
        <Fact term="Started">
          {job.startedAt ? <time dateTime={job.startedAt}>{dateTime(job.startedAt)}</time> : '–'}
        </Fact>
        <Fact term="Finished">
          {job.finishedAt ? <time dateTime={job.finishedAt}>{dateTime(job.finishedAt)}</time> : '–'}
        </Fact>
        <Fact term="Duration">{ran === null ? '–' : duration(ran)}</Fact>
        {job.tags.length > 0 && (
          <Fact term="Tags">
            <Tags tags={job.tags} />
          </Fact>
        )}
        {job.traceId && (
          <Fact term="Trace">
            <code data-testid="trace-id">{job.traceId}</code>
            {job.links.trace && (
              <>
                {' '}
                <a href={job.links.trace} target="_blank" rel="noopener noreferrer">
                  Open trace
                </a>
              </>
            )}
          </Fact>
        )}
      </dl>
      {job.error && <ErrorBox title="Error" error={job.error} />}
      {job.lastError && !job.error && <ErrorBox title="Last attempt's error" error={job.lastError} />}
      <AttemptsPanel job={job} now={now} onUnauthorized={onUnauthorized} />
      <LogsPanel job={job} onUnauthorized={onUnauthorized} />
      {job.children && (
        <section class="panel">
          <h2>Children</h2>
          <ul class="children">
            {job.children.map((child) => (
              <li key={child.jobId}>
                <Link href={jobPath(child.jobId)}>{child.jobId}</Link> <StatusBadge status={child.status} />
              </li>
            ))}
          </ul>
        </section>
      )}
      {job.callback && (
        <section class="panel">
          <h2>Callback</h2>
          <p>
            <span class={`callback callback-${job.callback.status}`}>{job.callback.status}</span>,{' '}
            {job.callback.attempts} {job.callback.attempts === 1 ? 'attempt' : 'attempts'}
          </p>
          {job.callback.lastError && (
            <p class="muted">
              Last failure: {job.callback.lastError.type}: {job.callback.lastError.message}
            </p>
          )}
        </section>
      )}
      <div class="payloads">
        <section class="panel">
          <h2>Input</h2>
          <pre>{json(job.input)}</pre>
        </section>
        <section class="panel">
          <h2>Result</h2>
          {job.result === null || job.result === undefined ? (
            <p class="muted">none yet</p>
          ) : (
            <pre>{json(job.result)}</pre>
          )}
        </section>
      </div>
      <p class="deep-link">
        <a href={job.links.ui} target="_blank" rel="noopener noreferrer">
          Open in the Temporal Web UI ↗
        </a>
        <span class="muted"> for the workflow's full history (deep debugging)</span>
      </p>
    </>
  );
}

function Fact({ term, children }: { readonly term: string; readonly children: ComponentChildren }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function ErrorBox({ title, error }: { readonly title: string; readonly error: { type: string; message: string } }) {
  return (
    <section class="panel panel-error">
      <h2>{title}</h2>
      <p>
        <code>{error.type}</code>
      </p>
      <pre>{error.message}</pre>
    </section>
  );
}

/**
 * Cancel and Retry, where they apply: each asks in a modal dialog first, then shows the API's answer at once, the
 * focus on the job's heading (the button that was pressed may no longer apply).
 */
function Actions({
  job,
  onChanged,
  onDone,
  onUnauthorized,
}: Omit<DetailsProps, 'now' | 'problem' | 'again'> & { readonly onDone: () => void }) {
  const { open, ask } = useConfirmation<JobAction>();
  const applicable = (Object.keys(jobActions) as JobAction[]).filter((action) => jobActions[action].applies(job));
  return (
    <div class="actions">
      {applicable.map((action) => (
        <button key={action} type="button" data-action={action} onClick={() => ask(action)}>
          {jobActions[action].label}
        </button>
      ))}
      {open && (
        <ConfirmDialog
          key={open.key}
          title={`${jobActions[open.action].label} ${job.jobId}?`}
          explanation={questions[open.action]}
          keepLabel="Keep it"
          actLabel={`${jobActions[open.action].label} job`}
          danger={open.action === 'cancel'}
          actData={{ 'data-confirm': open.action }}
          onConfirm={async () =>
            onChanged(open.action === 'cancel' ? await client.cancel(job.jobId) : await client.retry(job.jobId))
          }
          onDone={onDone}
          onClose={open.close}
          onUnauthorized={onUnauthorized}
          problemOf={(err) =>
            err instanceof JobsApiError && err.status === 409 ? `Not now: ${err.message}` : messageOf(err)
          }
        />
      )}
    </div>
  );
}
