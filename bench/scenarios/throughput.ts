// Jobs per second of three sides in alternating rounds (A B C A B C, so that drift in the machine's load falls on
// each alike): through the gateway; the bare client starting the same job workflow; and the lean reference, the
// leanest durable job on bare Temporal (bench/lean/). For each: the CPU each process spent per job, what a job's
// history holds (events, workflow tasks), and what the Temporal server counted (RPCs, visibility writes).
import { zeroSecondJob } from '../gateway.js';
import { historyCost, type HistoryCost } from '../history.js';
import { runConcurrently, withCpu } from '../load.js';
import type { BenchParams, ThroughputSide } from '../options.js';
import {
  perProcess,
  type ProcessName,
  type ScenarioRun,
  type ThroughputFigures,
  type ThroughputSideFigures,
} from '../results.js';
import type { BenchStack } from '../stack.js';
import { rounded } from '../stats.js';
import { countersPerJob, readServerCounters, type ServerCounters } from '../temporal-metrics.js';
import { defaultTenant, workflowIdOf } from '../../src/workflows/job-state.js';

interface Round {
  readonly side: ThroughputSide;
  readonly jobs: number;
  readonly ms: number;
  readonly cpuSeconds: Record<ProcessName, number>;
  readonly counters?: { readonly before: ServerCounters; readonly after: ServerCounters };
}

/** Histories read per side: enough for an average, few enough to read quickly. */
const historiesPerSide = 20;

export async function throughput(stack: BenchStack, params: BenchParams): Promise<ScenarioRun<ThroughputFigures>> {
  const { jobsPerRound, concurrency, rounds, waitSeconds } = params.throughput;
  const workflowIds: Record<ThroughputSide, string[]> = { gateway: [], bare: [], lean: [] };
  // The gateway follows each job with `POST ?wait=N`; the bare client starts the workflow and awaits its result; the
  // lean side starts the lean workflow and awaits its result. Each keeps the workflow ids of its last jobs.
  const keep = (side: ThroughputSide, workflowId: string): void => {
    workflowIds[side].push(workflowId);
    workflowIds[side].splice(0, Math.max(0, workflowIds[side].length - historiesPerSide));
  };
  const runJob: Record<ThroughputSide, () => Promise<void>> = {
    gateway: async () =>
      keep('gateway', workflowIdOf(defaultTenant, (await stack.gateway.runJob(zeroSecondJob, waitSeconds)).jobId)),
    bare: async () => keep('bare', workflowIdOf(defaultTenant, (await stack.bare.runJob(zeroSecondJob)).jobId)),
    lean: async () => keep('lean', await stack.lean.runJob(zeroSecondJob.input.seconds)),
  };

  // Warm-up, not counted: JIT, connections, the workers' sticky caches.
  for (const side of new Set(rounds)) await runConcurrently(concurrency * 2, concurrency, runJob[side]);

  const metricsUrl = stack.temporal.metricsUrl;
  const measured: Round[] = [];
  for (const side of rounds) {
    const before = metricsUrl ? await readServerCounters(metricsUrl) : undefined;
    const { value: ms, cpuSeconds } = await withCpu(
      () => stack.cpuSeconds(),
      () => runConcurrently(jobsPerRound, concurrency, runJob[side]),
    );
    const after = metricsUrl ? await readServerCounters(metricsUrl) : undefined;
    measured.push({
      side,
      jobs: jobsPerRound,
      ms,
      cpuSeconds,
      ...(before && after ? { counters: { before, after } } : {}),
    });
    console.log(
      `  ${side.padEnd(7)} ${jobsPerRound} jobs in ${(ms / 1000).toFixed(1)} s: ${rounded((jobsPerRound * 1000) / ms)} jobs/s`,
    );
  }

  const totals = async (side: ThroughputSide): Promise<ThroughputSideFigures> => {
    const mine = measured.filter((round) => round.side === side);
    const sum = (of: (round: Round) => number): number => mine.reduce((total, round) => total + of(round), 0);
    const jobs = sum((round) => round.jobs);
    // Server counters summed over the side's rounds.
    const serverPerJob: Record<string, number> = {};
    for (const round of mine) {
      if (!round.counters) continue;
      for (const [key, value] of Object.entries(countersPerJob(round.counters.before, round.counters.after, jobs)))
        serverPerJob[key] = rounded((serverPerJob[key] ?? 0) + value, 2);
    }
    const history: HistoryCost = await historyCost(stack.bare.client, workflowIds[side]);
    return {
      jobsPerSec: rounded((jobs * 1000) / sum((round) => round.ms)),
      cpuMsPerJob: perProcess((name) => rounded((sum((round) => round.cpuSeconds[name]) * 1000) / jobs, 2)),
      historyEventsPerJob: history.eventsPerJob,
      workflowTasksPerJob: history.workflowTasksPerJob,
      eventsPerJobByType: history.eventsByType,
      rpcsPerJob: pick(serverPerJob, 'rpc '),
      visibilityWritesPerJob: pick(serverPerJob, 'visibility '),
    };
  };
  const sides = [...new Set(rounds)];
  const figures = Object.fromEntries(
    await Promise.all(sides.map(async (side) => [side, await totals(side)] as const)),
  ) as Partial<Record<ThroughputSide, ThroughputSideFigures>>;
  for (const [side, sideFigures] of Object.entries(figures)) console.log(`  ${side}: ${JSON.stringify(sideFigures)}`);
  const ratio = (of: (side: ThroughputSideFigures) => number, to: ThroughputSide): number | undefined => {
    const gateway = figures.gateway;
    const other = figures[to];
    return gateway && other && of(other) > 0 ? rounded(of(gateway) / of(other), 2) : undefined;
  };
  return {
    figures: {
      sides: figures,
      rounds: measured.map((round) => ({ side: round.side, jobsPerSec: rounded((round.jobs * 1000) / round.ms) })),
      gatewayToBare: {
        jobsPerSec: ratio((side) => side.jobsPerSec, 'bare'),
        temporalCpuPerJob: ratio((side) => side.cpuMsPerJob.temporal, 'bare'),
      },
      gatewayToLean: {
        jobsPerSec: ratio((side) => side.jobsPerSec, 'lean'),
        temporalCpuPerJob: ratio((side) => side.cpuMsPerJob.temporal, 'lean'),
      },
    },
    distributions: [],
  };
}

/** The entries of `counters` whose key starts with `prefix`, without it. */
function pick(counters: Readonly<Record<string, number>>, prefix: string): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counters)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), value]),
  );
}
