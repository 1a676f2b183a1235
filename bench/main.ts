// `npm run bench`: starts a Temporal dev server (SQLite in a file, as `npm start` runs it), a worker, the API and the
// lean reference's worker, runs the scenarios, stops everything, prints a table and writes bench/results/latest.json,
// latest.svg and, with `backlog`, latest-backlog.svg. With `--cluster`: the local cluster, two API processes and
// three workers, into cluster.json and cluster*.svg.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, tmpdir, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { withLoad } from './load.js';
import { BenchArgsInvalidError, parseBenchArgs, type BenchParams, type ScenarioName } from './options.js';
import { summarizeProfile } from './profile.js';
import { formatTables, writeResults } from './report.js';
import type { BenchResults, Distribution, Machine, ScenarioFigures, ScenarioRun } from './results.js';
import { growthChart } from './growth-chart.js';
import { backlog } from './scenarios/backlog.js';
import { highBehindLow } from './scenarios/high-behind-low.js';
import { latency } from './scenarios/latency.js';
import { manyFinished } from './scenarios/many-finished.js';
import { memory } from './scenarios/memory.js';
import { poll } from './scenarios/poll.js';
import { pressure } from './scenarios/pressure.js';
import { priority } from './scenarios/priority.js';
import { scaling } from './scenarios/scaling.js';
import { throughput } from './scenarios/throughput.js';
import { BenchStack } from './stack.js';
import { rounded } from './stats.js';
import { latencyChart } from './svg.js';

const scenarios: {
  [K in ScenarioName]: (stack: BenchStack, params: BenchParams) => Promise<ScenarioRun<ScenarioFigures[K]>>;
} = {
  scaling,
  throughput,
  latency,
  poll,
  'many-finished': manyFinished,
  backlog,
  priority,
  'high-behind-low': highBehindLow,
  pressure,
  memory,
};

const profilerPath = fileURLToPath(new URL('./api-cpu-profile.ts', import.meta.url));

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const changed = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).trim() !== '';
    return changed ? `${head} with uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
}

async function describeMachine(stack: BenchStack): Promise<Machine> {
  const { serverVersion } = await stack.bare.client.workflowService.getSystemInfo({});
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    memoryGb: rounded(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.versions.node,
    temporal: `${stack.temporal.description} (Server ${serverVersion ?? '?'})`,
    loadAverageAtStart: loadavg().map((load) => rounded(load, 2)),
    commit: commit(),
    startedAt: new Date().toISOString(),
  };
}

/** Runs one scenario, with the load it put on each process (but for `memory`, which only reads figures). */
async function runScenario<K extends ScenarioName>(
  name: K,
  stack: BenchStack,
  params: BenchParams,
  into: BenchResults['scenarios'],
  distributions: Distribution[],
): Promise<void> {
  console.log(`== ${name}`);
  const { value, load } = await withLoad(
    () => stack.cpuSeconds(),
    () => scenarios[name](stack, params),
  );
  console.log(`   ${load.wallSeconds} s`);
  into[name] = name === 'memory' ? value.figures : { ...value.figures, load };
  distributions.push(...value.distributions);
}

async function run(): Promise<void> {
  const params = parseBenchArgs(process.argv.slice(2));
  // No shutdown signals for Temporal's runtime: this process runs no worker, and the runtime's own handlers would
  // swallow a Ctrl-C before the stack is up.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const started = performance.now();
  const profilePath = params.cpuProfile ? join(tmpdir(), `durable-jobs-api-${process.pid}.cpuprofile`) : undefined;

  const { temporal, apiProcesses, workerProcesses } = params.stack;
  const server = temporal === 'cluster' ? 'the local Temporal cluster' : 'a dev server (SQLite in a file)';
  console.log(
    `starting ${server}, ${workerProcesses} worker and ${apiProcesses} API process${apiProcesses === 1 ? '' : 'es'}${params.quick ? ' (quick run)' : ''}…`,
  );
  // A signal during start-up stops everything once the stack is up: the Temporal server and the parts run in
  // process groups of their own, which only the stack knows how to stop. A second signal leaves at once.
  let stackUp: BenchStack | undefined;
  const stop = (stack: BenchStack): void => {
    void stack.teardown().finally(() => process.exit(130));
  };
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      console.error(
        `${signal}: stopping everything${stackUp ? '' : ' once start-up is done (again to leave at once)'}`,
      );
      if (stackUp) stop(stackUp);
    });
  }
  const stack = await BenchStack.start({
    shape: params.stack,
    // `scaling` starts from one worker process and adds the others.
    ...(params.scenarios.includes('scaling') ? { initialWorkers: 1 } : {}),
    workerQueues: params.workerQueues,
    ...(profilePath
      ? { apiEnv: { NODE_OPTIONS: `--import tsx --import ${profilerPath}`, BENCH_CPU_PROFILE: profilePath } }
      : {}),
  });
  stackUp = stack;
  if (interrupted) {
    stop(stack);
    return;
  }

  const figures: BenchResults['scenarios'] = {};
  const distributions: Distribution[] = [];
  let machine: Machine;
  try {
    machine = await describeMachine(stack);
    stack.startSampling();
    if (profilePath) for (const api of stack.apis) process.kill(api.pid, 'SIGUSR2');
    for (const name of params.scenarios) await runScenario(name, stack, params, figures, distributions);
  } catch (err) {
    // A scenario stops at an answer it did not expect (a 5xx, say): the APIs' last lines say why.
    for (const api of stack.apis) console.error(api.recentOutput());
    throw err;
  } finally {
    await stack.teardown();
  }

  const results: BenchResults = {
    machine,
    params,
    scenarios: figures,
    durationSeconds: rounded((performance.now() - started) / 1000),
  };
  console.log(`\n${formatTables(results)}\n`);
  if (profilePath) {
    console.log(await summarizeProfile(profilePath));
    console.log('\nA profiled API is slower: the figures of this run are not written to bench/results/.');
    return;
  }
  const where = temporal === 'cluster' ? `cluster, ${apiProcesses} API and ${workerProcesses} worker processes, ` : '';
  const caption = `${where}${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, ${machine.startedAt.slice(0, 16).replace('T', ' ')} UTC, load average ${machine.loadAverageAtStart[0]} at start${params.quick ? ', quick run' : ''}`;
  const growth = results.scenarios.backlog;
  const written = await writeResults(
    temporal === 'cluster' ? 'cluster' : 'latest',
    results,
    latencyChart(distributions, caption),
    growth ? { backlog: growthChart(growth.points, caption) } : {},
  );
  console.log(`wrote ${written.join(', ')} (${results.durationSeconds} s in all)`);
}

run().catch((err: unknown) => {
  if (err instanceof BenchArgsInvalidError) {
    console.error(err.message);
    process.exit(2);
  }
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
