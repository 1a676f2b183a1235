// The service under test, as it runs in production: a Temporal server (the in-memory dev server, or the local
// cluster), and the API and worker processes started with their own entry points, so each one's CPU and memory can
// be read on its own. With several processes in a role, a role's CPU is their sum and its memory their largest.
import { chmod, cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobPriority } from '../src/contract/job.js';
import { projectRoot } from '../dev/project-root.js';
import { createLazyClient } from '../src/temporal/connection.js';
import {
  freePort,
  startApiPart,
  startWorkerPart,
  stopAllParts,
  type Part,
  type WorkerPartOptions,
} from '../dev/parts.js';
import { startTemporalBackend, type TemporalBackend } from './backend.js';
import { BareClient } from './bare-client.js';
import { Gateway } from './gateway.js';
import { LeanSide } from './lean/side.js';
import { devServerShape, type StackShape } from './options.js';
import { cpuSeconds, peakRssMb, rssMb, treeCpuSeconds } from './proc.js';
import type { ProcessName } from './results.js';

export interface StackOptions {
  /** The dev server, one API and one worker process by default. */
  readonly shape?: StackShape;
  /** Worker processes to start with (the `scaling` scenario adds the rest); all of `shape.workerProcesses` by default. */
  readonly initialWorkers?: number;
  /** `WORKER_QUEUES` of each worker process. */
  readonly workerQueues: Partial<Record<JobPriority, number>>;
  /** Extra environment of the API processes (e.g. NODE_OPTIONS for a CPU profile). */
  readonly apiEnv?: Record<string, string>;
}

/** Resident memory per process when sampling began, and the highest sampled while it was on. */
class RssSampler {
  private readonly first = new Map<number, number>();
  private readonly peaks = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;

  /** Samples the processes `pids()` answers at each tick, so a process started later is sampled from then on. */
  start(pids: () => readonly number[], intervalMs = 200): void {
    const sample = (): void => {
      for (const pid of pids()) {
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

/** Peak, sampled peak and ready RSS (MiB) of one role: each the largest among the role's processes. */
export interface RoleMemory {
  readonly peak: number;
  readonly sampled: number;
  readonly atStart: number;
}

export class BenchStack {
  private readonly sampler = new RssSampler();
  private stopped: Promise<void> | undefined;

  protected constructor(
    readonly temporal: TemporalBackend,
    readonly apis: readonly Part[],
    private readonly workerParts: Part[],
    private readonly workerOptions: WorkerPartOptions,
    readonly gateway: Gateway,
    readonly bare: BareClient,
    readonly lean: LeanSide,
    private readonly commandsDir: string,
  ) {}

  static async start(options: StackOptions): Promise<BenchStack> {
    const shape = options.shape ?? devServerShape;
    const temporal = await startTemporalBackend(shape.temporal);
    // Not under /tmp: a command runs with a /tmp of its own (the sandbox), and as another user.
    const cacheDir = join(projectRoot, '.cache');
    await mkdir(cacheDir, { recursive: true });
    const commandsDir = await mkdtemp(join(cacheDir, 'bench-commands-'));
    try {
      await chmod(commandsDir, 0o755);
      const taskQueuePrefix = `bench-${process.pid}`;
      // The project's commands and the bench's own (bench/commands/), together in a directory of the run's.
      await cp(join(projectRoot, 'jobs', 'commands'), commandsDir, { recursive: true });
      await cp(join(projectRoot, 'bench', 'commands'), commandsDir, { recursive: true });
      const ports = await Promise.all(Array.from({ length: shape.apiProcesses }, () => freePort()));
      const bare = new BareClient(createLazyClient(temporal.address, temporal.namespace), taskQueuePrefix);
      const workerOptions: WorkerPartOptions = {
        temporalAddress: temporal.address,
        taskQueuePrefix,
        commandsDir,
        queues: options.workerQueues,
        client: bare.client,
      };
      // Bundling the workflow code makes the workers the slow ones to start; the APIs start meanwhile. The APIs log
      // at `info`, the default a deployment runs with (a line per request); the workers inherit this process's
      // LOG_LEVEL, as startWorkerPart takes no environment.
      const [workers, apis, lean] = await Promise.all([
        Promise.all(
          Array.from({ length: options.initialWorkers ?? shape.workerProcesses }, () => startWorkerPart(workerOptions)),
        ),
        Promise.all(
          ports.map((port) =>
            startApiPart({
              port,
              temporalAddress: temporal.address,
              taskQueuePrefix,
              commandsDir,
              env: { LOG_LEVEL: 'info', ...options.apiEnv },
            }),
          ),
        ),
        // The lean reference gets as many activity slots as the service gives `normal`, the bench's priority.
        LeanSide.start(bare.client, temporal.address, `${taskQueuePrefix}-lean`, options.workerQueues.normal ?? 32),
      ]);
      return new BenchStack(
        temporal,
        apis,
        workers,
        workerOptions,
        new Gateway('127.0.0.1', ports),
        bare,
        lean,
        commandsDir,
      );
    } catch (err) {
      await stopAllParts();
      await temporal.teardown();
      await rm(commandsDir, { recursive: true, force: true });
      throw err;
    }
  }

  get workers(): readonly Part[] {
    return this.workerParts;
  }

  /** Starts one more worker process; resolves once it polls every queue. */
  async addWorker(): Promise<void> {
    this.workerParts.push(await startWorkerPart(this.workerOptions));
  }

  /**
   * CPU seconds used so far by each role: the sum over its processes (Temporal's with what they started). `worker`
   * counts the lean reference's worker too: each side's worker idles while the other's jobs run.
   */
  cpuSeconds(): Record<ProcessName, number> {
    const sum = (parts: readonly Part[]): number => parts.reduce((total, part) => total + cpuSeconds(part.pid), 0);
    return {
      client: cpuSeconds(process.pid),
      api: sum(this.apis),
      worker: sum([...this.workers, this.lean.worker]),
      temporal: treeCpuSeconds(this.temporal.pids()),
    };
  }

  /**
   * Resident memory (MiB) of the API and the worker roles: the peak over a process's whole life (VmHWM), the
   * peak sampled while scenarios ran, and what it held when sampling began (a worker added later: when it joined);
   * each the largest among the role's processes.
   */
  memory(): { api: RoleMemory; worker: RoleMemory } {
    const largest = (parts: readonly Part[], role: string): RoleMemory => {
      const known = (value: number | undefined, what: string): number => {
        if (value === undefined) throw new Error(`no memory figure for ${role} process ${what}: did it exit?`);
        return value;
      };
      const each = parts.map((part) => {
        const sampled = known(this.sampler.peakMb(part.pid), `${part.pid} (sampled)`);
        // The kernel syncs a process's RSS counters lazily, so VmHWM can trail a VmRSS sampled a moment before.
        return {
          peak: Math.max(known(peakRssMb(part.pid), String(part.pid)), sampled),
          sampled,
          atStart: known(this.sampler.firstMb(part.pid), `${part.pid} (at start)`),
        };
      });
      return {
        peak: Math.max(...each.map((m) => m.peak)),
        sampled: Math.max(...each.map((m) => m.sampled)),
        atStart: Math.max(...each.map((m) => m.atStart)),
      };
    };
    return { api: largest(this.apis, 'API'), worker: largest(this.workers, 'worker') };
  }

  startSampling(): void {
    this.sampler.start(() => [...this.apis, ...this.workers].map((part) => part.pid));
  }

  /** Stops each part on its own, so one failure does not leave the rest running; a second call waits for the first. */
  teardown(): Promise<void> {
    this.stopped ??= this.stopAll();
    return this.stopped;
  }

  private async stopAll(): Promise<void> {
    this.sampler.stop();
    this.gateway.close();
    const steps = [
      () => stopAllParts(),
      () => this.bare.client.connection.close(),
      () => this.temporal.teardown(),
      () => rm(this.commandsDir, { recursive: true, force: true }),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        console.error('bench teardown step failed', err);
      }
    }
  }
}
