// High-priority jobs submitted behind a backlog of low ones that saturates the workers' low slots: how long
// the high jobs take from submit to finish, and how many low jobs were still waiting when they were done.
import { JobPriorityKey, JobStatusKey } from '../../src/workflows/search-attributes.js';
import type { JobBody } from '../gateway.js';
import { delay, runConcurrently, timed } from '../load.js';
import type { BenchParams } from '../options.js';
import type { PriorityFigures, ScenarioRun } from '../results.js';
import type { BenchStack } from '../stack.js';
import { rounded, summarize } from '../stats.js';

/** Thrown when the low jobs never fill the worker's low slots, so there is no backlog to measure behind. */
export class BacklogNotFormedError extends Error {
  override readonly name = 'BacklogNotFormedError';
}

const saturationTimeoutMs = 60_000;
/** Clients submitting the low backlog at once. */
const submitters = 32;

export async function priority(stack: BenchStack, params: BenchParams): Promise<ScenarioRun<PriorityFigures>> {
  const { lowJobs, lowSeconds, highJobs, highSeconds } = params.priority;
  const lowSlots = (params.workerQueues.low ?? 0) * stack.workers.length;
  const countLow = (status: 'queued' | 'running'): Promise<number> =>
    stack.bare.count(
      `WorkflowType = 'jobWorkflow' AND ${JobPriorityKey.name} = 'low' AND ${JobStatusKey.name} = '${status}'`,
    );

  const low: JobBody = { type: 'sleep', input: { seconds: lowSeconds }, priority: 'low' };
  await runConcurrently(lowJobs, submitters, async () => {
    await stack.gateway.submit(low);
  });
  const deadline = Date.now() + saturationTimeoutMs;
  let lowRunning = await countLow('running');
  while (lowRunning < lowSlots) {
    if (Date.now() > deadline)
      throw new BacklogNotFormedError(
        `only ${lowRunning} of ${lowSlots} low slots busy after ${saturationTimeoutMs} ms`,
      );
    await delay(100);
    lowRunning = await countLow('running');
  }

  const high: JobBody = { type: 'sleep', input: { seconds: highSeconds }, priority: 'high' };
  const highMs: number[] = [];
  await runConcurrently(highJobs, highJobs, async () => {
    await timed(highMs, () => stack.gateway.runJob(high, 30));
  });
  const lowStillQueued = await countLow('queued');

  const summary = summarize(highMs);
  return {
    figures: {
      highP50Ms: rounded(summary.p50),
      highP95Ms: rounded(summary.p95),
      lowStillQueued,
      lowRunningWhenHighSubmitted: lowRunning,
    },
    distributions: [{ label: 'high job behind the low backlog', side: 'gateway', samplesMs: highMs }],
  };
}
