// What the two registry workflows (job types, hooks) share: one long-lived run per task queue prefix keeping its state
// in memory, which continues as new, carrying it, before its history grows long. Deterministic: workflow code.
import { allHandlersFinished, condition, continueAsNew, workflowInfo } from '@temporalio/workflow';

/** Past this many events a registry continues as new: its state is small, its history of messages is not. */
const defaultHistoryLimit = 2000;

export interface RegistryRunInput<State> {
  readonly state: State | null;
  /** Tests make it small to see continue-as-new. */
  readonly historyLimit?: number;
}

/** Work a registry does at an interval while no message comes (the job type registry drops expired leases). */
export interface RegistrySweep {
  readonly intervalMs: number;
  readonly sweep: () => void;
}

/**
 * Continues the run as new (it never returns) once Temporal suggests it or the history reaches its limit, and every
 * handler has finished: with the state `carried` gives then, and the limit the run was started with.
 */
export async function continueAsNewWhenDue<State>(
  input: RegistryRunInput<State>,
  carried: () => State,
  every?: RegistrySweep,
): Promise<never> {
  const historyLimit = input.historyLimit ?? defaultHistoryLimit;
  const continueAsNewDue = (): boolean =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= historyLimit;
  if (every) while (!(await condition(continueAsNewDue, every.intervalMs))) every.sweep();
  else await condition(continueAsNewDue);
  await condition(allHandlersFinished);
  return continueAsNew<(input: RegistryRunInput<State>) => Promise<void>>({
    state: carried(),
    ...(input.historyLimit !== undefined ? { historyLimit: input.historyLimit } : {}),
  });
}
