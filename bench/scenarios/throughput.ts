// Jobs per second through the gateway and through the bare client, in alternating rounds (A B A B) so that
// drift in the machine's load falls on both sides alike; and the CPU each process spent per job on each side.
import { zeroSecondJob } from '../gateway.js';
import { runConcurrently, withCpu } from '../load.js';
import type { BenchParams } from '../options.js';
import { perProcess, type ProcessName, type ScenarioRun, type ThroughputFigures } from '../results.js';
import type { BenchStack } from '../stack.js';
import { rounded } from '../stats.js';

type Side = 'gateway' | 'bare';

interface Round {
  readonly side: Side;
  readonly jobs: number;
  readonly ms: number;
  readonly cpuSeconds: Record<ProcessName, number>;
}

export async function throughput(stack: BenchStack, params: BenchParams): Promise<ScenarioRun<ThroughputFigures>> {
  const { jobsPerRound, concurrency, rounds, waitSeconds } = params.throughput;
  // The gateway follows each job with `POST ?wait=N`; the bare client starts the workflow and awaits its result.
  const runJob = {
    gateway: async (): Promise<void> => {
      await stack.gateway.runJob(zeroSecondJob, waitSeconds);
    },
    bare: async (): Promise<void> => {
      await stack.bare.runJob(zeroSecondJob);
    },
  };

  // Warm-up, not counted: JIT, connections, the worker's sticky caches.
  for (const side of ['gateway', 'bare'] as const) await runConcurrently(concurrency * 2, concurrency, runJob[side]);

  const measured: Round[] = [];
  for (const side of rounds) {
    const { value: ms, cpuSeconds } = await withCpu(
      () => stack.cpuSeconds(),
      () => runConcurrently(jobsPerRound, concurrency, runJob[side]),
    );
    measured.push({ side, jobs: jobsPerRound, ms, cpuSeconds });
    console.log(
      `  ${side.padEnd(7)} ${jobsPerRound} jobs in ${(ms / 1000).toFixed(1)} s: ${rounded((jobsPerRound * 1000) / ms)} jobs/s`,
    );
  }
  const totals = (side: Side) => {
    const mine = measured.filter((round) => round.side === side);
    const sum = (of: (round: Round) => number): number => mine.reduce((total, round) => total + of(round), 0);
    const jobs = sum((round) => round.jobs);
    return {
      jobsPerSec: (jobs * 1000) / sum((round) => round.ms),
      cpuMsPerJob: perProcess((name) => rounded((sum((round) => round.cpuSeconds[name]) * 1000) / jobs, 2)),
    };
  };
  const gateway = totals('gateway');
  const bare = totals('bare');
  return {
    figures: {
      gatewayJobsPerSec: rounded(gateway.jobsPerSec),
      bareJobsPerSec: rounded(bare.jobsPerSec),
      ratio: rounded(gateway.jobsPerSec / bare.jobsPerSec, 2),
      rounds: measured.map((round) => ({ side: round.side, jobsPerSec: rounded((round.jobs * 1000) / round.ms) })),
      cpuMsPerJob: { gateway: gateway.cpuMsPerJob, bare: bare.cpuMsPerJob },
    },
    distributions: [],
  };
}
