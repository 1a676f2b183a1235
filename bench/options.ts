// `npm run bench -- [--cluster] [--scenario <name>]… [--jobs N] [--concurrency C] [--backlog-size N]… [--quick] [--cpu-prof]`
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { JobPriority } from '../src/contract/job.js';

/**
 * In the order they run: `scaling` starts with one worker process and leaves all of them running for the rest;
 * `backlog` drains what it queues, so it runs before `priority`, which leaves a backlog of low jobs that
 * `high-behind-low` tops up; `pressure` runs only when named; `memory` reads the peaks of the whole run.
 */
export const scenarioNames = [
  'scaling',
  'throughput',
  'latency',
  'poll',
  'many-finished',
  'backlog',
  'priority',
  'high-behind-low',
  'pressure',
  'memory',
] as const;
export type ScenarioName = (typeof scenarioNames)[number];

/** Scenarios a run leaves out unless named with `--scenario`: `pressure` loads the machine on purpose (issue 21). */
const onlyWhenNamed: readonly ScenarioName[] = ['pressure'];

/** The sides of `throughput`: the gateway, the bare client with our workflow, and the lean reference. */
export type ThroughputSide = 'gateway' | 'bare' | 'lean';

/** What runs the service: the dev server with one API and one worker, or the local cluster with them scaled out. */
export interface StackShape {
  readonly temporal: 'dev-server' | 'cluster';
  readonly apiProcesses: number;
  readonly workerProcesses: number;
}

/** `npm run bench` without `--cluster`. */
export const devServerShape: StackShape = { temporal: 'dev-server', apiProcesses: 1, workerProcesses: 1 };

/**
 * Sleep jobs the `scaling` scenario runs at each worker count: `concurrency` clients in a closed loop, the jobs
 * that end in the window after the warm-up counted.
 */
export interface ScalingLoad {
  readonly name: string;
  readonly priority: JobPriority;
  /** Each job sleeps a random time in this range: jobs of one length start and end in waves, and a window would count whole waves or none. */
  readonly seconds: { readonly min: number; readonly max: number };
  readonly concurrency: number;
  readonly warmUpSeconds: number;
  readonly windowSeconds: number;
}

/** Everything a run depends on; it goes into the results as `params`. */
export interface BenchParams {
  readonly quick: boolean;
  readonly stack: StackShape;
  /** Run in this order whatever the order of the flags: `priority` leaves a backlog of low jobs behind it. */
  readonly scenarios: readonly ScenarioName[];
  readonly workerQueues: Readonly<Partial<Record<JobPriority, number>>>;
  readonly throughput: {
    readonly jobsPerRound: number;
    readonly concurrency: number;
    readonly rounds: readonly ThroughputSide[];
    readonly waitSeconds: number;
  };
  readonly latency: { readonly jobs: number; readonly concurrency: 1 };
  /**
   * Each side's reads at each pace: paced, every poller at most one GET per `intervalMs`, after `warmUpPolls`
   * unmeasured ones; saturated, back to back.
   */
  readonly poll: {
    readonly pollers: number;
    readonly requestsPerSide: number;
    readonly runningJobs: number;
    readonly finishedJobs: number;
    readonly intervalMs: number;
    readonly warmUpPolls: number;
  };
  readonly priority: {
    readonly lowJobs: number;
    readonly lowSeconds: number;
    readonly highJobs: number;
    readonly highSeconds: number;
  };
  readonly scaling: { readonly loads: readonly ScalingLoad[]; readonly waitSeconds: number };
  /** Finished jobs polled by clients without pause, each poll of the next job in its turn. */
  readonly manyFinished: { readonly jobs: number; readonly clients: number; readonly polls: number };
  /** High jobs submitted behind `lowJobs` queued low ones (topped up), each polled every `pollIntervalMs`. */
  readonly highBehindLow: {
    readonly lowJobs: number;
    readonly lowSeconds: number;
    readonly highJobs: number;
    readonly pollIntervalMs: number;
  };
  /** Backlogs of zero-second jobs queued behind busy slots, one size after the other, each drained before the next. */
  readonly backlog: {
    readonly sizes: readonly number[];
    readonly submitters: number;
    readonly pollSamples: number;
    readonly listSamples: number;
  };
  /** Issue 21's load: event streams on one job, parallel big lists, big jobs polled, a command without newlines. */
  readonly pressure: {
    readonly streams: number;
    readonly parallelLists: number;
    readonly bigJobs: number;
    readonly bigInputBytes: number;
    readonly noNewlineOutputBytes: number;
  };
  readonly cpuProfile: boolean;
}

const Flags = z
  .strictObject({
    scenario: z.array(z.enum(scenarioNames)).optional(),
    jobs: z.coerce.number().int().min(1).max(100_000).optional(),
    concurrency: z.coerce.number().int().min(1).max(1000).optional(),
    quick: z.boolean().optional(),
    'backlog-size': z.array(z.coerce.number().int().min(10).max(100_000)).optional(),
    cluster: z.boolean().optional(),
    'cpu-prof': z.boolean().optional(),
  })
  .refine((flags) => !(flags.cluster && flags['cpu-prof']), {
    error: 'profiles the one API process of the dev-server stack: leave out --cluster',
    path: ['cpu-prof'],
  })
  .refine((flags) => flags.cluster || !flags.scenario?.includes('scaling'), {
    error: 'scaling adds worker processes one at a time: it needs --cluster',
    path: ['scenario'],
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
        'backlog-size': { type: 'string', multiple: true },
        cluster: { type: 'boolean' },
        'cpu-prof': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
    flags = Flags.parse(values);
  } catch (err) {
    const message =
      err instanceof z.ZodError
        ? err.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`).join('; ')
        : (err as Error).message;
    throw new BenchArgsInvalidError(
      `${message}\nusage: npm run bench -- [--cluster] [--scenario ${scenarioNames.join('|')}]… [--jobs N] [--concurrency C] [--backlog-size N]… [--quick] [--cpu-prof]`,
    );
  }
  const quick = flags.quick ?? false;
  const cluster = flags.cluster ?? false;
  const stack: StackShape = cluster ? { temporal: 'cluster', apiProcesses: 2, workerProcesses: 3 } : devServerShape;
  const chosen = new Set(
    flags.scenario ?? scenarioNames.filter((name) => (cluster || name !== 'scaling') && !onlyWhenNamed.includes(name)),
  );
  return {
    quick,
    stack,
    scenarios: scenarioNames.filter((name) => chosen.has(name)),
    // normal has a slot for each of the poll scenario's running jobs; low few enough for the priority backlog.
    workerQueues: { high: 10, normal: 32, low: 20 },
    throughput: {
      jobsPerRound: flags.jobs ?? (quick ? 100 : 400),
      concurrency: flags.concurrency ?? 32,
      rounds: ['gateway', 'lean', 'bare', 'gateway', 'lean', 'bare'],
      waitSeconds: 60,
    },
    latency: { jobs: quick ? 40 : 200, concurrency: 1 },
    poll: {
      pollers: 32,
      requestsPerSide: quick ? 640 : 1920,
      runningJobs: 32,
      finishedJobs: 32,
      intervalMs: 100,
      warmUpPolls: 10,
    },
    // Enough low jobs to leave a backlog behind every worker process's low slots.
    priority: { lowJobs: quick ? 60 * stack.workerProcesses : 600, lowSeconds: 5, highJobs: 10, highSeconds: 0 },
    scaling: {
      loads: [
        // All the work is Temporal's: on 2 cores its server is the limit, whatever the number of workers.
        {
          name: 'zero-second',
          priority: 'normal',
          seconds: { min: 0, max: 0 },
          concurrency: 32,
          warmUpSeconds: quick ? 2 : 5,
          windowSeconds: quick ? 6 : 20,
        },
        // The slots are the limit: 20 low slots per worker ÷ 4 s on average, 5 jobs/s per worker process. A dozen
        // clients more than three workers' slots keep them full while clients turn around between jobs.
        {
          name: '2–6 s, low',
          priority: 'low',
          seconds: { min: 2, max: 6 },
          concurrency: 72,
          warmUpSeconds: quick ? 5 : 8,
          windowSeconds: quick ? 10 : 40,
        },
      ],
      waitSeconds: 60,
    },
    manyFinished: { jobs: quick ? 100 : 400, clients: 16, polls: quick ? 3000 : 16_000 },
    highBehindLow: { lowJobs: quick ? 60 : 600, lowSeconds: 5, highJobs: 10, pollIntervalMs: 150 },
    backlog: {
      sizes: flags['backlog-size'] ?? (quick ? [100, 500] : [1000, 10_000, 50_000]),
      submitters: 32,
      pollSamples: quick ? 320 : 1600,
      listSamples: quick ? 20 : 60,
    },
    pressure: {
      streams: 300,
      parallelLists: 20,
      bigJobs: 100,
      bigInputBytes: 480 * 1024,
      noNewlineOutputBytes: 48 * 1024 * 1024,
    },
    cpuProfile: flags['cpu-prof'] ?? false,
  };
}
