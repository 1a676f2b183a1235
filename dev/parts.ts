// The service's parts as child processes, started with the project's own entry points, for the tests and the
// bench: each can be killed (SIGKILL), stopped (SIGTERM) and started again on the same port and data file.
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { tracingRequested } from '@durable-jobs/worker/tracing';
import type { Client } from '@temporalio/client';
import { Env } from '../src/config.js';
import type { JobPriority } from '../src/contract/job.js';
import { workflowVersion } from '../src/workflows/version.js';
import { buildSources, partArgs, workerMallocEnv } from './build.mjs';
import { isRunning, signalChild, stopChild } from './child-process.js';
import { projectRoot } from './project-root.js';
import { spawnTied } from './spawn-tied.mjs';
import { pollsItsQueues } from './worker-pollers.js';
import { buildWorkflowBundles } from './workflow-bundle.js';

export { freePort } from './free-port.js';

let sourcesBuilt: Promise<void> | undefined;
/**
 * Parts run compiled, as `npm run <part>` runs them: the build of the sources as they are now, once per process.
 * Awaited by whoever starts a part (not at the top level: mocha loads some test files through require, which
 * refuses a module graph with a top-level await).
 */
export function buildPartSources(): Promise<void> {
  return (sourcesBuilt ??= buildSources());
}

/** This process's environment less the service's own settings (API keys, ports…), which each part is given explicitly. */
const inheritedEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !(name in Env.shape)));

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How long the rest of a part's process group may take to go after the part itself exited. */
const groupExitMs = 5000;

/** How many lines of a part's output are kept, to explain a failure. */
const keptOutputLines = 200;

/** Thrown when a part exits, or does not get ready, before it announced itself. */
export class PartNotReadyError extends Error {
  override readonly name = 'PartNotReadyError';
}

/**
 * One part (`src/<part>/main.ts`, or a launcher of dev/) in a process group of its own, so a kill also reaches
 * what it started (the dev server's `temporal` binary).
 */
export class Part {
  private readonly output: string[] = [];

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8').on('data', (text: string) => {
        this.output.push(...text.split('\n').filter(Boolean));
        this.output.splice(0, Math.max(0, this.output.length - keptOutputLines));
      });
    }
  }

  /**
   * Starts `entry` (a source file relative to the project root) as `dev/run.mjs` does: compiled when it is a part
   * of the service under src/, through tsx otherwise.
   */
  static spawn(name: string, entry: string, env: Record<string, string>): Part {
    const args = entry.startsWith('src/') ? partArgs(entry) : ['--import', 'tsx', entry];
    // Tied to this process: parts of a test run that is killed do not live on.
    const child = spawnTied(process.execPath, args, {
      cwd: projectRoot,
      env: { ...inheritedEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const part = new Part(name, child);
    running.add(part);
    child.once('exit', () => running.delete(part));
    return part;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The exit code, once the part exited by itself or on a signal it handled; null while it runs or when a signal killed it. */
  get exitCode(): number | null {
    return this.child.exitCode;
  }

  get isRunning(): boolean {
    return isRunning(this.child);
  }

  /** The last lines the part printed, for assertion messages. */
  recentOutput(): string {
    return `--- last output of ${this.name} ---\n${this.output.join('\n')}`;
  }

  /** Resolves once a line of output matches `pattern`. */
  async waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.some((line) => pattern.test(line))) {
      if (!this.isRunning)
        throw new PartNotReadyError(`${this.name} exited before printing ${pattern}\n${this.recentOutput()}`);
      if (Date.now() > deadline)
        throw new PartNotReadyError(`${this.name} did not print ${pattern} in ${timeoutMs} ms\n${this.recentOutput()}`);
      await delay(50);
    }
  }

  /** Resolves with the exit code (null when a signal ended it) once the part exited by itself. */
  async waitForExit(timeoutMs = 30_000): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.isRunning) {
      if (Date.now() > deadline)
        throw new Error(`${this.name} did not exit in ${timeoutMs} ms\n${this.recentOutput()}`);
      await delay(50);
    }
    return this.exitCode;
  }

  /**
   * Sends `signal` to the part's whole process group and waits for every process of the group to be gone, so
   * nothing it started (the dev server under `npm run temporal`, a command under a worker) still holds a port.
   */
  stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGTERM', timeoutMs = 15_000): Promise<void> {
    return stopChild(this.child, { signal, killAfterMs: timeoutMs, groupExitMs });
  }

  /** Like `stop('SIGKILL')`: the machine died, nothing of the part runs any cleanup. */
  kill(): Promise<void> {
    return this.stop('SIGKILL');
  }

  signalGroup(signal: NodeJS.Signals): void {
    signalChild(this.child, signal, true);
  }
}

const running = new Set<Part>();
// A last resort when the process ends without stopping its parts (an uncaught error): no orphans.
process.once('exit', () => {
  for (const part of running) part.signalGroup('SIGKILL');
});

/** Stops every part still running, each on its own so one failure does not leave the rest behind. */
export async function stopAllParts(): Promise<void> {
  await Promise.all(
    [...running].map((part) =>
      part.stop('SIGTERM', 5000).catch((err: unknown) => console.error(`stopping ${part.name} failed`, err)),
    ),
  );
}

export interface TemporalPartOptions {
  readonly port: number;
  readonly uiPort: number;
  readonly dbFile: string;
}

/** `npm run temporal`: the dev server on `port`, persisted to `dbFile`; ready once it says so. */
export async function startTemporalPart(options: TemporalPartOptions): Promise<Part> {
  await buildPartSources();
  const part = Part.spawn('temporal', 'dev/temporal/main.ts', {
    TEMPORAL_DEV_PORT: String(options.port),
    TEMPORAL_DEV_UI_PORT: String(options.uiPort),
    TEMPORAL_DEV_DB_FILE: options.dbFile,
  });
  await part.waitForOutput(/Temporal dev server on /);
  return part;
}

export interface WorkerPartOptions {
  readonly temporalAddress: string;
  readonly taskQueuePrefix: string;
  readonly commandsDir: string;
  readonly queues: Partial<Record<JobPriority, number>>;
  /** A client of the same server, to see the worker's pollers. */
  readonly client: Client;
  /** More environment: OTEL_EXPORTER_OTLP_ENDPOINT (the traced bundle is then built), WORKER_METRICS_PORT… */
  readonly env?: Record<string, string>;
}

/**
 * `npm run worker`, with the workflow bundle it loads built first when stale; ready once Temporal lists this process
 * (the SDK's default identity is `<pid>@<host>`) among the pollers of the workflow task queue and of each of its
 * priorities' queues.
 */
export async function startWorkerPart(options: WorkerPartOptions): Promise<Part> {
  await buildPartSources();
  const traced = tracingRequested({ ...process.env, ...options.env });
  await buildWorkflowBundles(Env.shape.WORKFLOW_BUNDLE_DIR.parse(undefined), [{ encodeFailures: false, traced }]);
  const part = Part.spawn('worker', 'src/worker/main.ts', {
    TEMPORAL_ADDRESS: options.temporalAddress,
    JOBS_TASK_QUEUE_PREFIX: options.taskQueuePrefix,
    JOBS_COMMANDS_DIR: options.commandsDir,
    WORKER_QUEUES: Object.entries(options.queues)
      .map(([priority, slots]) => `${priority}:${slots}`)
      .join(','),
    ...workerMallocEnv,
    ...options.env,
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const priorities = Object.keys(options.queues) as JobPriority[];
    const { workflowService } = options.client;
    if (
      await pollsItsQueues(
        workflowService,
        options.client.options.namespace,
        options.taskQueuePrefix,
        priorities,
        part.pid,
      )
    )
      return part;
    if (!part.isRunning) throw new PartNotReadyError(`the worker exited before it polled\n${part.recentOutput()}`);
    if (Date.now() > deadline) throw new PartNotReadyError(`the worker did not poll in 60 s\n${part.recentOutput()}`);
    await delay(200);
  }
}

export interface ApiPartOptions {
  readonly port: number;
  readonly temporalAddress: string;
  readonly taskQueuePrefix: string;
  readonly commandsDir: string;
  readonly env?: Record<string, string>;
}

/** Whether `url` answers 200, on a connection of its own (a pooled one the server just closed as idle would fail). */
function answersOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
    req.end();
  });
}

/** `npm run api`; ready once `/healthz` answers. */
export async function startApiPart(options: ApiPartOptions): Promise<Part> {
  await buildPartSources();
  const part = Part.spawn('api', 'src/api/main.ts', {
    PORT: String(options.port),
    TEMPORAL_ADDRESS: options.temporalAddress,
    JOBS_TASK_QUEUE_PREFIX: options.taskQueuePrefix,
    JOBS_COMMANDS_DIR: options.commandsDir,
    // As `npm start` runs it: its workers are built from this tree (see JOBS_WORKFLOW_VERSION).
    JOBS_WORKFLOW_VERSION: String(workflowVersion),
    ...options.env,
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (await answersOk(`http://127.0.0.1:${options.port}/healthz`)) return part;
    if (!part.isRunning)
      throw new PartNotReadyError(`the API exited before it answered /healthz\n${part.recentOutput()}`);
    if (Date.now() > deadline)
      throw new PartNotReadyError(`the API did not answer /healthz in 30 s\n${part.recentOutput()}`);
    await delay(100);
  }
}
