// The jobs list: a tab per status with its count, filters by type, priority and tag, pages through the API's cursor,
// read every 2 s.
import { useEffect, useState } from 'preact/hooks';
import { client, dataOf, type Job, type JobStatus, type ListJobsQuery } from './api.js';
import { BulkActions } from './bulk-actions.js';
import { LiveHead, NumberHead, Pending, ProgressBar, StatusBadge, Tags, useDocumentTitle } from './components.js';
import { dateTime, duration, relative, runTime, statusTitle } from './format.js';
import { useLive } from './live.js';
import { Link, jobPath, jobsPath, navigate } from './router.js';

const statuses: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled'];
const priorities = ['high', 'normal', 'low'] as const;
const pageSize = 25;
const refreshMs = 2000;
/** The most jobs one "all matching" bulk action takes: ten requests of 100. */
const maxMatching = 1000;

interface Filters {
  readonly status: JobStatus | undefined;
  readonly type: string | undefined;
  readonly priority: (typeof priorities)[number] | undefined;
  readonly tag: string | undefined;
}

function priorityOf(value: string | null): Filters['priority'] {
  return priorities.find((known) => known === value);
}

function filtersOf(query: URLSearchParams): Filters {
  const status = query.get('status');
  return {
    status: statuses.find((known) => known === status),
    type: query.get('type') || undefined,
    priority: priorityOf(query.get('priority')),
    tag: query.get('tag') || undefined,
  };
}

function hrefOf(filters: Filters): string {
  const query = new URLSearchParams();
  if (filters.status) query.set('status', filters.status);
  if (filters.type) query.set('type', filters.type);
  if (filters.priority) query.set('priority', filters.priority);
  if (filters.tag) query.set('tag', filters.tag);
  const search = query.toString();
  return search ? `${jobsPath}?${search}` : jobsPath;
}

/** The job types to filter by, read once. */
function useJobTypes(): readonly string[] {
  const [types, setTypes] = useState<readonly string[]>([]);
  useEffect(() => {
    client.api
      .GET('/api/v1/job-types')
      .then(({ data }) => setTypes(data?.types.map((type) => type.name) ?? []))
      .catch(() => setTypes([]));
  }, []);
  return types;
}

export function JobsPage({
  query,
  onUnauthorized,
}: {
  readonly query: URLSearchParams;
  readonly onUnauthorized: () => void;
}) {
  const filters = filtersOf(query);
  const types = useJobTypes();
  // The cursors of this page and the ones before it, so that "Newer" can go back; they belong to one set of filters
  // (the API refuses a cursor with others), so a filter change starts again at the first page.
  const filterKey = hrefOf(filters);
  const [paging, setPaging] = useState<{ filterKey: string; cursors: readonly (string | undefined)[] }>({
    filterKey,
    cursors: [undefined],
  });
  const cursors = paging.filterKey === filterKey ? paging.cursors : [undefined];
  const setCursors = (next: readonly (string | undefined)[]) => setPaging({ filterKey, cursors: next });
  const cursor = cursors[cursors.length - 1];
  // The jobs ticked for a bulk action, on this page of these filters: moving on clears them.
  const pageKey = `${filterKey}#${cursor ?? ''}`;
  // `allMatching`: every job under the filters, on this page or not, is chosen.
  const [selection, setSelection] = useState<{ pageKey: string; jobIds: ReadonlySet<string>; allMatching?: boolean }>({
    pageKey,
    jobIds: new Set(),
  });
  const selectedIds = selection.pageKey === pageKey ? selection.jobIds : new Set<string>();
  const allMatching = selection.pageKey === pageKey && selection.allMatching === true;
  const select = (jobIds: readonly string[], on: boolean) => {
    const next = new Set(selectedIds);
    for (const jobId of jobIds) {
      if (on) next.add(jobId);
      else next.delete(jobId);
    }
    setSelection({ pageKey, jobIds: next });
  };
  useDocumentTitle('Jobs');
  const listQuery: ListJobsQuery = {
    limit: pageSize,
    ...(filters.status ? { status: filters.status } : {}),
    ...(filters.type ? { type: filters.type } : {}),
    ...(filters.priority ? { priority: filters.priority } : {}),
    ...(filters.tag ? { tag: filters.tag } : {}),
    ...(cursor ? { cursor } : {}),
  };
  // The tabs' counts: the filters but the status, so that each tab says how many it would show.
  const countsQuery = { ...listQuery, status: undefined, cursor: undefined, limit: undefined };
  const counts = useLive(
    hrefOf({ ...filters, status: undefined }),
    async () =>
      dataOf(
        await client.api.GET('/api/v1/jobs/counts', {
          params: { query: { type: countsQuery.type, priority: countsQuery.priority, tag: countsQuery.tag } },
        }),
      ),
    refreshMs,
    onUnauthorized,
  ).data;
  const matchingCount = counts && (filters.status ? counts.counts[filters.status] : counts.total);
  /** The jobs under the filters, every page of them (at most `maxMatching`), each read small (no input or result). */
  const collectMatching = async (): Promise<Job[]> => {
    const found: Job[] = [];
    let next: string | undefined;
    do {
      const { jobs, nextCursor } = await client.list({
        ...listQuery,
        limit: 100,
        include: '',
        cursor: next,
      });
      found.push(...jobs);
      next = nextCursor ?? undefined;
    } while (next && found.length < maxMatching);
    return found.slice(0, maxMatching);
  };
  const live = useLive(pageKey, () => client.list(listQuery), refreshMs, onUnauthorized);
  const page = live.data;
  const setFilter = (change: Partial<Filters>) => navigate(hrefOf({ ...filters, ...change }), { replace: true });

  return (
    <section>
      <LiveHead title="Jobs" live={live} refreshMs={refreshMs} />
      <nav class="tabs" aria-label="Status">
        <Link href={hrefOf({ ...filters, status: undefined })} aria-current={filters.status ? undefined : 'page'}>
          All <Count value={counts?.total} />
        </Link>
        {statuses.map((status) => (
          <Link
            key={status}
            href={hrefOf({ ...filters, status })}
            aria-current={filters.status === status ? 'page' : undefined}
          >
            {statusTitle(status)} <Count value={counts?.counts[status]} />
          </Link>
        ))}
      </nav>
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <label>
          Type
          <select
            value={filters.type ?? ''}
            onChange={(event) => setFilter({ type: event.currentTarget.value || undefined })}
          >
            <option value="">any</option>
            {[...new Set([...types, ...(filters.type ? [filters.type] : [])])].map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
          </select>
        </label>
        <label>
          Priority
          <select
            value={filters.priority ?? ''}
            onChange={(event) => setFilter({ priority: priorityOf(event.currentTarget.value) })}
          >
            <option value="">any</option>
            {priorities.map((priority) => (
              <option key={priority} value={priority}>
                {priority}
              </option>
            ))}
          </select>
        </label>
        <TagFilter tag={filters.tag} onChange={(tag) => setFilter({ tag })} />
      </form>
      {page === undefined ? (
        <Pending problem={live.problem} again={live.again} />
      ) : page.jobs.length === 0 ? (
        <div class="empty">
          <p>
            No jobs {filters.status || filters.type || filters.priority || filters.tag ? 'match these filters' : 'yet'}.
          </p>
          <p class="muted">
            Submit one with <code>POST /api/v1/jobs</code>: it shows here within two seconds.
          </p>
        </div>
      ) : (
        <>
          <BulkActions
            selected={page.jobs.filter((job) => selectedIds.has(job.jobId))}
            matching={
              page.nextCursor && page.jobs.every((job) => selectedIds.has(job.jobId))
                ? {
                    count: Math.min(matchingCount ?? maxMatching, maxMatching),
                    chosen: allMatching,
                    choose: (on) => setSelection({ pageKey, jobIds: selectedIds, allMatching: on }),
                    collect: collectMatching,
                  }
                : undefined
            }
            onDone={() => setSelection({ pageKey, jobIds: new Set() })}
            onUnauthorized={onUnauthorized}
          />
          <JobsTable jobs={page.jobs} now={live.readAt} selected={selectedIds} onSelect={select} />
        </>
      )}
      <div class="pager">
        <button type="button" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <span class="muted">Page {cursors.length}</span>
        <button
          type="button"
          disabled={!page?.nextCursor}
          onClick={() => page?.nextCursor && setCursors([...cursors, page.nextCursor])}
        >
          Older →
        </button>
      </div>
    </section>
  );
}

/** A tab's count, once read. */
function Count({ value }: { readonly value: number | undefined }) {
  return value === undefined ? null : <span class="count">{value}</span>;
}

/** A tag to filter by (key:value), applied when the field is left or Enter is pressed; the API checks its spelling. */
function TagFilter({
  tag,
  onChange,
}: {
  readonly tag: string | undefined;
  readonly onChange: (tag: string | undefined) => void;
}) {
  // The field follows the tag when the address changes it, but not on mount: an effect would run after the first
  // paint and wipe what was typed in between.
  const [shown, setShown] = useState({ tag, text: tag ?? '' });
  if (shown.tag !== tag) setShown({ tag, text: tag ?? '' });
  const text = shown.tag === tag ? shown.text : (tag ?? '');
  const setText = (next: string) => setShown({ tag, text: next });
  return (
    <label>
      Tag
      <input
        type="search"
        placeholder="key:value"
        value={text}
        onInput={(event) => setText(event.currentTarget.value)}
        onChange={(event) => onChange(event.currentTarget.value.trim() || undefined)}
      />
    </label>
  );
}

/** How long the job ran (or has been running), or when a delayed job starts. */
function durationText(job: Job, now: number): string {
  const ran = runTime(job, now);
  if (ran !== null) return duration(ran);
  if (job.runAt && Date.parse(job.runAt) > now) return `starts ${relative(job.runAt, now)}`;
  return '–';
}

interface TableProps {
  readonly jobs: readonly Job[];
  readonly now: number;
  readonly selected: ReadonlySet<string>;
  readonly onSelect: (jobIds: readonly string[], on: boolean) => void;
}

function JobsTable({ jobs, now, selected, onSelect }: TableProps) {
  const allSelected = jobs.every((job) => selected.has(job.jobId));
  return (
    <table class="jobs">
      <thead>
        <tr>
          <th scope="col" class="select">
            <input
              type="checkbox"
              aria-label="Select every job of this page"
              checked={allSelected}
              onChange={() =>
                onSelect(
                  jobs.map((job) => job.jobId),
                  !allSelected,
                )
              }
            />
          </th>
          <th scope="col">Job</th>
          <th scope="col">Type</th>
          <th scope="col">Priority</th>
          <th scope="col">Status</th>
          <NumberHead>Attempt</NumberHead>
          <th scope="col">Progress</th>
          <NumberHead>Age</NumberHead>
          <NumberHead>Duration</NumberHead>
        </tr>
      </thead>
      <tbody>
        {jobs.map((job) => (
          <tr key={job.jobId} data-job-id={job.jobId}>
            <td class="select" data-label="Select">
              <input
                type="checkbox"
                aria-label={`Select ${job.jobId}`}
                checked={selected.has(job.jobId)}
                onChange={(event) => onSelect([job.jobId], event.currentTarget.checked)}
              />
            </td>
            <td data-label="Job" class="job-id">
              <Link href={jobPath(job.jobId)}>{job.jobId}</Link>
              <Tags tags={job.tags} />
            </td>
            <td data-label="Type">{job.type}</td>
            <td data-label="Priority">
              <span class={`priority priority-${job.priority}`}>{job.priority}</span>
            </td>
            <td data-label="Status">
              <StatusBadge status={job.status} />
            </td>
            <td data-label="Attempt" class="number">
              {job.attempt}/{job.maxAttempts}
            </td>
            <td data-label="Progress">
              <div class="progress-cell">
                <ProgressBar job={job} label={`Progress of ${job.jobId}`} />
                <span class="progress-text">
                  {job.progress?.percent == null ? '' : `${Math.round(job.progress.percent)}%`}
                </span>
              </div>
            </td>
            <td data-label="Age" class="number" title={dateTime(job.createdAt)}>
              {relative(job.createdAt, now)}
            </td>
            <td data-label="Duration" class="number">
              {durationText(job, now)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
