// A workflow's result as the bench awaits it: the client's long poll of the history may fail on a machine too busy to
// answer it in time (ServiceError "Failed to get Workflow execution history"); the workflow runs on regardless, so
// the poll is made again, for up to `patienceMs`.
import { ServiceError, type WorkflowHandle } from '@temporalio/client';

export async function awaitResult<T>(handle: Pick<WorkflowHandle, 'result'>, patienceMs = 120_000): Promise<T> {
  const deadline = Date.now() + patienceMs;
  for (;;) {
    try {
      return (await handle.result()) as T;
    } catch (err) {
      if (!(err instanceof ServiceError) || Date.now() > deadline) throw err;
    }
  }
}
