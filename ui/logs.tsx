// A job's logs on its page: what its handler logged (or its command printed) in each attempt, one attempt at a time
// (the latest by default), read from GET /api/v1/jobs/{jobId}/logs. While the attempt shown runs, its new lines are
// read every second after the last one shown: a live tail.
import { useEffect, useState } from 'preact/hooks';
import { client, isUnauthorized, messageOf, type Job, type JobLogLine } from './api.js';
import './logs.css';

const tailMs = 1000;

interface Props {
  readonly job: Job;
  readonly onUnauthorized: () => void;
}

interface Shown {
  readonly lines: readonly JobLogLine[];
  readonly ended: boolean;
  readonly problem?: string;
}

/** Reads every line of `attempt` (page after page), then, until the attempt ends, its new lines every second. */
function useAttemptLines(job: Job, attempt: number, onUnauthorized: () => void): Shown {
  const [shown, setShown] = useState<Shown>({ lines: [], ended: false });
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lines: JobLogLine[] = [];
    let after = 0;
    setShown({ lines, ended: false });
    const read = async (): Promise<void> => {
      try {
        for (;;) {
          const page = await client.logs(job.jobId, { attempt, after, limit: 1000 });
          if (stopped) return;
          lines = [...lines, ...page.lines];
          after = page.nextAfter;
          if (page.hasMore) continue;
          setShown({ lines, ended: page.attemptEnded });
          if (!page.attemptEnded) timer = setTimeout(() => void read(), tailMs);
          return;
        }
      } catch (err) {
        if (stopped) return;
        if (isUnauthorized(err)) {
          onUnauthorized();
          return;
        }
        setShown({ lines, ended: false, problem: messageOf(err) });
        timer = setTimeout(() => void read(), tailMs);
      }
    };
    void read();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [job.jobId, job.run, attempt]);
  return shown;
}

export function LogsPanel({ job, onUnauthorized }: Props) {
  const attempts = job.attempt;
  const [chosen, setChosen] = useState<number | undefined>();
  // The latest attempt until the user picks one: a new attempt shows itself.
  const attempt = chosen !== undefined && chosen <= attempts ? chosen : attempts;
  return (
    <section class="panel logs" aria-labelledby="logs-title">
      <div class="logs-head">
        <h2 id="logs-title">Logs</h2>
        {attempts > 1 && (
          <div class="logs-attempts" role="tablist" aria-label="Attempt">
            {Array.from({ length: attempts }, (_, index) => index + 1).map((each) => (
              <button
                key={each}
                type="button"
                role="tab"
                aria-selected={each === attempt}
                data-log-attempt={each}
                onClick={() => setChosen(each)}
              >
                Attempt {each}
              </button>
            ))}
          </div>
        )}
      </div>
      {attempts === 0 ? (
        <p class="muted">No attempt yet.</p>
      ) : (
        <AttemptLines job={job} attempt={attempt} onUnauthorized={onUnauthorized} />
      )}
    </section>
  );
}

function AttemptLines({ job, attempt, onUnauthorized }: Props & { readonly attempt: number }) {
  const { lines, ended, problem } = useAttemptLines(job, attempt, onUnauthorized);
  return (
    <>
      {problem && (
        <p class="notice notice-error" role="status">
          {problem}
        </p>
      )}
      {lines.length === 0 ? (
        <p class="muted">{ended ? 'Nothing logged in this attempt.' : 'No line yet.'}</p>
      ) : (
        <ol class="log-lines" data-testid="log-lines" data-attempt={attempt}>
          {lines.map((line) => (
            <li key={line.seq} class={`log-line log-${line.level}`}>
              <time dateTime={line.time}>{line.time.slice(11, 23)}</time>
              <span class="log-level">{line.level}</span>
              <span class="log-message">{line.message}</span>
            </li>
          ))}
        </ol>
      )}
      {!ended && <p class="muted log-live">Live: new lines appear as the attempt logs them.</p>}
    </>
  );
}
