// `npm run bench -- [--scenario <name>]… [--jobs N] [--concurrency C] [--quick] [--cpu-prof]`
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { JobPriority } from '../src/contract/job.js';

export const scenarioNames = ['throughput', 'latency', 'poll', 'priority', 'memory'] as const;
export type ScenarioName = (typeof scenarioNames)[number];

/** Everything a run depends on; it goes into the results as `params`. */
export interface BenchParams {
  readonly quick: boolean;
  /** Run in this order whatever the order of the flags: `priority` leaves a backlog of low jobs behind it. */
  readonly scenarios: readonly ScenarioName[];
  readonly workerQueues: Readonly<Partial<Record<JobPriority, number>>>;
  readonly throughput: { readonly jobsPerRound: number; readonly concurrency: number; readonly rounds: readonly ('gateway' | 'bare')[]; readonly waitSeconds: number };
  readonly latency: { readonly jobs: number; readonly concurrency: 1 };
  readonly poll: { readonly pollers: number; readonly requestsPerSide: number; readonly runningJobs: number; readonly finishedJobs: number };
  readonly priority: { readonly lowJobs: number; readonly lowSeconds: number; readonly highJobs: number; readonly highSeconds: number };
  readonly cpuProfile: boolean;
}

const Flags = z.strictObject({
  scenario: z.array(z.enum(scenarioNames)).optional(),
  jobs: z.coerce.number().int().min(1).max(100_000).optional(),
  concurrency: z.coerce.number().int().min(1).max(1000).optional(),
  quick: z.boolean().optional(),
  'cpu-prof': z.boolean().optional(),
});

/** Thrown by parseBenchArgs when a flag is unknown or has a bad value. */
export class BenchArgsInvalidError extends Error {
  override readonly name = 'BenchArgsInvalidError';
}

export function parseBenchArgs(argv: readonly string[]): BenchParams {
  let flags: z.infer<typeof Flags>;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        scenario: { type: 'string', multiple: true },
        jobs: { type: 'string' },
        concurrency: { type: 'string' },
        quick: { type: 'boolean' },
        'cpu-prof': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
    flags = Flags.parse(values);
  } catch (err) {
    const message = err instanceof z.ZodError ? err.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`).join('; ') : (err as Error).message;
    throw new BenchArgsInvalidError(`${message}\nusage: npm run bench -- [--scenario ${scenarioNames.join('|')}]… [--jobs N] [--concurrency C] [--quick] [--cpu-prof]`);
  }
  const quick = flags.quick ?? false;
  const chosen = new Set(flags.scenario ?? scenarioNames);
  return {
    quick,
    scenarios: scenarioNames.filter((name) => chosen.has(name)),
    // normal has a slot for each of the poll scenario's running jobs; low few enough for the priority backlog.
    workerQueues: { high: 10, normal: 32, low: 20 },
    throughput: {
      jobsPerRound: flags.jobs ?? (quick ? 100 : 400),
      concurrency: flags.concurrency ?? 32,
      rounds: ['gateway', 'bare', 'gateway', 'bare'],
      waitSeconds: 60,
    },
    latency: { jobs: quick ? 40 : 200, concurrency: 1 },
    poll: { pollers: 32, requestsPerSide: quick ? 600 : 2000, runningJobs: 32, finishedJobs: 32 },
    priority: { lowJobs: quick ? 60 : 600, lowSeconds: 5, highJobs: 10, highSeconds: 0 },
    cpuProfile: flags['cpu-prof'] ?? false,
  };
}
