// Driving load: a fixed number of tasks at a fixed concurrency, each one timed; and what the load cost each process.
import { machineBusySeconds } from './proc.js';
import { perProcess, type ProcessName, type ScenarioLoad } from './results.js';
import { rounded, summarize } from './stats.js';

/** `lanes` loops that each start `task(next index)` whenever theirs is done, as long as `more(next index)`; resolves with the wall time in ms. */
async function runLanes(
  lanes: number,
  more: (index: number) => boolean,
  task: (index: number) => Promise<void>,
): Promise<number> {
  const started = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (more(next)) await task(next++);
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return performance.now() - started;
}

/** Runs `task(0)` … `task(count - 1)` with at most `concurrency` in flight; resolves with the wall time in ms. */
export function runConcurrently(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<number> {
  return runLanes(Math.min(concurrency, count), (index) => index < count, task);
}

/** Keeps `concurrency` tasks in flight, starting none after `untilMs` (a `performance.now()` time); resolves once the last ends. */
export function runUntil(
  untilMs: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<number> {
  return runLanes(concurrency, () => performance.now() < untilMs, task);
}

/**
 * `lanes` loops, lane k running `task(k, run)` for run 0 … perLane - 1, one start every `intervalMs` (at once
 * when the last ran over), the lanes' first starts spread over one interval; resolves with the wall time in ms.
 */
export async function runPaced(
  perLane: number,
  lanes: number,
  intervalMs: number,
  task: (lane: number, run: number) => Promise<void>,
): Promise<number> {
  const started = performance.now();
  const lane = async (k: number): Promise<void> => {
    let due = started + (k * intervalMs) / lanes;
    for (let run = 0; run < perLane; run++) {
      await delay(due - performance.now());
      await task(k, run);
      due = Math.max(due + intervalMs, performance.now());
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, k) => lane(k)));
  return performance.now() - started;
}

/** Runs `fn` and pushes its duration in ms onto `samples`. */
export async function timed<T>(samples: number[], fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const value = await fn();
  samples.push(performance.now() - started);
  return value;
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

type CpuClock = () => Record<ProcessName, number>;

/** Runs `fn`; resolves with its value and the CPU seconds each process spent meanwhile. */
export async function withCpu<T>(
  cpuSeconds: CpuClock,
  fn: () => Promise<T>,
): Promise<{ value: T; cpuSeconds: Record<ProcessName, number> }> {
  const before = cpuSeconds();
  const value = await fn();
  const after = cpuSeconds();
  return { value, cpuSeconds: perProcess((name) => after[name] - before[name]) };
}

/**
 * Runs `fn` and measures how many cores each process kept busy meanwhile, how many the rest of the machine
 * took (other people's test suites make figures noisy), and how late this process's timers fired (a 20 ms
 * probe): a client that is itself busy would add its own delay to every figure.
 */
export async function withLoad<T>(
  cpuSeconds: CpuClock,
  fn: () => Promise<T>,
): Promise<{ value: T; load: ScenarioLoad }> {
  const probeMs = 20;
  const lag: number[] = [];
  let expected = performance.now() + probeMs;
  const probe = setInterval(() => {
    const now = performance.now();
    lag.push(Math.max(0, now - expected));
    expected = now + probeMs;
  }, probeMs);
  const machineBefore = machineBusySeconds();
  const started = performance.now();
  let measured: { value: T; cpuSeconds: Record<ProcessName, number> };
  try {
    measured = await withCpu(cpuSeconds, fn);
  } finally {
    clearInterval(probe);
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const cores = perProcess((name) => measured.cpuSeconds[name] / wallSeconds);
  const ours = cores.client + cores.api + cores.worker + cores.temporal;
  return {
    value: measured.value,
    load: {
      wallSeconds: rounded(wallSeconds),
      cores: perProcess((name) => rounded(cores[name], 2)),
      otherProcessesCores: rounded(Math.max(0, (machineBusySeconds() - machineBefore) / wallSeconds - ours), 2),
      clientEventLoopLagP99Ms: lag.length > 0 ? rounded(summarize(lag).p99) : 0,
    },
  };
}
