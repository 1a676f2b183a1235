// The schedules page: each schedule of the tenant with its timing, job, next runs and recent jobs, and Pause or
// Resume and Run now. GET /api/v1/schedules every 5 s; `?id=` puts one schedule first and marks it (a job's page
// links to the schedule that started it so).
import { useAction } from './action.js';
import { client, dataOf, messageOf } from './api.js';
import type { components } from '../src/client/index.js';
import { dateTime, duration, relative } from './format.js';
import { LiveHead, Pending, statusColor, useDocumentTitle } from './components.js';
import { useLive } from './live.js';
import { Link, jobPath } from './router.js';
import './pages.css';

type Schedule = components['schemas']['Schedule'];
type ScheduleAction = 'pause' | 'unpause' | 'trigger';

const refreshMs = 5000;

function timing(schedule: Schedule): string {
  if (schedule.cron) return `cron ${schedule.cron} (${schedule.timezone ?? 'UTC'})`;
  return schedule.intervalSeconds === null ? '–' : `every ${duration(schedule.intervalSeconds * 1000)}`;
}

interface Props {
  readonly query: URLSearchParams;
  readonly onUnauthorized: () => void;
}

export function SchedulesPage({ query, onUnauthorized }: Props) {
  const live = useLive(
    'schedules',
    async () => dataOf(await client.api.GET('/api/v1/schedules')).schedules,
    refreshMs,
    onUnauthorized,
  );
  const marked = query.get('id');
  useDocumentTitle('Schedules');
  const schedules = live.data && [
    ...live.data.filter((schedule) => schedule.scheduleId === marked),
    ...live.data.filter((schedule) => schedule.scheduleId !== marked),
  ];
  const replaced = (next: Schedule) =>
    live.replace((live.data ?? []).map((schedule) => (schedule.scheduleId === next.scheduleId ? next : schedule)));

  return (
    <section>
      <LiveHead title="Schedules" live={live} refreshMs={refreshMs} />
      {schedules === undefined ? (
        <Pending problem={live.problem} again={live.again} />
      ) : schedules.length === 0 ? (
        <div class="empty">
          <p>No schedules yet.</p>
          <p class="muted">
            Create one with <code>POST /api/v1/schedules</code>: a job type, its input, and a cron or an interval.
          </p>
        </div>
      ) : (
        <div class="schedule-list">
          {schedules.map((schedule) => (
            <ScheduleCard
              key={schedule.scheduleId}
              schedule={schedule}
              marked={schedule.scheduleId === marked}
              now={live.readAt}
              onChanged={replaced}
              onUnauthorized={onUnauthorized}
            />
          ))}
        </div>
      )}
    </section>
  );
}

interface CardProps {
  readonly schedule: Schedule;
  readonly marked: boolean;
  readonly now: number;
  readonly onChanged: (schedule: Schedule) => void;
  readonly onUnauthorized: () => void;
}

function ScheduleCard({ schedule, marked, now, onChanged, onUnauthorized }: CardProps) {
  const action = useAction(onUnauthorized, messageOf);
  const act = (which: ScheduleAction) =>
    void action.run(async () => {
      const params = { params: { path: { scheduleId: schedule.scheduleId } } };
      const answer =
        which === 'pause'
          ? await client.api.POST('/api/v1/schedules/{scheduleId}/pause', params)
          : which === 'unpause'
            ? await client.api.POST('/api/v1/schedules/{scheduleId}/unpause', params)
            : await client.api.POST('/api/v1/schedules/{scheduleId}/trigger', params);
      onChanged(dataOf(answer));
    });
  const type = typeof schedule.job['type'] === 'string' ? schedule.job['type'] : '?';
  return (
    <article
      class={`panel schedule${marked ? ' schedule-marked' : ''}`}
      data-schedule-id={schedule.scheduleId}
      aria-current={marked ? 'true' : undefined}
    >
      <div class="schedule-head wrapping-row">
        <h2 class="job-title">{schedule.scheduleId}</h2>
        <span
          class="status"
          style={statusColor(schedule.paused ? 'cancelled' : 'running')}
          data-testid="schedule-state"
        >
          {schedule.paused ? 'paused' : 'active'}
        </span>
        <div class="actions">
          <button
            type="button"
            disabled={action.busy}
            data-schedule-action={schedule.paused ? 'unpause' : 'pause'}
            onClick={() => act(schedule.paused ? 'unpause' : 'pause')}
          >
            {schedule.paused ? 'Resume' : 'Pause'}
          </button>
          <button type="button" disabled={action.busy} data-schedule-action="trigger" onClick={() => act('trigger')}>
            Run now
          </button>
        </div>
      </div>
      {action.problem && (
        <p class="notice notice-error" role="alert">
          {action.problem}
        </p>
      )}
      <dl class="facts">
        <div>
          <dt>Runs</dt>
          <dd>{timing(schedule)}</dd>
        </div>
        <div>
          <dt>Job type</dt>
          <dd>{type}</dd>
        </div>
        <div>
          <dt>Overlap</dt>
          <dd>{schedule.overlap}</dd>
        </div>
        <div>
          <dt>Next run</dt>
          <dd>
            {schedule.paused || schedule.nextRunTimes.length === 0 ? (
              '–'
            ) : (
              <time dateTime={schedule.nextRunTimes[0]} title={dateTime(schedule.nextRunTimes[0]!)}>
                {relative(schedule.nextRunTimes[0]!, now)}
              </time>
            )}
          </dd>
        </div>
        {schedule.skippedRuns > 0 && (
          <div>
            <dt>Skipped</dt>
            <dd title="runs that found the tenant at its cap of unfinished jobs">{schedule.skippedRuns}</dd>
          </div>
        )}
      </dl>
      <h3>Recent jobs</h3>
      {schedule.recentJobs.length === 0 ? (
        <p class="muted">None yet.</p>
      ) : (
        <ul class="recent-jobs">
          {[...schedule.recentJobs].reverse().map((job) => (
            <li key={job.jobId}>
              <Link href={jobPath(job.jobId)}>{job.jobId}</Link>{' '}
              <span class="muted">{relative(job.scheduledAt, now)}</span>
            </li>
          ))}
        </ul>
      )}
    </article>
  );
}
