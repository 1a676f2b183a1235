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
  const countLow = (status: 'queued' | 'running' | 'succeeded'): Promise<number> =>
    stack.bare.count(
      `WorkflowType = 'jobWorkflow' AND ${JobPriorityKey.name} = 'low' AND ${JobStatusKey.name} = '${status}'`,
    );

  const lowEndedBefore = await countLow('succeeded');
  const low: JobBody = { type: 'sleep', input: { seconds: lowSeconds }, priority: 'low' };
  await runConcurrently(lowJobs, submitters, async () => {
    await stack.gateway.submit(low);
  });
  // The backlog has formed when every low slot is busy, or when low jobs end while others still wait: the slots
  // then turn over as fast as the server starts jobs. On the cluster on a slow 2-core machine that was about 10 a
  // second, as fast as five-second jobs ended, so all 60 slots were never busy at once.
  const formed = async (running: number): Promise<boolean> =>
    running >= lowSlots || ((await countLow('succeeded')) > lowEndedBefore && (await countLow('queued')) > 0);
  const deadline = Date.now() + saturationTimeoutMs;
  let lowRunning = await countLow('running');
  let mostRunning = lowRunning;
  while (!(await formed(lowRunning))) {
    if (Date.now() > deadline)
      throw new BacklogNotFormedError(
        `at most ${mostRunning} of ${lowSlots} low slots busy at once, and no low job ended with others queued, ` +
          `in ${saturationTimeoutMs} ms`,
      );
    await delay(100);
    lowRunning = await countLow('running');
    mostRunning = Math.max(mostRunning, lowRunning);
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
