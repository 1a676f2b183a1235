// Live data without a reload: read now, then again `intervalMs` after each answer, until the page goes away.
import { useEffect, useRef, useState } from 'preact/hooks';
import { isLastingRefusal, isUnauthorized, messageOf } from './api.js';

export interface Live<T> {
  readonly data: T | undefined;
  /** The last read's problem, while the data shown is older. */
  readonly problem: string | undefined;
  /** When the data was read (the clock ages and durations are counted against). */
  readonly readAt: number;
  /** Shows `data` at once (an action's answer) and reads again after the interval. */
  readonly replace: (data: T) => void;
  /** Reads again now: set only once a refusal that will not change (404, 400) stopped the reading. */
  readonly again: (() => void) | undefined;
}

/**
 * Polls `read` while `keepGoing` says so (default: always); a new `key` starts over. A 401 goes to
 * `onUnauthorized`; a refusal that asking again cannot change (404, 400) is shown and stops the reading until
 * `again`; other failures (503, a lost connection) are shown and read again.
 */
export function useLive<T>(
  key: string,
  read: () => Promise<T>,
  intervalMs: number,
  onUnauthorized: () => void,
  keepGoing: (data: T) => boolean = () => true,
): Live<T> {
  const [state, setState] = useState<{
    key: string;
    data?: T;
    problem?: string;
    lastingRefusal?: boolean;
    readAt: number;
  }>({
    key,
    readAt: Date.now(),
  });
  const wake = useRef<() => void>(() => undefined);
  const restart = useRef<() => void>(() => undefined);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let reading = false;
    setState({ key, readAt: Date.now() });
    const tick = async () => {
      timer = undefined;
      // A tab nobody looks at costs the API nothing: it reads again once it is shown.
      if (document.hidden) {
        timer = setTimeout(tick, intervalMs);
        return;
      }
      reading = true;
      try {
        const data = await read();
        if (stopped) return;
        setState({ key, data, readAt: Date.now() });
        if (keepGoing(data)) timer = setTimeout(tick, intervalMs);
      } catch (err) {
        if (stopped) return;
        if (isUnauthorized(err)) {
          onUnauthorized();
          return;
        }
        const lasting = isLastingRefusal(err);
        setState((last) => ({ ...last, key, problem: messageOf(err), lastingRefusal: lasting, readAt: Date.now() }));
        if (!lasting) timer = setTimeout(tick, intervalMs);
      } finally {
        reading = false;
      }
    };
    wake.current = () => {
      if (timer === undefined && !reading && !stopped) timer = setTimeout(tick, intervalMs);
    };
    restart.current = () => {
      if (timer === undefined && !reading && !stopped) void tick();
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // `read` and `keepGoing` are fresh closures each render; `key` says when what they read changed.
  }, [key]);
  const current = state.key === key ? state : { key, readAt: Date.now() };
  return {
    data: current.data,
    problem: current.problem,
    readAt: current.readAt,
    replace: (data) => {
      setState({ key, data, readAt: Date.now() });
      wake.current();
    },
    again: current.lastingRefusal ? () => restart.current() : undefined,
  };
}
