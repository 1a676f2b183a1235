// Polls of many different finished jobs, as a dashboard or a fleet of callers makes them: `jobs` zero-second jobs
// run to their end, then `clients` clients poll them without pause, each poll of the next job in the client's turn,
// so every job is polled again and again over the whole run (which lasts longer than the API's 5 s recheck).
import { zeroSecondJob } from '../gateway.js';
import { runConcurrently, timed } from '../load.js';
import type { BenchParams } from '../options.js';
import type { ManyFinishedFigures, ScenarioRun } from '../results.js';
import type { BenchStack } from '../stack.js';
import { rounded, summarize } from '../stats.js';
import { countersPerJob, readServerCounters } from '../temporal-metrics.js';

export async function manyFinished(stack: BenchStack, params: BenchParams): Promise<ScenarioRun<ManyFinishedFigures>> {
  const { jobs, clients, polls } = params.manyFinished;
  const jobIds: string[] = [];
  await runConcurrently(jobs, 32, async () => {
    jobIds.push((await stack.gateway.runJob(zeroSecondJob, 60)).jobId);
  });
  // Each job polled once first, unmeasured: its first poll finds no read of it in the API (the wait's answer is a
  // read of a second), as the first poll of a job nobody polled before would.
  await runConcurrently(jobs, clients, async (index) => {
    await stack.gateway.getJob(jobIds[index]!);
  });

  const metricsUrl = stack.temporal.metricsUrl;
  const before = metricsUrl ? await readServerCounters(metricsUrl) : undefined;
  const samples: number[] = [];
  const ms = await runConcurrently(polls, clients, async (index) => {
    const job = await timed(samples, () => stack.gateway.getJob(jobIds[index % jobs]!));
    if (job.status !== 'succeeded') throw new Error(`job ${job.jobId} polled ${job.status}, not succeeded`);
  });
  const after = metricsUrl ? await readServerCounters(metricsUrl) : undefined;
  const summary = summarize(samples);
  return {
    figures: {
      jobs,
      clients,
      getsPerSec: rounded((polls * 1000) / ms),
      p50Ms: rounded(summary.p50),
      p99Ms: rounded(summary.p99),
      describesPerPoll:
        before && after ? (countersPerJob(before, after, polls)['rpc DescribeWorkflowExecution'] ?? 0) : undefined,
    },
    distributions: [
      { label: `GET finished, ${jobs} jobs, ${clients} clients, no pause`, side: 'gateway', samplesMs: samples },
    ],
  };
}
