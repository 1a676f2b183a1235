// The service under test, as it runs in production: an in-memory dev server, and the worker and the API as
// child processes started with their own entry points, so each one's CPU and memory can be read on its own.
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { JobPriority } from '../src/contract/job.js';
import { projectRoot } from '../src/temporal/binaries.js';
import { createLazyClient } from '../src/temporal/connection.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { freePort, startApiPart, startWorkerPart, stopAllParts, type Part } from '../test/support/processes.js';
import { BareClient } from './bare-client.js';
import { Gateway } from './gateway.js';
import { cpuSeconds, findChild, peakRssMb, rssMb } from './proc.js';

/** The processes whose CPU the report splits a scenario's time between. */
export type ProcessName = 'client' | 'api' | 'worker' | 'temporal';

/** A figure for each process. */
export function perProcess(figure: (name: ProcessName) => number): Record<ProcessName, number> {
  return { client: figure('client'), api: figure('api'), worker: figure('worker'), temporal: figure('temporal') };
}

export interface StackOptions {
  /** `WORKER_QUEUES` of the worker process. */
  readonly workerQueues: Partial<Record<JobPriority, number>>;
  /** Extra environment of the API process (e.g. NODE_OPTIONS for a CPU profile). */
  readonly apiEnv?: Record<string, string>;
}

/** Resident memory per process when sampling began, and the highest sampled while it was on. */
class RssSampler {
  private readonly first = new Map<number, number>();
  private readonly peaks = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;

  start(pids: readonly number[], intervalMs = 200): void {
    const sample = (): void => {
      for (const pid of pids) {
        const mb = rssMb(pid);
        if (mb === undefined) continue;
        if (!this.first.has(pid)) this.first.set(pid, mb);
        this.peaks.set(pid, Math.max(mb, this.peaks.get(pid) ?? 0));
      }
    };
    sample();
    this.timer = setInterval(sample, intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  firstMb(pid: number): number | undefined {
    return this.first.get(pid);
  }

  peakMb(pid: number): number | undefined {
    return this.peaks.get(pid);
  }
}

export class BenchStack {
  private readonly sampler = new RssSampler();
  private stopped: Promise<void> | undefined;

  protected constructor(
    private readonly temporal: TestWorkflowEnvironment,
    readonly worker: Part,
    readonly api: Part,
    readonly gateway: Gateway,
    readonly bare: BareClient,
    private readonly pids: Readonly<Record<ProcessName, number | undefined>>,
  ) {}

  static async start(options: StackOptions): Promise<BenchStack> {
    const temporal = await startDevServer();
    try {
      const taskQueuePrefix = `bench-${process.pid}`;
      const commandsDir = join(projectRoot, 'jobs', 'commands');
      const port = await freePort();
      const bare = new BareClient(createLazyClient(temporal.address, temporal.namespace ?? 'default'), taskQueuePrefix);
      // Bundling the workflow code makes the worker the slow one to start; the API starts meanwhile. The API logs
      // at `info`, the default a deployment runs with (a line per request); the worker inherits this process's
      // LOG_LEVEL, as startWorkerPart takes no environment.
      const [worker, api] = await Promise.all([
        startWorkerPart({ temporalAddress: temporal.address, taskQueuePrefix, commandsDir, queues: options.workerQueues, client: bare.client }),
        startApiPart({ port, temporalAddress: temporal.address, taskQueuePrefix, commandsDir, env: { LOG_LEVEL: 'info', ...options.apiEnv } }),
      ]);
      const pids = { client: process.pid, api: api.pid, worker: worker.pid, temporal: findChild(process.pid, 'temporal') };
      return new BenchStack(temporal, worker, api, new Gateway('127.0.0.1', port), bare, pids);
    } catch (err) {
      await stopAllParts();
      await temporal.teardown();
      throw err;
    }
  }

  /** CPU seconds used so far by each process. */
  cpuSeconds(): Record<ProcessName, number> {
    return perProcess((name) => {
      const pid = this.pids[name];
      return pid === undefined ? 0 : cpuSeconds(pid);
    });
  }

  /**
   * Resident memory (MiB) of the API and the worker: the peak over their whole life (VmHWM), the peak sampled
   * while scenarios ran, and what they held when the scenarios began.
   */
  memory(): { api: number; worker: number; apiSampled: number; workerSampled: number; apiAtStart: number; workerAtStart: number } {
    const known = (value: number | undefined, what: string): number => {
      if (value === undefined) throw new Error(`no memory figure for ${what}: did the process exit?`);
      return value;
    };
    const apiSampled = known(this.sampler.peakMb(this.api.pid), 'the API (sampled)');
    const workerSampled = known(this.sampler.peakMb(this.worker.pid), 'the worker (sampled)');
    // The kernel syncs a process's RSS counters lazily, so VmHWM can trail a VmRSS sampled a moment before.
    return {
      api: Math.max(known(peakRssMb(this.api.pid), 'the API'), apiSampled),
      worker: Math.max(known(peakRssMb(this.worker.pid), 'the worker'), workerSampled),
      apiSampled,
      workerSampled,
      apiAtStart: known(this.sampler.firstMb(this.api.pid), 'the API (at start)'),
      workerAtStart: known(this.sampler.firstMb(this.worker.pid), 'the worker (at start)'),
    };
  }

  startSampling(): void {
    this.sampler.start([this.api.pid, this.worker.pid]);
  }

  /** Stops each part on its own, so one failure does not leave the rest running; a second call waits for the first. */
  teardown(): Promise<void> {
    this.stopped ??= this.stopAll();
    return this.stopped;
  }

  private async stopAll(): Promise<void> {
    this.sampler.stop();
    this.gateway.close();
    const steps = [() => stopAllParts(), () => this.bare.client.connection.close(), () => this.temporal.teardown()];
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        console.error('bench teardown step failed', err);
      }
    }
  }
}
