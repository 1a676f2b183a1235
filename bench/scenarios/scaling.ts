// Jobs per second through the gateway as worker processes are added one at a time: for each load, clients keep a
// fixed number of jobs in flight (a closed loop) and the jobs that end within a window after a warm-up are counted,
// with the cores each role kept busy meanwhile. It runs first, on one worker, and leaves every worker running.
import type { JobBody } from '../gateway.js';
import { delay, runUntil } from '../load.js';
import type { BenchParams, ScalingLoad } from '../options.js';
import { perProcess, type ScalingFigures, type ScalingPoint, type ScenarioRun } from '../results.js';
import type { BenchStack } from '../stack.js';
import { rounded } from '../stats.js';

async function measure(stack: BenchStack, load: ScalingLoad, waitSeconds: number): Promise<ScalingPoint> {
  const { priority, seconds, concurrency, warmUpSeconds, windowSeconds } = load;
  const job = (): JobBody => ({
    type: 'sleep',
    input: { seconds: rounded(seconds.min + Math.random() * (seconds.max - seconds.min), 2) },
    priority,
  });
  const windowStart = performance.now() + warmUpSeconds * 1000;
  const windowEnd = windowStart + windowSeconds * 1000;
  const endedAt: number[] = [];
  const running = runUntil(windowEnd, concurrency, async () => {
    await stack.gateway.runJob(job(), waitSeconds);
    endedAt.push(performance.now());
  });
  const coresOverWindow = async (): Promise<ScalingPoint['cores']> => {
    await delay(windowStart - performance.now());
    const before = stack.cpuSeconds();
    await delay(windowEnd - performance.now());
    const after = stack.cpuSeconds();
    return perProcess((name) => rounded((after[name] - before[name]) / windowSeconds, 2));
  };
  const [, cores] = await Promise.all([running, coresOverWindow()]);
  const counted = endedAt.filter((at) => at >= windowStart && at < windowEnd).length;
  return { workerProcesses: stack.workers.length, jobsPerSec: rounded(counted / windowSeconds), cores };
}

export async function scaling(stack: BenchStack, params: BenchParams): Promise<ScenarioRun<ScalingFigures>> {
  const { loads, waitSeconds } = params.scaling;
  const measured = loads.map((load) => ({ load, points: [] as ScalingPoint[] }));
  for (;;) {
    for (const { load, points } of measured) {
      const point = await measure(stack, load, waitSeconds);
      points.push(point);
      console.log(
        `  ${load.name}, ${point.workerProcesses} worker process${point.workerProcesses === 1 ? '' : 'es'}: ${point.jobsPerSec} jobs/s`,
      );
    }
    if (stack.workers.length >= params.stack.workerProcesses) break;
    await stack.addWorker();
  }
  return {
    figures: {
      series: measured.map(({ load, points }) => ({
        load: load.name,
        points,
        speedup: rounded(points.at(-1)!.jobsPerSec / points[0]!.jobsPerSec, 2),
      })),
    },
    distributions: [],
  };
}
