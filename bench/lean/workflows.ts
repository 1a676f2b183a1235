// The leanest durable job on bare Temporal, the bench's reference: one activity, run with Temporal's own retry
// policy and timeouts, whose result is the workflow's. No signal, no search-attribute upsert, no memo, no query.
import { proxyActivities } from '@temporalio/workflow';
import type { createLeanActivities } from './activities.js';

const { leanSleep } = proxyActivities<ReturnType<typeof createLeanActivities>>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

export async function leanJobWorkflow(seconds: number): Promise<string> {
  return leanSleep(seconds);
}
