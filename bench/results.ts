// The shape of bench/results/latest.json (the dev server) and cluster.json (the local cluster).
import type { BenchParams, ThroughputSide } from './options.js';

/** The roles whose CPU the report splits a scenario's time between. */
export type ProcessName = 'client' | 'api' | 'worker' | 'temporal';

/** A figure for each role. */
export function perProcess(figure: (name: ProcessName) => number): Record<ProcessName, number> {
  return { client: figure('client'), api: figure('api'), worker: figure('worker'), temporal: figure('temporal') };
}

/** One latency distribution, drawn in the chart. */
export interface Distribution {
  readonly label: string;
  /** Drawn in the colour of its side: through the gateway, with the bare client, or the HTTP floor. */
  readonly side: 'gateway' | 'bare' | 'floor';
  readonly samplesMs: readonly number[];
}

/** What a scenario measured: its figures for the JSON, and the raw distributions for the chart. */
export interface ScenarioRun<F> {
  readonly figures: F;
  readonly distributions: readonly Distribution[];
}

/** Cores each process kept busy while a scenario ran, and how late the client's event loop ran its timers. */
export interface ScenarioLoad {
  readonly wallSeconds: number;
  readonly cores: Record<ProcessName, number>;
  /** Cores busy with everything else on the machine: above a few tenths, the figures are noisy. */
  readonly otherProcessesCores: number;
  /** Above a few ms, the benchmark's own process would be part of what it measures. */
  readonly clientEventLoopLagP99Ms: number;
}

/** One side of `throughput`: its pace, the CPU each process spent per job, and what a job cost the Temporal server. */
export interface ThroughputSideFigures {
  readonly jobsPerSec: number;
  readonly cpuMsPerJob: Record<ProcessName, number>;
  /** From the histories of the side's last jobs. */
  readonly historyEventsPerJob: number;
  readonly workflowTasksPerJob: number;
  readonly eventsPerJobByType: Readonly<Record<string, number>>;
  /** RPCs the server's frontend served per job, by operation (every caller's), over the side's rounds. */
  readonly rpcsPerJob: Readonly<Record<string, number>>;
  /** Visibility records the server wrote per job, by kind (StartExecution, UpsertExecution, CloseExecution). */
  readonly visibilityWritesPerJob: Readonly<Record<string, number>>;
}

/** The gateway's figure divided by another side's. */
export interface SideRatios {
  readonly jobsPerSec: number | undefined;
  readonly temporalCpuPerJob: number | undefined;
}

export interface ThroughputFigures {
  readonly sides: Partial<Record<ThroughputSide, ThroughputSideFigures>>;
  readonly rounds: readonly { readonly side: ThroughputSide; readonly jobsPerSec: number }[];
  readonly gatewayToBare: SideRatios;
  readonly gatewayToLean: SideRatios;
}

export interface LatencyFigures {
  readonly submitP50Ms: number;
  readonly submitP99Ms: number;
  readonly endToEndP50Ms: number;
  readonly endToEndP99Ms: number;
  readonly bareEndToEndP50Ms: number;
  readonly bareEndToEndP99Ms: number;
  readonly leanEndToEndP50Ms: number;
  readonly leanEndToEndP99Ms: number;
}

/** GETs through the gateway, and the direct reads a client without it would make of the same jobs. */
export interface PollReads {
  readonly runningP50Ms: number;
  readonly runningP99Ms: number;
  readonly finishedP50Ms: number;
  readonly finishedP99Ms: number;
  /** A query of each running job, a describe of each finished one. */
  readonly directRunningP50Ms: number;
  readonly directRunningP99Ms: number;
  readonly directFinishedP50Ms: number;
  readonly directFinishedP99Ms: number;
  /** GET /healthz at the same pace: HTTP, Koa and the client, with no Temporal call. */
  readonly httpFloorP50Ms: number;
  readonly httpFloorP99Ms: number;
}

/**
 * At the top, 32 pollers each following its own job with at most one GET per `pollIntervalMs`, as clients poll;
 * `saturated`, the same pollers with no pause at all, which measures how many GETs the machine serves.
 */
export interface PollFigures extends PollReads {
  readonly pollIntervalMs: number;
  /** The direct reads of both sets together. */
  readonly directP50Ms: number;
  readonly directP99Ms: number;
  /** The API's CPU per GET: the floor (/healthz), a running job, a finished one (saturated pace). */
  readonly apiCpuMsPerGet: { readonly healthz: number; readonly running: number; readonly finished: number };
  readonly saturated: PollReads;
}

export interface PriorityFigures {
  readonly highP50Ms: number;
  readonly highP95Ms: number;
  readonly lowStillQueued: number;
  readonly lowRunningWhenHighSubmitted: number;
}

/** Gateway throughput of one load with a number of worker processes, and the cores each role kept busy meanwhile. */
export interface ScalingPoint {
  readonly workerProcesses: number;
  readonly jobsPerSec: number;
  readonly cores: Record<ProcessName, number>;
}

export interface ScalingFigures {
  /** Per load (`params.scaling.loads`): one worker process, then one more at each point. */
  readonly series: readonly {
    readonly load: string;
    readonly points: readonly ScalingPoint[];
    readonly speedup: number;
  }[];
}

/** With several processes in a role, each figure is the largest of them. */
export interface MemoryFigures {
  /** The kernel's high-water mark (VmHWM) over the process's whole life, start-up included. */
  readonly apiPeakRssMb: number;
  readonly workerPeakRssMb: number;
  /** The highest RSS sampled every 200 ms while the scenarios ran, start-up excluded. */
  readonly apiPeakRssDuringScenariosMb: number;
  readonly workerPeakRssDuringScenariosMb: number;
  /** Ready and idle, before the first scenario. */
  readonly apiRssAtStartMb: number;
  readonly workerRssAtStartMb: number;
}

/** Polls of many different finished jobs by clients that never pause. */
export interface ManyFinishedFigures {
  readonly jobs: number;
  readonly clients: number;
  readonly getsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Describes the Temporal server served per poll (the API's reads, rechecks included). */
  readonly describesPerPoll: number | undefined;
}

/** High jobs behind a queued low backlog, as a client polling every `pollIntervalMs` sees them finish. */
export interface HighBehindLowFigures {
  readonly lowQueuedWhenHighSubmitted: number;
  readonly pollIntervalMs: number;
  readonly seenFinishedP50Ms: number;
  readonly seenFinishedP95Ms: number;
}

/** The figures of one backlog size; `undefined` where the server does not say (the cluster's database size). */
export interface BacklogPoint {
  readonly backlog: number;
  readonly submitPerSec: number;
  readonly queuedPollP99Ms: number;
  readonly listP99Ms: number;
  readonly countsByStatus: Readonly<Record<string, number>>;
  readonly apiRssMb: number;
  readonly workerRssMb: number;
  readonly databaseBytesPerJob: number | undefined;
  readonly drainPerSec: number;
}

export interface BacklogFigures {
  readonly points: readonly BacklogPoint[];
}

/** Issue 21's load at once: streams, big lists, big jobs polled, a command printing without newlines. */
export interface PressureFigures {
  readonly apiPeakRssMb: number;
  readonly workerPeakRssMb: number;
  readonly healthzP99Ms: number;
  /** The same while the big jobs are submitted, and after. */
  readonly healthzWhileSubmittingP99Ms: number;
  readonly healthzAfterSubmitsP99Ms: number;
  /** An idle process asked as `/healthz` is: the floor the load leaves to any process on the machine. */
  readonly idleProcessP99Ms: number;
  /** The API's event loop delay over the scenario: what of `/healthz`'s time its own work blocked it. */
  readonly apiEventLoopDelayP99Ms: number;
  readonly apiEventLoopDelayMaxMs: number;
  readonly serverErrors: number;
  /** The big jobs and the command without newlines that did not succeed: each is meant to (a failure is the bench's). */
  readonly jobsNotSucceeded: number;
  /** The API's reads of runs' histories over the scenario (close events of big finished jobs, queued jobs' requests…). */
  readonly apiHistoryReads: number;
  /** The API's reads of Temporal over the scenario, by kind (describe, query, history, list, count). */
  readonly apiTemporalReads: Readonly<Record<string, number>>;
  readonly answersByStatus: Readonly<Record<string, number>>;
  /** Each 5xx by the request that got it and its error's code and message. */
  readonly serverErrorsByRequest: Readonly<Record<string, number>>;
}

export interface ScenarioFigures {
  scaling: ScalingFigures;
  throughput: ThroughputFigures;
  latency: LatencyFigures;
  poll: PollFigures;
  'many-finished': ManyFinishedFigures;
  priority: PriorityFigures;
  'high-behind-low': HighBehindLowFigures;
  backlog: BacklogFigures;
  pressure: PressureFigures;
  memory: MemoryFigures;
}

export interface Machine {
  readonly cpuModel: string;
  readonly cpus: number;
  readonly memoryGb: number;
  readonly os: string;
  readonly node: string;
  readonly temporal: string;
  readonly loadAverageAtStart: readonly number[];
  readonly commit: string;
  readonly startedAt: string;
}

export interface BenchResults {
  readonly machine: Machine;
  readonly params: BenchParams;
  readonly scenarios: { [K in keyof ScenarioFigures]?: ScenarioFigures[K] & { load?: ScenarioLoad } };
  readonly durationSeconds: number;
}
