// GET of one job by 32 concurrent pollers, on running and on finished jobs, against the direct read a client
// without the gateway would make of the same jobs: a query of a running job's workflow, a describe of a finished
// one. Twice: paced as clients poll (each poller follows its own job, one GET per interval at most), and
// saturated (no pause), which says how many GETs the machine can serve rather than how long one takes.
import type { JobStatus } from '../../src/contract/job.js';
import { GatewayReplyUnexpectedError, zeroSecondJob } from '../gateway.js';
import { runConcurrently, runPaced, timed, withCpu } from '../load.js';
import type { BenchParams } from '../options.js';
import type { Distribution, PollFigures, PollReads, ScenarioRun } from '../results.js';
import type { BenchStack } from '../stack.js';
import { rounded, summarize } from '../stats.js';

const longJobSeconds = 3600;

type Side = 'gateway' | 'direct';

type Read = (jobId: string) => Promise<void>;

/** Runs `count` timed reads, each of one of `jobIds`, at one pace; `warmUp` reads are not timed. */
type Drive = (count: number, jobIds: readonly string[], timedRead: Read, warmUp: Read) => Promise<unknown>;

interface Reads {
  readonly ms: Record<Side, number[]>;
  /** The API's CPU per read: what serving one GET costs it (about nothing on the direct side). */
  readonly apiCpuMs: Record<Side, number>;
}

/** Reads through each side in alternating halves (A B A B), so that drift in the machine's load falls on both alike. */
async function alternate(
  stack: BenchStack,
  jobIds: readonly string[],
  perSide: number,
  drive: Drive,
  read: Record<Side, Read>,
): Promise<Reads> {
  const ms: Record<Side, number[]> = { gateway: [], direct: [] };
  const apiCpuSeconds: Record<Side, number> = { gateway: 0, direct: 0 };
  for (const side of ['gateway', 'direct', 'gateway', 'direct'] as const) {
    const { cpuSeconds } = await withCpu(
      () => stack.cpuSeconds(),
      () => drive(perSide / 2, jobIds, (jobId) => timed(ms[side], () => read[side](jobId)), read[side]),
    );
    apiCpuSeconds[side] += cpuSeconds.api;
  }
  return {
    ms,
    apiCpuMs: { gateway: (apiCpuSeconds.gateway * 1000) / perSide, direct: (apiCpuSeconds.direct * 1000) / perSide },
  };
}

interface PaceRun {
  readonly reads: PollReads;
  readonly running: Reads;
  readonly finished: Reads;
  readonly floor: number[];
  readonly floorApiCpuMs: number;
}

export async function poll(stack: BenchStack, params: BenchParams): Promise<ScenarioRun<PollFigures>> {
  const { pollers, requestsPerSide, runningJobs, finishedJobs, intervalMs, warmUpPolls } = params.poll;
  const { gateway, bare } = stack;
  const expectStatus =
    (status: JobStatus) =>
    async (jobId: string): Promise<void> => {
      const job = await gateway.getJob(jobId);
      if (job.status !== status)
        throw new GatewayReplyUnexpectedError(`GET job ${jobId}: expected ${status}`, 200, job);
    };
  // Each paced poller follows its job as a client does, and is measured once it has done so for a while: its
  // first poll, which finds no recent read of the job in the API, and the API's first renewals of those reads are
  // the start of following a job, not the steady polls measured here; nor is the direct side measured cold.
  const paced: Drive = (count, jobIds, timedRead, warmUp) =>
    runPaced(Math.ceil(count / pollers) + warmUpPolls, pollers, intervalMs, (lane, run) =>
      (run < warmUpPolls ? warmUp : timedRead)(jobIds[lane % jobIds.length]!),
    );
  const saturated: Drive = (count, jobIds, timedRead) =>
    runConcurrently(count, pollers, (i) => timedRead(jobIds[i % jobIds.length]!));

  // The finished jobs first: the running ones take every normal slot of the worker.
  const finished: string[] = [];
  await runConcurrently(
    finishedJobs,
    pollers,
    async () => void finished.push((await gateway.runJob(zeroSecondJob)).jobId),
  );
  // Each holds a worker slot and heartbeats, as real running jobs do; cancelled at the end.
  const running = await Promise.all(
    Array.from({ length: runningJobs }, () => gateway.submit({ type: 'sleep', input: { seconds: longJobSeconds } })),
  );
  const runningIds = running.map((job) => job.jobId);

  const healthz = async (): Promise<void> => {
    await gateway.request('GET', '/healthz');
  };
  const measure = async (drive: Drive): Promise<PaceRun> => {
    const floor: number[] = [];
    const { cpuSeconds: floorCpu } = await withCpu(
      () => stack.cpuSeconds(),
      () =>
        drive(
          requestsPerSide,
          runningIds,
          async () => {
            await timed(floor, healthz);
          },
          healthz,
        ),
    );
    const onRunning = await alternate(stack, runningIds, requestsPerSide, drive, {
      gateway: expectStatus('running'),
      direct: async (jobId) => {
        await bare.query(jobId);
      },
    });
    const onFinished = await alternate(stack, finished, requestsPerSide, drive, {
      gateway: expectStatus('succeeded'),
      direct: (jobId) => bare.describe(jobId),
    });
    const [get, direct, http] = [
      { running: summarize(onRunning.ms.gateway), finished: summarize(onFinished.ms.gateway) },
      { running: summarize(onRunning.ms.direct), finished: summarize(onFinished.ms.direct) },
      summarize(floor),
    ];
    return {
      reads: {
        runningP50Ms: rounded(get.running.p50),
        runningP99Ms: rounded(get.running.p99),
        finishedP50Ms: rounded(get.finished.p50),
        finishedP99Ms: rounded(get.finished.p99),
        directRunningP50Ms: rounded(direct.running.p50),
        directRunningP99Ms: rounded(direct.running.p99),
        directFinishedP50Ms: rounded(direct.finished.p50),
        directFinishedP99Ms: rounded(direct.finished.p99),
        httpFloorP50Ms: rounded(http.p50),
        httpFloorP99Ms: rounded(http.p99),
      },
      running: onRunning,
      finished: onFinished,
      floor,
      floorApiCpuMs: (floorCpu.api * 1000) / requestsPerSide,
    };
  };

  try {
    await Promise.all(running.map((job) => gateway.followUntil(job, new Set(['running']), 500)));
    const atPace = await measure(paced);
    const flatOut = await measure(saturated);
    const directBoth = summarize([...atPace.running.ms.direct, ...atPace.finished.ms.direct]);
    const distributions: Distribution[] = [
      { label: `GET running job, every ${intervalMs} ms`, side: 'gateway', samplesMs: atPace.running.ms.gateway },
      {
        label: `query running job (direct), every ${intervalMs} ms`,
        side: 'bare',
        samplesMs: atPace.running.ms.direct,
      },
      { label: `GET finished job, every ${intervalMs} ms`, side: 'gateway', samplesMs: atPace.finished.ms.gateway },
      {
        label: `describe finished job (direct), every ${intervalMs} ms`,
        side: 'bare',
        samplesMs: atPace.finished.ms.direct,
      },
      { label: 'GET running job, saturated', side: 'gateway', samplesMs: flatOut.running.ms.gateway },
      { label: 'query running job (direct), saturated', side: 'bare', samplesMs: flatOut.running.ms.direct },
      { label: 'GET /healthz, saturated', side: 'floor', samplesMs: flatOut.floor },
    ];
    return {
      figures: {
        ...atPace.reads,
        pollIntervalMs: intervalMs,
        directP50Ms: rounded(directBoth.p50),
        directP99Ms: rounded(directBoth.p99),
        apiCpuMsPerGet: {
          healthz: rounded(flatOut.floorApiCpuMs, 2),
          running: rounded(flatOut.running.apiCpuMs.gateway, 2),
          finished: rounded(flatOut.finished.apiCpuMs.gateway, 2),
        },
        saturated: flatOut.reads,
      },
      distributions,
    };
  } finally {
    await Promise.all(running.map((job) => bare.handle(job.jobId).cancel()));
  }
}
