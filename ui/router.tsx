// The dashboard's pages are paths under /ui/ (the gateway answers its HTML for each, so a reload stays put);
// moving between them changes the address with the History API, and the filters live in the query string.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { readonly page: 'jobs'; readonly query: URLSearchParams }
  | { readonly page: 'job'; readonly jobId: string }
  | { readonly page: 'queues' }
  | { readonly page: 'schedules'; readonly query: URLSearchParams }
  | { readonly page: 'run'; readonly query: URLSearchParams }
  | { readonly page: 'not-found' };

export const jobsPath = '/ui/';
export const queuesPath = '/ui/queues';
export const schedulesPath = '/ui/schedules';
export const runPath = '/ui/run';

/** The schedules page with one schedule shown first and marked. */
export function schedulePath(scheduleId: string): string {
  return `${schedulesPath}?${new URLSearchParams({ id: scheduleId }).toString()}`;
}

/** The jobs list filtered by one tag. */
export function taggedJobsPath(tag: string): string {
  return `${jobsPath}?${new URLSearchParams({ tag }).toString()}`;
}

export function jobPath(jobId: string): string {
  return `/ui/jobs/${encodeURIComponent(jobId)}`;
}

function routeOf({ pathname, search }: Location): Route {
  if (pathname === jobsPath) return { page: 'jobs', query: new URLSearchParams(search) };
  if (pathname === queuesPath) return { page: 'queues' };
  if (pathname === schedulesPath) return { page: 'schedules', query: new URLSearchParams(search) };
  if (pathname === runPath) return { page: 'run', query: new URLSearchParams(search) };
  const job = /^\/ui\/jobs\/([^/]+)$/.exec(pathname);
  if (job) return { page: 'job', jobId: decodeURIComponent(job[1]!) };
  return { page: 'not-found' };
}

const changed = 'durable-jobs:navigate';

/** Goes to `href` within the app (`replace`: without a new history entry, as a filter change does). */
export function navigate(href: string, { replace = false } = {}): void {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  dispatchEvent(new Event(changed));
}

/** The page the address names, kept current through links, Back and Forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(location));
  useEffect(() => {
    const update = () => setRoute(routeOf(location));
    addEventListener('popstate', update);
    addEventListener(changed, update);
    return () => {
      removeEventListener('popstate', update);
      removeEventListener(changed, update);
    };
  }, []);
  return route;
}

interface LinkProps {
  readonly href: string;
  readonly class?: string;
  readonly 'aria-current'?: 'page' | undefined;
  readonly 'data-testid'?: string;
  readonly children: ComponentChildren;
}

/** An ordinary link (open in a new tab works) that moves within the app on a plain click. */
export function Link({ href, children, ...rest }: LinkProps) {
  const onClick = (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
    scrollTo(0, 0);
  };
  return (
    <a {...rest} href={href} onClick={onClick}>
      {children}
    </a>
  );
}
