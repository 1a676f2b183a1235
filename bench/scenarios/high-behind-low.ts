// A zero-second `high` job behind a backlog of queued five-second `low` ones, as a client sees it: submitted
// without a wait and polled every `pollIntervalMs` until it is finished. The backlog `priority` left is topped up
// to `lowJobs` queued first.
import { finishedStatuses } from '../../src/workflows/job-state.js';
import { JobPriorityKey, JobStatusKey } from '../../src/workflows/search-attributes.js';
import type { JobBody } from '../gateway.js';
import { delay, runConcurrently } from '../load.js';
import type { BenchParams } from '../options.js';
import type { HighBehindLowFigures, ScenarioRun } from '../results.js';
import type { BenchStack } from '../stack.js';
import { rounded, summarize } from '../stats.js';

export async function highBehindLow(
  stack: BenchStack,
  params: BenchParams,
): Promise<ScenarioRun<HighBehindLowFigures>> {
  const { lowJobs, lowSeconds, highJobs, pollIntervalMs } = params.highBehindLow;
  const queuedLow = (): Promise<number> =>
    stack.bare.count(
      `WorkflowType = 'jobWorkflow' AND ${JobPriorityKey.name} = 'low' AND ${JobStatusKey.name} = 'queued'`,
    );
  const low: JobBody = { type: 'sleep', input: { seconds: lowSeconds }, priority: 'low' };
  await runConcurrently(Math.max(0, lowJobs - (await queuedLow())), 32, async () => {
    await stack.gateway.submit(low);
  });
  const lowQueued = await queuedLow();

  const high: JobBody = { type: 'sleep', input: { seconds: 0 }, priority: 'high' };
  const seen: number[] = [];
  await runConcurrently(highJobs, highJobs, async () => {
    const started = performance.now();
    const submitted = await stack.gateway.submit(high);
    let job = submitted;
    while (!finishedStatuses.has(job.status)) {
      await delay(pollIntervalMs);
      job = (await stack.gateway.getJob(submitted.jobId, true)) ?? job;
    }
    if (job.status !== 'succeeded') throw new Error(`high job ${job.jobId} ended ${job.status}`);
    seen.push(performance.now() - started);
  });
  const summary = summarize(seen);
  return {
    figures: {
      lowQueuedWhenHighSubmitted: lowQueued,
      pollIntervalMs,
      seenFinishedP50Ms: rounded(summary.p50),
      seenFinishedP95Ms: rounded(summary.p95),
    },
    distributions: [
      { label: `high job behind ${lowQueued} low, polled /${pollIntervalMs} ms`, side: 'gateway', samplesMs: seen },
    ],
  };
}
