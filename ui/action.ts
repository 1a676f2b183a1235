// An action the user starts (a button, a form): busy while it runs, its problem shown where it was asked for, and a
// 401 sends the user back to signing in. Each page's buttons and forms call the API through it.
import { useState } from 'preact/hooks';
import { isUnauthorized } from './api.js';

export interface Action<P> {
  readonly busy: boolean;
  /** Why the last run failed, as `problemOf` put it; undefined once a run starts again. */
  readonly problem: P | undefined;
  /** Runs `act`; its failure (other than a 401) becomes `problem`. */
  readonly run: (act: () => Promise<void>) => Promise<void>;
}

export function useAction<P>(onUnauthorized: () => void, problemOf: (err: unknown) => P): Action<P> {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<P | undefined>();
  const run = async (act: () => Promise<void>) => {
    setBusy(true);
    setProblem(undefined);
    try {
      await act();
    } catch (err) {
      if (isUnauthorized(err)) {
        onUnauthorized();
        return;
      }
      setProblem(problemOf(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, problem, run };
}
