// Job types of a handler worker of the user's own (examples/typescript-worker, installed from its own folder and run
// as its own process), through the running service's API: the registry, input checks, dispatch only to the worker
// with the handler, progress, cancellation, retries, a killed worker, no worker, several APIs, a rolling upgrade.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { defineJobType, runWorker } from '@durable-jobs/worker';
import { createApp } from '../src/api/app.js';
import type { Job } from '../src/contract/job.js';
import { createLazyClient } from '../src/temporal/connection.js';
import { payloadCodecsFor } from '../src/temporal/payload-codec.js';
import { TestService, uniqueJobId } from './support/service.js';
import { until } from './support/until.js';

const exampleDir = fileURLToPath(new URL('../examples/typescript-worker/', import.meta.url));

interface JobTypeJson {
  name: string;
  description: string;
  inputSchema: { properties?: Record<string, unknown> };
  revision: number;
  workers: { high: number; normal: number; low: number };
  liveVariants: number;
}

/** The example as a user installs it: `npm install` in its folder (once), which builds the SDK it links to. */
function installExample(): void {
  if (existsSync(`${exampleDir}node_modules/@durable-jobs/worker/dist/index.js`)) return;
  const installed = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: exampleDir, stdio: 'pipe' });
  assert.equal(installed.status, 0, `npm install in the example failed:\n${String(installed.stderr)}`);
}

/** One process of the example worker; its output is kept and shown when a test fails. */
class ExampleWorker {
  readonly output: string[] = [];
  private constructor(readonly process: ChildProcess) {
    process.stdout!.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    process.stderr!.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
  }

  static start(env: Record<string, string>): ExampleWorker {
    return new ExampleWorker(
      spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: exampleDir,
        env: { ...process.env, ...env },
        stdio: 'pipe',
      }),
    );
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = once(this.process, 'exit');
    this.process.kill(signal);
    await exited;
  }
}

describe('Job types of a handler worker of your own (examples/typescript-worker), through the API', function () {
  let service: TestService;
  const examples: ExampleWorker[] = [];
  // The example reads the service's key from its environment, so the two encrypt alike.
  const payloadKey = randomBytes(32).toString('base64');
  let web: Server;
  let webUrl: string;
  const flakyHits = new Map<string, number>();

  const startExample = (): ExampleWorker => {
    const example = ExampleWorker.start({
      TEMPORAL_ADDRESS: service.temporal.address,
      JOBS_TASK_QUEUE_PREFIX: service.config.JOBS_TASK_QUEUE_PREFIX,
      PAYLOAD_ENCRYPTION_KEY: payloadKey,
    });
    examples.push(example);
    return example;
  };

  const jobTypes = async (baseUrl = service.baseUrl): Promise<JobTypeJson[]> => {
    const response = await fetch(`${baseUrl}/api/v1/job-types`);
    assert.equal(response.status, 200);
    return ((await response.json()) as { types: JobTypeJson[] }).types;
  };

  const typeNamed = (types: JobTypeJson[], name: string) => types.find((type) => type.name === name);
  const normalWorkers = async (name: string) => typeNamed(await jobTypes(), name)?.workers.normal;

  /** The identities of the workers that started the job's attempts, from its workflow's history. */
  async function attemptIdentities(jobId: string): Promise<string[]> {
    const history = await service.temporal.client.workflow.getHandle(jobId).fetchHistory();
    return (history.events ?? []).flatMap((event) =>
      event.activityTaskStartedEventAttributes ? [event.activityTaskStartedEventAttributes.identity ?? ''] : [],
    );
  }

  before(async function () {
    this.timeout(600_000);
    installExample();
    web = createServer((request, response) => {
      const path = request.url ?? '/';
      const hits = (flakyHits.get(path) ?? 0) + 1;
      flakyHits.set(path, hits);
      // /flaky/<n>: 503 for the first n requests, then 200; /gone: 404.
      const failures = Number(/^\/flaky\/(\d+)/.exec(path)?.[1] ?? 0);
      response.statusCode = path === '/gone' ? 404 : hits <= failures ? 503 : 200;
      response.end('ok');
    });
    web.listen(0, '127.0.0.1');
    await once(web, 'listening');
    webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    service = await TestService.start({ env: { PAYLOAD_ENCRYPTION_KEY: payloadKey } });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      for (const example of examples) console.log(`example worker ${example.process.pid}:\n${example.output.join('')}`);
  });

  after(async function () {
    await Promise.all(examples.map((example) => example.stop('SIGKILL')));
    await service?.teardown();
    web?.close();
  });

  it('lists its types with their schemas once it starts, without restarting the API', async function () {
    assert.equal(typeNamed(await jobTypes(), 'primes'), undefined);
    startExample();
    const types = await until(
      'primes and check-url listed',
      jobTypes,
      (listed) => ['primes', 'check-url'].every((name) => (typeNamed(listed, name)?.workers.normal ?? 0) === 1),
      30_000,
    );
    const primes = typeNamed(types, 'primes')!;
    assert.deepEqual(Object.keys(primes.inputSchema.properties ?? {}), ['below']);
    assert.deepEqual(primes.workers, { high: 1, normal: 1, low: 1 });
    assert.equal(primes.liveVariants, 1);
    assert.deepEqual(
      types.map((type) => type.name),
      ['check-url', 'command', 'primes', 'sleep'],
    );
  });

  it('answers 400 naming the field to a bad input, and 400 listing the known types to an unknown type', async function () {
    const low = await service.submit({ type: 'primes', input: { below: 1 } });
    assert.equal(low.status, 400);
    assert.match((low.body as unknown as { error: { message: string } }).error.message, /^input\.below: /);
    const missing = await service.submit({ type: 'primes', input: {} });
    assert.equal((missing.body as unknown as { error: { message: string } }).error.message, 'input.below: is required');
    const unknown = await service.submit({ type: 'teleport', input: {} });
    assert.equal(unknown.status, 400);
    assert.match(
      (unknown.body as unknown as { error: { message: string } }).error.message,
      /unknown job type "teleport"; known: check-url, command, primes, sleep/,
    );
  });

  it('runs its job on the example worker only, shows progress in polls, and cancels it within 2 s', async function () {
    const jobId = uniqueJobId('primes');
    const submitted = await service.submit({ type: 'primes', jobId, input: { below: 200_000_000 } });
    assert.equal(submitted.status, 202);
    const running = await service.waitFor(jobId, (job) => job.status === 'running' && job.progress !== null, 30_000);
    assert.match(running.progress?.message ?? '', /^sieving by \d+/);
    const cancelAt = Date.now();
    await service.cancel(jobId);
    const cancelled = await service.waitFor(jobId, ['cancelled'], 5000);
    assert.ok(Date.now() - cancelAt < 2000, `cancelled after ${Date.now() - cancelAt} ms`);
    assert.equal(cancelled.error?.type, 'Cancelled');
    // An attempt's started event is written when the attempt ends.
    const identities = await attemptIdentities(jobId);
    assert.equal(identities.length, 1);
    const examplePids = examples.map((example) => example.process.pid);
    assert.ok(
      identities.every((identity) => examplePids.some((pid) => identity.includes(`:${pid}:`))),
      `attempts started by ${JSON.stringify(identities)}, not the example (${examplePids.join(', ')})`,
    );
  });

  it('retries as the declaration and its errors say, and ends at once on an UnrecoverableError', async function () {
    const retry = { initialIntervalSeconds: 0, maximumIntervalSeconds: 0 };
    const flaky = await service.submit({ type: 'check-url', input: { url: `${webUrl}/flaky/2` }, retry }, '?wait=30');
    assert.equal(flaky.body.status, 'succeeded', JSON.stringify(flaky.body));
    assert.equal(flaky.body.attempt, 3);
    assert.equal(flaky.body.maxAttempts, 4, "the declaration's maxAttempts");
    const gone = await service.submit({ type: 'check-url', input: { url: `${webUrl}/gone` }, retry }, '?wait=30');
    assert.equal(gone.body.status, 'failed');
    assert.equal(gone.body.attempt, 1);
    assert.equal(gone.body.error?.type, 'UnrecoverableError');
  });

  it('completes a job whose worker was SIGKILLed mid-attempt on another instance', async function () {
    const jobId = uniqueJobId('killed');
    await service.submit({
      type: 'primes',
      jobId,
      input: { below: 150_000_000 },
      heartbeatTimeoutSeconds: 3,
      retry: { initialIntervalSeconds: 0, maximumIntervalSeconds: 0 },
    });
    await service.waitFor(jobId, (job) => job.status === 'running' && job.progress !== null, 30_000);
    await Promise.all(examples.map((example) => example.stop('SIGKILL')));
    startExample();
    const done = await service.waitFor(jobId, ['succeeded', 'failed', 'timed_out'], 60_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(done.attempt, 2);
    assert.ok((done.result as { count: number }).count > 5_761_455, 'more primes than below 10⁸');
  });

  it('shows 0 workers once none is left, and its new jobs wait queued saying why in /queues', async function () {
    await Promise.all(examples.map((example) => example.stop('SIGKILL')));
    // A killed worker stops counting when its lease (10 s) runs out.
    await until(
      'primes at 0 workers',
      () => normalWorkers('primes'),
      (workers) => workers === 0,
      20_000,
    );
    const jobId = uniqueJobId('waiting');
    const submitted = await service.submit({ type: 'primes', jobId, input: { below: 10 } });
    assert.equal(submitted.status, 202);
    await delay(2000);
    assert.equal((await service.getJob(jobId)).body.status, 'queued');
    const queues = await service.request<{
      types: { type: string; priority: string; workers: number; queuedJobs: number; waiting: string | null }[];
    }>('GET', '/api/v1/queues');
    const primes = queues.body.types.find((entry) => entry.type === 'primes' && entry.priority === 'normal')!;
    assert.equal(primes.workers, 0, JSON.stringify(queues.body.types));
    assert.ok(primes.queuedJobs >= 1);
    assert.match(primes.waiting ?? '', /no live worker serves primes/);
    const sleep = queues.body.types.find((entry) => entry.type === 'sleep' && entry.priority === 'normal')!;
    assert.equal(sleep.waiting, null);
    await service.cancel(jobId);
  });

  it('is known alike to two API processes, and to a restarted one at once', async function () {
    const startApi = async () => {
      const client = createLazyClient(
        service.temporal.address,
        service.config.TEMPORAL_NAMESPACE,
        payloadCodecsFor(service.config),
      );
      const app = createApp({ client, config: service.config, logger: pino({ level: 'error' }) });
      const server = app.koa.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const stop = async (): Promise<void> => {
        app.close();
        server.close();
        server.closeAllConnections();
        await client.connection.close();
      };
      return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stop };
    };
    const summary = (types: JobTypeJson[]) => types.map(({ name, revision }) => `${name}#${revision}`);
    const other = await startApi();
    try {
      assert.deepEqual(summary(await jobTypes(other.baseUrl)), summary(await jobTypes()));
    } finally {
      await other.stop();
    }
    // A new process: its first request reads the registry, where every type is.
    const restarted = await startApi();
    try {
      assert.deepEqual(
        (await jobTypes(restarted.baseUrl)).map((type) => type.name),
        ['check-url', 'command', 'primes', 'sleep'],
      );
      const job = await fetch(`${restarted.baseUrl}/api/v1/jobs?wait=20`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'sleep', input: { seconds: 0 } }),
      });
      assert.equal(((await job.json()) as Job).status, 'succeeded');
    } finally {
      await restarted.stop();
    }
  });

  it('shows a conflicting re-declaration (a rolling upgrade) as the one in force while its worker lives', async function () {
    startExample();
    await until(
      'the example back',
      () => normalWorkers('primes'),
      (workers) => workers === 1,
      30_000,
    );
    const before = typeNamed(await jobTypes(), 'primes')!;
    // A newer primes: one more optional field, another description.
    const upgraded = defineJobType({
      name: 'primes',
      description: 'Counts the primes below `below` (version 2).',
      input: {
        type: 'object',
        properties: { below: { type: 'integer', minimum: 2 }, verbose: { type: 'boolean' } },
        required: ['below'],
      },
      run: () => Promise.resolve({ below: 0, count: 0, largest: null }),
    });
    const stopping = new AbortController();
    const running = runWorker({
      jobTypes: [upgraded],
      temporal: { address: service.temporal.address },
      taskQueuePrefix: service.config.JOBS_TASK_QUEUE_PREFIX,
      queues: { low: 1 },
      payloadEncryptionKey: payloadKey,
      signal: stopping.signal,
      shutdownGraceSeconds: 1,
    });
    try {
      const during = await until(
        'the upgrade in force',
        async () => typeNamed(await jobTypes(), 'primes')!,
        (primes) => primes.liveVariants === 2,
        30_000,
      );
      assert.equal(during.description, 'Counts the primes below `below` (version 2).');
      assert.ok(during.revision > before.revision);
      assert.deepEqual(during.workers, { high: 1, normal: 1, low: 2 });
      const verbose = await service.submit({ type: 'primes', input: { below: 10, verbose: true } });
      assert.equal(verbose.status, 202, 'the declaration in force takes the new field');
    } finally {
      stopping.abort();
      await running;
    }
    // The canary left: the old declaration is in force again at once.
    const after = await until(
      'the old declaration back',
      async () => typeNamed(await jobTypes(), 'primes')!,
      (primes) => primes.liveVariants === 1,
      30_000,
    );
    assert.equal(after.revision, before.revision);
    assert.equal(after.description, before.description);
  });
});
