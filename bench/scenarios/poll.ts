// GET of one job by 32 concurrent pollers, on running and on finished jobs, against the direct read a client
// without the gateway would make of the same jobs: a query of a running job's workflow, a describe of a finished one.
import type { JobStatus } from '../../src/contract/job.js';
import { GatewayReplyUnexpectedError, zeroSecondJob } from '../gateway.js';
import { runConcurrently, timed, withCpu } from '../load.js';
import type { BenchParams } from '../options.js';
import type { PollFigures, ScenarioRun } from '../results.js';
import type { BenchStack } from '../stack.js';
import { rounded, summarize } from '../stats.js';

const longJobSeconds = 3600;

type Side = 'gateway' | 'direct';

interface Reads {
  readonly ms: Record<Side, number[]>;
  /** The API's CPU per read: what serving one GET costs it (about nothing on the direct side). */
  readonly apiCpuMs: Record<Side, number>;
}

/**
 * `perSide` reads of the jobs round-robin by `pollers` concurrent pollers through each side, in alternating
 * halves (A B A B) so that drift in the machine's load falls on both alike.
 */
async function alternate(
  stack: BenchStack,
  jobIds: readonly string[],
  perSide: number,
  pollers: number,
  read: Record<Side, (jobId: string) => Promise<void>>,
): Promise<Reads> {
  const ms: Record<Side, number[]> = { gateway: [], direct: [] };
  const apiCpuSeconds: Record<Side, number> = { gateway: 0, direct: 0 };
  for (const side of ['gateway', 'direct', 'gateway', 'direct'] as const) {
    const { cpuSeconds } = await withCpu(() => stack.cpuSeconds(), () =>
      runConcurrently(perSide / 2, pollers, async (i) => void (await timed(ms[side], () => read[side](jobIds[i % jobIds.length]!)))),
    );
    apiCpuSeconds[side] += cpuSeconds.api;
  }
  return { ms, apiCpuMs: { gateway: (apiCpuSeconds.gateway * 1000) / perSide, direct: (apiCpuSeconds.direct * 1000) / perSide } };
}

export async function poll(stack: BenchStack, params: BenchParams): Promise<ScenarioRun<PollFigures>> {
  const { pollers, requestsPerSide, runningJobs, finishedJobs } = params.poll;
  const { gateway, bare } = stack;
  const expectStatus = (status: JobStatus) => async (jobId: string): Promise<void> => {
    const job = await gateway.getJob(jobId);
    if (job.status !== status) throw new GatewayReplyUnexpectedError(`GET job ${jobId}: expected ${status}`, 200, job);
  };

  // The finished jobs first: the running ones take every normal slot of the worker.
  const finished: string[] = [];
  await runConcurrently(finishedJobs, pollers, async () => void finished.push((await gateway.runJob(zeroSecondJob)).jobId));
  // Each holds a worker slot and heartbeats, as real running jobs do; cancelled at the end.
  const running = await Promise.all(Array.from({ length: runningJobs }, () => gateway.submit({ type: 'sleep', input: { seconds: longJobSeconds } })));
  try {
    await Promise.all(running.map((job) => gateway.followUntil(job, new Set(['running']), 500)));
    const floor: number[] = [];
    const { cpuSeconds: floorCpu } = await withCpu(() => stack.cpuSeconds(), () =>
      runConcurrently(requestsPerSide, pollers, async () => void (await timed(floor, () => gateway.request('GET', '/healthz')))),
    );
    const onRunning = await alternate(stack, running.map((job) => job.jobId), requestsPerSide, pollers, {
      gateway: expectStatus('running'),
      direct: async (jobId) => void (await bare.query(jobId)),
    });
    const onFinished = await alternate(stack, finished, requestsPerSide, pollers, {
      gateway: expectStatus('succeeded'),
      direct: (jobId) => bare.describe(jobId),
    });

    const get = { running: summarize(onRunning.ms.gateway), finished: summarize(onFinished.ms.gateway) };
    const direct = {
      running: summarize(onRunning.ms.direct),
      finished: summarize(onFinished.ms.direct),
      both: summarize([...onRunning.ms.direct, ...onFinished.ms.direct]),
    };
    const http = summarize(floor);
    return {
      figures: {
        runningP50Ms: rounded(get.running.p50),
        runningP99Ms: rounded(get.running.p99),
        finishedP50Ms: rounded(get.finished.p50),
        finishedP99Ms: rounded(get.finished.p99),
        directP50Ms: rounded(direct.both.p50),
        directP99Ms: rounded(direct.both.p99),
        directRunningP50Ms: rounded(direct.running.p50),
        directRunningP99Ms: rounded(direct.running.p99),
        directFinishedP50Ms: rounded(direct.finished.p50),
        directFinishedP99Ms: rounded(direct.finished.p99),
        httpFloorP50Ms: rounded(http.p50),
        httpFloorP99Ms: rounded(http.p99),
        apiCpuMsPerGet: {
          healthz: rounded((floorCpu.api * 1000) / requestsPerSide, 2),
          running: rounded(onRunning.apiCpuMs.gateway, 2),
          finished: rounded(onFinished.apiCpuMs.gateway, 2),
        },
      },
      distributions: [
        { label: 'GET running job', side: 'gateway', samplesMs: onRunning.ms.gateway },
        { label: 'query running job (direct)', side: 'bare', samplesMs: onRunning.ms.direct },
        { label: 'GET finished job', side: 'gateway', samplesMs: onFinished.ms.gateway },
        { label: 'describe finished job (direct)', side: 'bare', samplesMs: onFinished.ms.direct },
        { label: 'GET /healthz', side: 'floor', samplesMs: floor },
      ],
    };
  } finally {
    await Promise.all(running.map((job) => bare.handle(job.jobId).cancel()));
  }
}
