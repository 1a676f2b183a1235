// Latency of one job at a time on an otherwise idle service: the submit alone, and submit to `succeeded`, beside the
// bare client's run of the same workflow and the lean reference's (bench/lean/).
import { zeroSecondJob } from '../gateway.js';
import { timed } from '../load.js';
import type { BenchParams } from '../options.js';
import type { LatencyFigures, ScenarioRun } from '../results.js';
import type { BenchStack } from '../stack.js';
import { rounded, summarize } from '../stats.js';

const warmUpJobs = 5;

export async function latency(stack: BenchStack, params: BenchParams): Promise<ScenarioRun<LatencyFigures>> {
  const submit: number[] = [];
  const endToEnd: number[] = [];
  const bare: number[] = [];
  const lean: number[] = [];
  for (let i = 0; i < warmUpJobs + params.latency.jobs; i++) {
    const counted = i >= warmUpJobs;
    const [submitMs, endToEndMs, bareMs, leanMs] = counted ? [submit, endToEnd, bare, lean] : [[], [], [], []];
    // POST without wait: the 202. The job is awaited after, unmeasured, so that one job at a time runs.
    const job = await timed(submitMs, () => stack.gateway.submit(zeroSecondJob));
    await stack.bare.handle(job.jobId).result();
    // POST ?wait=10: answered when the job has succeeded.
    await timed(endToEndMs, () => stack.gateway.runJob(zeroSecondJob, 10));
    await timed(bareMs, () => stack.bare.runJob(zeroSecondJob));
    await timed(leanMs, () => stack.lean.runJob(zeroSecondJob.input.seconds));
  }
  const [s, e, b, l] = [summarize(submit), summarize(endToEnd), summarize(bare), summarize(lean)];
  return {
    figures: {
      submitP50Ms: rounded(s.p50),
      submitP99Ms: rounded(s.p99),
      endToEndP50Ms: rounded(e.p50),
      endToEndP99Ms: rounded(e.p99),
      bareEndToEndP50Ms: rounded(b.p50),
      bareEndToEndP99Ms: rounded(b.p99),
      leanEndToEndP50Ms: rounded(l.p50),
      leanEndToEndP99Ms: rounded(l.p99),
    },
    distributions: [
      { label: 'submit (POST, 202)', side: 'gateway', samplesMs: submit },
      { label: 'end to end, gateway (POST ?wait)', side: 'gateway', samplesMs: endToEnd },
      { label: 'end to end, bare client', side: 'bare', samplesMs: bare },
      { label: 'end to end, lean reference', side: 'bare', samplesMs: lean },
    ],
  };
}
