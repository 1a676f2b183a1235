// The job dashboard: who is signed in, then the page the address names.
import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { client, isUnauthorized, messageOf } from './api.js';
import { JobPage } from './job-page.js';
import { JobsPage } from './jobs-page.js';
import { QueuesPage } from './queues-page.js';
import { Link, jobsPath, queuesPath, runPath, schedulesPath, useRoute } from './router.js';
import { RunPage } from './run-page.js';
import { SchedulesPage } from './schedules-page.js';
import { forgetKey, storedKey } from './session.js';
import { SignIn } from './sign-in.js';
import './styles.css';

type Caller =
  | { readonly state: 'checking' }
  | { readonly state: 'signed-out'; readonly problem?: string }
  | { readonly state: 'signed-in'; readonly tenant: string; readonly open: boolean }
  | { readonly state: 'unreachable'; readonly problem: string };

function App() {
  const route = useRoute();
  const [caller, setCaller] = useState<Caller>({ state: 'checking' });

  // Asking who the key (or no key, when the API is open) acts as is also how a stale key is found out.
  const check = useCallback(async () => {
    try {
      const { tenant } = await client.whoami();
      setCaller({ state: 'signed-in', tenant, open: storedKey() === undefined });
    } catch (err) {
      if (isUnauthorized(err)) {
        const hadKey = storedKey() !== undefined;
        forgetKey();
        setCaller({ state: 'signed-out', ...(hadKey ? { problem: 'That API key is not valid (any more).' } : {}) });
      } else setCaller({ state: 'unreachable', problem: messageOf(err) });
    }
  }, []);
  useEffect(() => void check(), [check]);

  /** Any page's call that answers 401: the key went away; back to signing in. */
  const signedOut = useCallback(() => {
    forgetKey();
    setCaller({ state: 'signed-out', problem: 'The API refused the key: sign in again.' });
  }, []);

  const signOut = () => {
    forgetKey();
    setCaller({ state: 'signed-out' });
  };

  return (
    <>
      <header class="topbar">
        <Link class="brand" href={jobsPath}>
          durable-jobs
        </Link>
        <nav aria-label="Pages">
          <Link href={jobsPath} aria-current={route.page === 'jobs' ? 'page' : undefined}>
            Jobs
          </Link>
          <Link href={runPath} aria-current={route.page === 'run' ? 'page' : undefined}>
            Run a job
          </Link>
          <Link href={queuesPath} aria-current={route.page === 'queues' ? 'page' : undefined}>
            Queues
          </Link>
          <Link href={schedulesPath} aria-current={route.page === 'schedules' ? 'page' : undefined}>
            Schedules
          </Link>
        </nav>
        {caller.state === 'signed-in' && (
          <div class="who">
            <span>
              tenant <strong data-testid="tenant">{caller.tenant}</strong>
              {caller.open && <span class="muted"> (open API: no keys)</span>}
            </span>
            {!caller.open && (
              <button type="button" class="button-quiet" onClick={signOut} data-action="sign-out">
                Sign out
              </button>
            )}
          </div>
        )}
      </header>
      <main id="main">
        {caller.state === 'checking' && <p class="muted">Loading…</p>}
        {caller.state === 'unreachable' && (
          <div class="notice notice-error" role="alert">
            <p>{caller.problem}</p>
            <button type="button" onClick={() => void check()}>
              Try again
            </button>
          </div>
        )}
        {caller.state === 'signed-out' && <SignIn problem={caller.problem} onSignedIn={() => void check()} />}
        {caller.state === 'signed-in' &&
          (route.page === 'jobs' ? (
            <JobsPage query={route.query} onUnauthorized={signedOut} />
          ) : route.page === 'job' ? (
            <JobPage key={route.jobId} jobId={route.jobId} onUnauthorized={signedOut} />
          ) : route.page === 'queues' ? (
            <QueuesPage onUnauthorized={signedOut} />
          ) : route.page === 'schedules' ? (
            <SchedulesPage query={route.query} onUnauthorized={signedOut} />
          ) : route.page === 'run' ? (
            <RunPage query={route.query} onUnauthorized={signedOut} />
          ) : (
            <section>
              <h1>No such page</h1>
              <p>
                <Link href={jobsPath}>See the jobs</Link>
              </p>
            </section>
          ))}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
