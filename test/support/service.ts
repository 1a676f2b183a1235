// The real service for tests: a Temporal dev server, the workers and the Koa gateway on an ephemeral port.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { pino } from 'pino';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, type WorkflowBundle } from '@temporalio/worker';
import type { Middleware } from 'openapi-fetch';
import { callbackSettingsOf } from '../../src/activities/callback.js';
import { commandSandboxOf } from '../../src/activities/command.js';
import { createApp, type App } from '../../src/api/app.js';
import { createJobsClient, type JobsClient, type SubmitJobBody } from '../../src/client/index.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Job, JobPriority, JobStatus } from '../../src/contract/job.js';
import { codecEndpointPath } from '../../src/contract/codec.js';
import { createLazyClient } from '../../src/temporal/connection.js';
import type { TemporalRead } from '../../src/jobs/workflow-reads.js';
import { payloadCodecsFor } from '../../src/temporal/payload-codec.js';
import { temporalReadsByCall } from '../../dev/api-metrics.js';
import { startDevServer } from '../../dev/temporal/dev-server.js';
import { bundleJobWorkflows } from '../../dev/workflow-bundle.js';
import { createJobWorkers, type JobWorkers } from '../../src/worker/workers.js';
import { JobMetrics } from '../../src/telemetry/job-metrics.js';
import { applyServerTimeouts } from '../../src/api/server-timeouts.js';
import { assertConforms } from './conformance.js';
import { freePort } from './processes.js';

export const commandsDir = fileURLToPath(new URL('../fixtures/commands', import.meta.url));

const sharedBundles = new Map<boolean, Promise<WorkflowBundle>>();
/** Bundling takes about a second: once per test process and failure converter (encodeFailures: with payload codecs). */
export function workflowBundle(encodeFailures = false): Promise<WorkflowBundle> {
  let bundle = sharedBundles.get(encodeFailures);
  if (!bundle) sharedBundles.set(encodeFailures, (bundle = bundleJobWorkflows({ encodeFailures })));
  return bundle;
}

export interface HttpResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** Workers running in this process until `stop()`. */
export class RunningWorkers {
  private readonly running: Promise<unknown>;
  constructor(private readonly workers: JobWorkers) {
    this.running = workers.run();
  }

  async stop(): Promise<void> {
    await this.workers.shutdown();
    await this.running;
  }
}

/** Checks each of the client's answers against the OpenAPI document, as `request` does. */
const conformanceCheck: Middleware = {
  async onResponse({ request, response }) {
    // Only JSON is read (from a copy): an event stream would never end.
    const isJson = response.headers.get('content-type')?.startsWith('application/json') ?? false;
    const text = isJson ? await response.clone().text() : '';
    assertConforms(request.method, new URL(request.url).pathname, response.status, text ? JSON.parse(text) : undefined);
    return undefined;
  },
};

/** A call of the client's typed HTTP layer, in the harness's shape: a refusal's body is the error body. */
async function asHttpResponse(
  call: Promise<{ data?: unknown; error?: unknown; response: Response }>,
): Promise<HttpResponse<Job>> {
  const { data, error, response } = await call;
  return { status: response.status, headers: response.headers, body: (data ?? error) as Job };
}

let instances = 0;

export interface ServiceOptions {
  /** The priorities the first workers serve, with their slots; false: none (jobs stay queued; workflows still run). */
  readonly workers?: Partial<Record<JobPriority, number>> | false;
  /** Serve the dev server's Web UI on a free port (links.ui points there). */
  readonly webUi?: boolean;
  /** Environment for the API's configuration (API_KEYS, rate limits…); PAYLOAD_ENCRYPTION_KEY reaches the workers too. */
  readonly env?: Record<string, string>;
  /** With `webUi`: the Web UI decodes payloads through the API's codec endpoint. */
  readonly uiCodec?: boolean;
}

export class TestService {
  private readonly workerSets = new Set<RunningWorkers>();
  private workflowsRunning = false;
  private temporalStopped = false;

  protected constructor(
    readonly temporal: TestWorkflowEnvironment,
    readonly config: Config,
    /** The API's own client, connecting lazily as in production. */
    private readonly apiClient: Client,
    readonly app: App,
    private readonly server: Server,
    readonly baseUrl: string,
  ) {
    this.client = createJobsClient({ baseUrl, apiKey: () => this.apiKey });
    this.client.api.use(conformanceCheck);
    this.payloadCodecs = apiClient.options.loadedDataConverter.payloadCodecs;
  }

  /** The API's codecs (payloadCodecsFor(config)), which the workers get too. */
  readonly payloadCodecs: PayloadCodec[];

  /** What the workers' WORKER_JOB_METRICS_PORT would serve: the jobs finished, their durations, callback deliveries. */
  readonly jobMetrics = new JobMetrics();

  /** The TypeScript client (src/client), sending `apiKey` as it is at each request; its answers are checked against the document. */
  readonly client: JobsClient;

  /** Starts a dev server and the API; workers start with `startWorkers` (default: all priorities). */
  static async start(options: ServiceOptions = {}): Promise<TestService> {
    const uiPort = options.webUi ? await freePort() : undefined;
    // The UI is told the codec endpoint at start, so the API's port is chosen before the server starts.
    const apiPort = options.uiCodec ? await freePort() : 0;
    const temporal = await startDevServer({
      ...(uiPort === undefined ? {} : { uiPort }),
      ...(options.uiCodec ? { uiCodecEndpoint: `http://127.0.0.1:${apiPort}${codecEndpointPath}` } : {}),
    });
    const config = loadConfig({
      JOBS_TASK_QUEUE_PREFIX: `test-${process.pid}-${++instances}`,
      JOBS_COMMANDS_DIR: commandsDir,
      TEMPORAL_UI_URL: `http://localhost:${uiPort ?? 8233}`,
      TEMPORAL_ADDRESS: temporal.address,
      ...options.env,
    });
    const apiClient = createLazyClient(temporal.address, config.TEMPORAL_NAMESPACE, payloadCodecsFor(config));
    const app = createApp({ client: apiClient, config, logger: pino({ level: 'error' }) });
    const server = app.koa.listen(apiPort, '127.0.0.1');
    applyServerTimeouts(server);
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const service = new TestService(temporal, config, apiClient, app, server, `http://127.0.0.1:${port}`);
    // Without attempt workers, the job workflows' worker still runs: the job type registry is one of its workflows, and
    // the service's worker declares the built-in types there (the API knows no type no worker declared).
    await service.startWorkers(options.workers === false ? {} : options.workers);
    return service;
  }

  /** Workers for these priorities; the first set started also runs the job workflows. */
  async startWorkers(
    queues: Partial<Record<JobPriority, number>> = { high: 5, normal: 5, low: 5 },
    payloadCodecs = this.payloadCodecs,
  ): Promise<RunningWorkers> {
    const workers = await createJobWorkers({
      runWorkflows: !this.workflowsRunning,
      connection: this.temporal.nativeConnection,
      // The activities' signals to their workflows are payloads too.
      client: new Client({
        connection: this.temporal.connection,
        namespace: this.config.TEMPORAL_NAMESPACE,
        dataConverter: { payloadCodecs },
      }),
      payloadCodecs,
      namespace: this.config.TEMPORAL_NAMESPACE,
      taskQueuePrefix: this.config.JOBS_TASK_QUEUE_PREFIX,
      queues,
      workflowBundle: await workflowBundle(payloadCodecs.length > 0),
      settings: { commandsDir: this.config.JOBS_COMMANDS_DIR, commandSandbox: commandSandboxOf(this.config) },
      callbacks: callbackSettingsOf(this.config),
      shutdownGraceSeconds: 1,
      logger: Runtime.instance().logger,
      jobMetrics: this.jobMetrics,
    });
    const running = new RunningWorkers(workers);
    // The API accepts the built-in types' jobs once the registry has them (its workflow runs on these workers).
    await workers.declared;
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

  /** The bearer key sent with every request from now on (undefined: none). */
  apiKey: string | undefined;

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpResponse<T>> {
    const init: RequestInit = {
      method,
      headers: { ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}), ...headers },
    };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const response = await fetch(this.baseUrl + path, init);
    const text = await response.text();
    const isJson = response.headers.get('content-type')?.startsWith('application/json') ?? false;
    const parsed: unknown = isJson && text ? JSON.parse(text) : text;
    assertConforms(method, path, response.status, parsed);
    return { status: response.status, headers: response.headers, body: parsed as T };
  }

  /** Submits through the client; `query` is `?wait=N` or empty. */
  submit(body: unknown, query = ''): Promise<HttpResponse<Job>> {
    const wait = new URLSearchParams(query).get('wait');
    const params = { query: { wait: wait === null ? undefined : Number(wait) } };
    return asHttpResponse(this.client.api.POST('/api/v1/jobs', { body: body as SubmitJobBody, params }));
  }

  getJob(jobId: string): Promise<HttpResponse<Job>> {
    return asHttpResponse(this.client.api.GET('/api/v1/jobs/{jobId}', { params: { path: { jobId } } }));
  }

  cancel(jobId: string): Promise<HttpResponse<Job>> {
    return asHttpResponse(this.client.api.POST('/api/v1/jobs/{jobId}/cancel', { params: { path: { jobId } } }));
  }

  /** Polls until the job's status is one of `statuses` (or `until` holds); fails after `timeoutMs`. */
  async waitFor(
    jobId: string,
    until: readonly JobStatus[] | ((job: Job) => boolean | Promise<boolean>),
    timeoutMs = 20_000,
  ): Promise<Job> {
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
    throw new Error(
      `job ${jobId} did not reach the expected state in ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`,
    );
  }

  /** Connections the API holds open now. */
  openConnections(): Promise<number> {
    return new Promise((resolve, reject) =>
      this.server.getConnections((err, count) => (err ? reject(err) : resolve(count))),
    );
  }

  /** The API's reads of Temporal so far (durable_jobs_temporal_reads_total in its /metrics), of one kind or all. */
  async temporalReads(call?: TemporalRead): Promise<number> {
    const { body } = await this.request<string>('GET', '/metrics');
    const reads = temporalReadsByCall(body);
    return call === undefined ? Object.values(reads).reduce((sum, n) => sum + n, 0) : (reads[call] ?? 0);
  }

  /** How many workflow executions Temporal has for a visibility query. */
  async countWorkflows(query: string): Promise<number> {
    return (await this.temporal.client.workflow.count(query)).count;
  }

  async teardown(): Promise<void> {
    const steps = [
      () => this.stopWorkers(),
      () => {
        this.app.close();
        return new Promise<void>((resolve) => {
          this.server.close(() => resolve());
          this.server.closeAllConnections();
        });
      },
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
