// The real service for tests: a Temporal dev server, the workers and the Koa gateway on an ephemeral port.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker, WorkflowBundle } from '@temporalio/worker';
import { createApp } from '../../src/api/app.js';
import { Env, type Config } from '../../src/config.js';
import type { Job, JobPriority, JobStatus } from '../../src/contract/job.js';
import { createLazyClient } from '../../src/temporal/connection.js';
import { startDevServer } from '../../src/temporal/dev-server.js';
import { bundleJobWorkflows, createJobWorkers } from '../../src/worker/workers.js';

export const commandsDir = fileURLToPath(new URL('../fixtures/commands', import.meta.url));

let sharedBundle: Promise<WorkflowBundle> | undefined;
/** Bundling takes about a second: once per test process. */
export function workflowBundle(): Promise<WorkflowBundle> {
  sharedBundle ??= bundleJobWorkflows();
  return sharedBundle;
}

export interface HttpResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** Workers running in this process until `stop()`. */
export class RunningWorkers {
  private readonly running: Promise<unknown>;
  constructor(private readonly workers: Worker[]) {
    this.running = Promise.all(workers.map((worker) => worker.run()));
  }

  async stop(): Promise<void> {
    for (const worker of this.workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await this.running;
  }
}

let instances = 0;

export class TestService {
  private readonly workerSets = new Set<RunningWorkers>();
  private workflowsRunning = false;
  private temporalStopped = false;

  protected constructor(
    readonly temporal: TestWorkflowEnvironment,
    readonly config: Config,
    /** The API's own client, connecting lazily as in production. */
    private readonly apiClient: Client,
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  /** Starts a dev server and the API; workers start with `startWorkers` (default: all priorities). */
  static async start(options: { workers?: Partial<Record<JobPriority, number>> | false } = {}): Promise<TestService> {
    const temporal = await startDevServer();
    const parsed = Env.parse({
      JOBS_TASK_QUEUE_PREFIX: `test-${process.pid}-${++instances}`,
      JOBS_COMMANDS_DIR: commandsDir,
      TEMPORAL_UI_URL: 'http://localhost:8233',
    });
    const config: Config = { ...parsed, temporalAddress: temporal.address };
    const apiClient = createLazyClient(temporal.address, config.TEMPORAL_NAMESPACE);
    const app = createApp({ client: apiClient, config, onError: (err) => console.error('API error', err) });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const service = new TestService(temporal, config, apiClient, server, `http://127.0.0.1:${port}`);
    if (options.workers !== false) await service.startWorkers(options.workers);
    return service;
  }

  /** Workers for these priorities; the first set started also runs the job workflows. */
  async startWorkers(queues: Partial<Record<JobPriority, number>> = { high: 5, normal: 5, low: 5 }): Promise<RunningWorkers> {
    const workers = await createJobWorkers({
      runWorkflows: !this.workflowsRunning,
      connection: this.temporal.nativeConnection,
      client: this.temporal.client,
      namespace: this.config.TEMPORAL_NAMESPACE,
      taskQueuePrefix: this.config.JOBS_TASK_QUEUE_PREFIX,
      queues,
      workflowBundle: await workflowBundle(),
      settings: { commandsDir: this.config.JOBS_COMMANDS_DIR },
      shutdownGraceSeconds: 1,
    });
    const running = new RunningWorkers(workers);
    this.workerSets.add(running);
    this.workflowsRunning = true;
    return running;
  }

  async stopWorkers(): Promise<void> {
    await Promise.all([...this.workerSets].map((workers) => workers.stop()));
    this.workerSets.clear();
    this.workflowsRunning = false;
  }

  /** Stops the Temporal server (and the workers first), leaving the API up. */
  async stopTemporal(): Promise<void> {
    await this.stopWorkers();
    await this.temporal.teardown();
    this.temporalStopped = true;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResponse<T>> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const response = await fetch(this.baseUrl + path, init);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
  }

  submit(body: unknown, query = ''): Promise<HttpResponse<Job>> {
    return this.request<Job>('POST', `/api/v1/jobs${query}`, body);
  }

  getJob(jobId: string): Promise<HttpResponse<Job>> {
    return this.request<Job>('GET', `/api/v1/jobs/${encodeURIComponent(jobId)}`);
  }

  cancel(jobId: string): Promise<HttpResponse<Job>> {
    return this.request<Job>('POST', `/api/v1/jobs/${encodeURIComponent(jobId)}/cancel`);
  }

  /** Polls until the job's status is one of `statuses` (or `until` holds); fails after `timeoutMs`. */
  async waitFor(jobId: string, until: readonly JobStatus[] | ((job: Job) => boolean | Promise<boolean>), timeoutMs = 20_000): Promise<Job> {
    const matches = typeof until === 'function' ? until : (job: Job) => until.includes(job.status);
    const deadline = Date.now() + timeoutMs;
    let last: Job | undefined;
    while (Date.now() < deadline) {
      const { status, body } = await this.getJob(jobId);
      if (status === 200) {
        last = body;
        if (await matches(body)) return body;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`job ${jobId} did not reach the expected state in ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`);
  }

  /** Connections the API holds open now. */
  openConnections(): Promise<number> {
    return new Promise((resolve, reject) => this.server.getConnections((err, count) => (err ? reject(err) : resolve(count))));
  }

  /** How many workflow executions Temporal has for a visibility query. */
  async countWorkflows(query: string): Promise<number> {
    return (await this.temporal.client.workflow.count(query)).count;
  }

  async teardown(): Promise<void> {
    const steps = [
      () => this.stopWorkers(),
      () => new Promise<void>((resolve) => { this.server.close(() => resolve()); this.server.closeAllConnections(); }),
      () => this.apiClient.connection.close(),
      () => (this.temporalStopped ? undefined : this.temporal.teardown()),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        console.error('teardown step failed', err);
      }
    }
  }
}

let counter = 0;
/** A job id unique to this test run. */
export function uniqueJobId(label: string): string {
  return `${label}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
}
