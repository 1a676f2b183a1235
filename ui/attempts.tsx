// A job's attempts on its page: a timeline (each attempt's wait for a worker and its run as bars, the backoff between
// them as gaps) over a list with each attempt's times and error, and the schedule that started the job. Read from
// GET /api/v1/jobs/{jobId}/attempts again whenever the job changes, and every second while an attempt is under way.
import { client, type Job, type JobAttempts } from './api.js';
import { Pending, StatusBadge, statusColor } from './components.js';
import { dateTime, duration } from './format.js';
import { useLive } from './live.js';
import { Link, schedulePath } from './router.js';
import './attempts.css';

type Attempt = JobAttempts['attempts'][number];

const refreshMs = 1000;

function underWay(answer: JobAttempts): boolean {
  return (
    answer.nextAttemptAt !== null ||
    answer.attempts.some((attempt) => attempt.outcome === 'queued' || attempt.outcome === 'running')
  );
}

interface Props {
  readonly job: Job;
  /** The clock a running attempt's bar is drawn to (the job page's last read). */
  readonly now: number;
  readonly onUnauthorized: () => void;
}

export function AttemptsPanel({ job, now, onUnauthorized }: Props) {
  // A change of the job (a new attempt, its end, a retry's run) reads the attempts again at once.
  const key = `${job.jobId}#${job.run}#${job.attempt}#${job.status}#${job.lastError?.message ?? ''}`;
  const live = useLive(key, () => client.attempts(job.jobId), refreshMs, onUnauthorized, underWay);
  const answer = live.data;
  return (
    <section class="panel attempts" aria-labelledby="attempts-title">
      <h2 id="attempts-title">Attempts</h2>
      {answer?.scheduleId && (
        <p class="origin">
          Started by schedule{' '}
          <Link href={schedulePath(answer.scheduleId)} data-testid="schedule-origin">
            {answer.scheduleId}
          </Link>
        </p>
      )}
      {answer === undefined ? (
        <Pending problem={live.problem} again={live.again} />
      ) : answer.attempts.length === 0 ? (
        <p class="muted">
          No attempt yet
          {job.runAt && Date.parse(job.runAt) > now ? `: the first starts at ${dateTime(job.runAt)}` : '.'}
        </p>
      ) : (
        <>
          <Timeline answer={answer} now={Math.max(now, live.readAt)} />
          <AttemptList attempts={answer.attempts} nextAttemptAt={answer.nextAttemptAt} />
        </>
      )}
    </section>
  );
}

/** One stretch of the timeline, in ms since the epoch. */
interface Span {
  readonly kind: 'wait' | 'run' | 'backoff';
  readonly from: number;
  readonly to: number;
  readonly attempt: Attempt | undefined;
  readonly label: string;
}

function spansOf(answer: JobAttempts, now: number): Span[] {
  const spans: Span[] = [];
  answer.attempts.forEach((attempt, index) => {
    const scheduled = Date.parse(attempt.scheduledAt);
    const started = attempt.startedAt === null ? undefined : Date.parse(attempt.startedAt);
    const ended = attempt.endedAt === null ? undefined : Date.parse(attempt.endedAt);
    const previous = answer.attempts[index - 1];
    if (previous?.endedAt) {
      const gap = scheduled - Date.parse(previous.endedAt);
      spans.push({
        kind: 'backoff',
        from: Date.parse(previous.endedAt),
        to: scheduled,
        attempt: undefined,
        label: `backoff ${duration(gap)}`,
      });
    }
    const waitEnd = started ?? ended ?? now;
    if (waitEnd > scheduled) {
      spans.push({
        kind: 'wait',
        from: scheduled,
        to: waitEnd,
        attempt,
        label: `attempt ${attempt.attempt} waited ${duration(waitEnd - scheduled)} for a worker`,
      });
    }
    if (started !== undefined) {
      const to = ended ?? now;
      spans.push({
        kind: 'run',
        from: started,
        to,
        attempt,
        label: `attempt ${attempt.attempt}: ${attempt.outcome}, ${duration(to - started)}`,
      });
    }
  });
  const last = answer.attempts[answer.attempts.length - 1];
  if (answer.nextAttemptAt && last?.endedAt) {
    spans.push({
      kind: 'backoff',
      from: Date.parse(last.endedAt),
      to: Date.parse(answer.nextAttemptAt),
      attempt: undefined,
      label: `backoff: the next attempt at ${dateTime(answer.nextAttemptAt)}`,
    });
  }
  return spans;
}

/** The attempts as bars on one time axis, from the first attempt's scheduling to the last end (or now, or the next attempt). */
function Timeline({ answer, now }: { readonly answer: JobAttempts; readonly now: number }) {
  const spans = spansOf(answer, now);
  const start = Math.min(...spans.map((span) => span.from), Date.parse(answer.attempts[0]!.scheduledAt));
  const end = Math.max(...spans.map((span) => span.to), start + 1);
  const total = end - start;
  const percent = (ms: number) => (100 * (ms - start)) / total;
  const outcomes = answer.attempts.map((attempt) => attempt.outcome.replace('_', ' ')).join(', ');
  return (
    <figure class="timeline">
      <div
        class="timeline-track"
        role="img"
        aria-label={`${answer.attempts.length} ${answer.attempts.length === 1 ? 'attempt' : 'attempts'} over ${duration(total)}: ${outcomes}`}
      >
        {spans.map((span, index) => {
          const left = percent(span.from);
          const width = Math.max(percent(span.to) - left, span.kind === 'backoff' ? 0 : 0.6);
          return (
            <div
              key={index}
              class={`timeline-span timeline-${span.kind}`}
              style={{
                left: `${left}%`,
                width: `${width}%`,
                ...(span.attempt ? statusColor(span.attempt.outcome) : {}),
              }}
              title={span.label}
              data-kind={span.kind}
              data-attempt={span.attempt?.attempt}
              data-outcome={span.kind === 'run' ? span.attempt?.outcome : undefined}
            >
              {span.kind === 'run' && width > 4 && <span class="timeline-label">{span.attempt?.attempt}</span>}
              {span.kind === 'backoff' && width > 14 && <span class="timeline-label">{span.label}</span>}
            </div>
          );
        })}
      </div>
      <figcaption class="timeline-axis muted">
        <span>{dateTime(new Date(start).toISOString())}</span>
        <span>{duration(total)}</span>
      </figcaption>
    </figure>
  );
}

function AttemptList({
  attempts,
  nextAttemptAt,
}: {
  readonly attempts: readonly Attempt[];
  readonly nextAttemptAt: string | null;
}) {
  return (
    <ol class="attempt-list">
      {attempts.map((attempt) => (
        <li key={attempt.attempt} data-attempt={attempt.attempt}>
          <span class="attempt-number">#{attempt.attempt}</span>
          <StatusBadge status={attempt.outcome} />
          <span class="muted">
            {attempt.startedAt ? (
              <>
                started <time dateTime={attempt.startedAt}>{dateTime(attempt.startedAt)}</time>
              </>
            ) : (
              'waiting for a worker'
            )}
            {attempt.durationMs !== null && `, ran ${duration(attempt.durationMs)}`}
          </span>
          {attempt.error && (
            <span class="attempt-error">
              <code>{attempt.error.type}</code> {attempt.error.message}
            </span>
          )}
        </li>
      ))}
      {nextAttemptAt && (
        <li class="muted" data-next-attempt>
          Next attempt at <time dateTime={nextAttemptAt}>{dateTime(nextAttemptAt)}</time>
        </li>
      )}
    </ol>
  );
}
