// The Python worker (python/, durable_jobs) as a user runs it: the `durable-jobs worker` command of the pinned venv,
// a process of its own serving test/fixtures/python-worker/handlers.py, against the real service (a Temporal dev
// server, the service's workers running the job workflows and the registry, the API). Jobs are submitted, read and
// cancelled over REST: the API validates them against the declarations and dispatches them to <prefix>:<type>:<priority>.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { ensurePythonEnv, runCommand, type PythonEnv } from '../dev/python-env.js';
import { PayloadEncryptionCodec, parsePayloadKey } from '../packages/worker/src/payload-codec.js';
import type { Job, JobPriority, SubmitJobBody } from '../src/contract/job.js';
import { registryWorkflowId, type JobTypeView } from '../src/contract/job-type-declaration.js';
import { registryStateQuery } from '../src/workflows/job-type-registry-messages.js';
import { jobTypeViews } from '../src/workflows/job-type-registry-state.js';
import { TestService } from './support/service.js';
import { until } from './support/until.js';

const fixtureDir = fileURLToPath(new URL('fixtures/python-worker/', import.meta.url));

/** A `durable-jobs worker` process; its output is kept and shown only when a test fails. */
class PythonWorker {
  readonly output: string[] = [];
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
  private constructor(readonly process: ChildProcess) {
    process.stdout!.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    process.stderr!.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    this.exited = once(process, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  }

  static start(python: PythonEnv, args: string[], env: Record<string, string>): PythonWorker {
    return new PythonWorker(
      spawn(python.bin('durable-jobs'), ['worker', ...args], {
        cwd: fixtureDir,
        env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', ...env },
        stdio: 'pipe',
      }),
    );
  }

  get pid(): number {
    return this.process.pid!;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<[number | null, NodeJS.Signals | null]> {
    if (this.running) this.process.kill(signal);
    return this.exited;
  }
}

/** The service and the Python workers started against it. */
class Stack {
  readonly workers: PythonWorker[] = [];
  private readonly client: Client;

  private constructor(
    readonly python: PythonEnv,
    readonly service: TestService,
    private readonly workerEnv: Record<string, string>,
  ) {
    // With the service's codecs, as the API's own client.
    this.client = new Client({
      connection: service.temporal.connection,
      namespace: service.config.TEMPORAL_NAMESPACE,
      dataConverter: { payloadCodecs: service.payloadCodecs },
    });
  }

  static async start(python: PythonEnv, env: Record<string, string> = {}): Promise<Stack> {
    const service = await TestService.start({ workers: { normal: 1 }, env });
    return new Stack(python, service, env);
  }

  get prefix(): string {
    return this.service.config.JOBS_TASK_QUEUE_PREFIX;
  }

  startWorker(args: string[] = [], modules = ['handlers']): PythonWorker {
    const worker = PythonWorker.start(
      this.python,
      [
        ...modules,
        '--queues',
        'high:1,normal:2,low:1',
        '--lease-seconds',
        '3',
        '--shutdown-grace-seconds',
        '1',
        ...args,
      ],
      { TEMPORAL_ADDRESS: this.service.temporal.address, JOBS_TASK_QUEUE_PREFIX: this.prefix, ...this.workerEnv },
    );
    this.workers.push(worker);
    return worker;
  }

  async views(): Promise<JobTypeView[]> {
    const handle = this.client.workflow.getHandle(registryWorkflowId(this.prefix));
    return jobTypeViews(await handle.query(registryStateQuery), Date.now());
  }

  async viewOf(type: string): Promise<JobTypeView | undefined> {
    return (await this.views()).find((view) => view.declaration.name === type);
  }

  /** Submits over REST (POST /api/v1/jobs): the API validates the input against the declaration and applies its defaults. */
  async submit(type: string, input: unknown, priority: JobPriority = 'normal', more: Partial<SubmitJobBody> = {}) {
    const { status, body } = await this.service.submit({ type, input, priority, ...more });
    assert.equal(status, 202, JSON.stringify(body));
    return body.jobId;
  }

  async job(jobId: string): Promise<Job> {
    const { status, body } = await this.service.getJob(jobId);
    assert.equal(status, 200, JSON.stringify(body));
    return body;
  }

  finished(jobId: string, ms = 20_000): Promise<Job> {
    return this.service.waitFor(jobId, ['succeeded', 'failed', 'cancelled', 'timed_out'], ms);
  }

  /** The job workflow's history as stored: what Temporal (and whoever reads its database) sees. */
  history(jobId: string) {
    return this.service.temporal.client.workflow.getHandle(jobId).fetchHistory();
  }

  showOutput(): void {
    for (const worker of this.workers)
      console.error(`--- worker ${worker.pid}\n${worker.output.join('').slice(-6000)}`);
  }

  async teardown(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop('SIGKILL')));
    await this.service.teardown();
  }
}

describe('A Python worker process (durable-jobs worker) against the service', function () {
  let python: PythonEnv;
  let stack: Stack;
  let workers: PythonWorker[];
  const startWorker = (args?: string[], modules?: string[]) => stack.startWorker(args, modules);
  const views = () => stack.views();
  const viewOf = (type: string) => stack.viewOf(type);
  const submit = (...args: Parameters<Stack['submit']>) => stack.submit(...args);
  const job = (jobId: string) => stack.job(jobId);
  const finished = (jobId: string, ms?: number) => stack.finished(jobId, ms);

  before(async function () {
    this.timeout(300_000);
    python = await ensurePythonEnv((line) => console.log(`      ${line}`));
    stack = await Stack.start(python);
    workers = stack.workers;
    startWorker();
    await until(
      'the Python worker declared its types',
      () => viewOf('py.steps'),
      (view) => view?.workers.normal === 1,
      60_000,
    );
  });

  after(async function () {
    await stack?.teardown();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.showOutput();
  });

  it('declares every job type of the module, its input schema from the pydantic model', async function () {
    // The service's own types may be declared beside them.
    const all = (await views()).filter((view) => view.declaration.name.startsWith('py.'));
    assert.deepEqual(
      all.map((view) => view.declaration.name),
      ['py.flaky', 'py.stall', 'py.steps', 'py.sync-steps'],
    );
    const steps = all.find((view) => view.declaration.name === 'py.steps')!;
    assert.deepEqual(steps.workers, { high: 1, normal: 1, low: 1 });
    assert.equal(steps.declaration.inputSchema['$schema'], 'https://json-schema.org/draft/2020-12/schema');
    assert.deepEqual(steps.declaration.inputSchema['required'], ['steps', 'step_ms']);
    assert.equal(steps.declaration.resultSchema?.['title'], 'StepsResult');
    assert.deepEqual(steps.declaration.defaults, {
      timeoutSeconds: 3600,
      heartbeatTimeoutSeconds: 30,
      retry: { maxAttempts: 3, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 60 },
    });
    const sync = all.find((view) => view.declaration.name === 'py.sync-steps')!;
    assert.match(sync.declaration.description, /^The same in a thread/, 'the docstring is the description');
    // A handler worker runs no workflows by design: it starts quietly (the TypeScript SDK's does too).
    const started = workers[0]!.output.join('');
    assert.match(started, /INFO durable_jobs\.worker: serving /);
    assert.doesNotMatch(started, /WARNING|ERROR/, 'a warning at start');
  });

  it('runs a job: running, progress in polls, the result', async function () {
    const jobId = await submit('py.steps', { steps: 8, step_ms: 250 });
    const polled = await until(
      'progress in a poll',
      () => job(jobId),
      (seen) => seen.status === 'running' && (seen.progress?.percent ?? 0) > 0,
    );
    assert.match(polled.progress?.message ?? '', /^step \d$/);
    const final = await finished(jobId);
    assert.equal(final.status, 'succeeded');
    assert.deepEqual(final.result, { steps: 8, tenant: 'default', attempt: 1, pid: workers[0]!.pid, peak: 1 });
    assert.deepEqual(final.progress, { percent: 100, message: 'done' });
  });

  for (const type of ['py.steps', 'py.sync-steps'])
    it(`stops a cancelled ${type === 'py.steps' ? 'async' : 'sync (thread)'} handler within 2 s`, async function () {
      const jobId = await submit(type, { steps: 200, step_ms: 100 });
      await until(
        'running',
        () => job(jobId),
        (seen) => seen.status === 'running' && seen.progress !== null,
      );
      const asked = Date.now();
      const { status } = await stack.service.cancel(jobId);
      assert.ok(status === 200 || status === 202, `cancel answered ${status}`);
      // When the job workflow ends: the API's polls may be up to a second behind it.
      await stack.service.temporal.client.workflow
        .getHandle(jobId)
        .result()
        .catch(() => undefined);
      const took = Date.now() - asked;
      assert.equal((await finished(jobId)).status, 'cancelled');
      assert.ok(took < 2000, `ended ${took} ms after the cancel`);
      console.log(`      cancelled ${took} ms after the cancel`);
    });

  it("shares a priority's slots among its types: 2 normal slots, two types, at most 3 attempts at once", async function () {
    // Eight 1 s jobs, four of each type (one async, one in threads): with a pool per type they would run 4 at once;
    // each type's open poll may bring one attempt past a full pool (capacity + types - 1), never more.
    const began = Date.now();
    const jobIds = await Promise.all(
      ['py.steps', 'py.sync-steps'].flatMap((type) =>
        Array.from({ length: 4 }, () => submit(type, { steps: 4, step_ms: 250 })),
      ),
    );
    const finals = await Promise.all(jobIds.map((jobId) => finished(jobId)));
    const seconds = (Date.now() - began) / 1000;
    assert.deepEqual(new Set(finals.map((final) => final.status)), new Set(['succeeded']));
    const peak = Math.max(...finals.map((final) => (final.result as { peak: number }).peak));
    console.log(`      8 jobs of 1 s on 2 slots shared by 2 types: ${seconds.toFixed(1)} s, at most ${peak} at once`);
    assert.ok(peak <= 3, `at most capacity + types - 1 at once, not ${peak}`);
    assert.ok(peak >= 2, 'both slots were used');
    assert.ok(seconds >= 8 / 3, `no more than 3 at once: ${seconds} s`);
  });

  it("lets one busy type use every slot of its priority while the worker's other types idle", async function () {
    // Four 1 s jobs of one type on 2 normal slots: two run at once, though the three idle types each hold an open
    // poll of the pool. The SDK asks a worker's next reservation before it marks the last one used; that ask, refused
    // while its own poll was open, must be granted once the attempt is marked as running, not at the next release.
    const began = Date.now();
    const jobIds = await Promise.all(Array.from({ length: 4 }, () => submit('py.steps', { steps: 4, step_ms: 250 })));
    const finals = await Promise.all(jobIds.map((jobId) => finished(jobId)));
    const seconds = (Date.now() - began) / 1000;
    assert.deepEqual(new Set(finals.map((final) => final.status)), new Set(['succeeded']));
    const peak = Math.max(...finals.map((final) => (final.result as { peak: number }).peak));
    console.log(`      4 jobs of 1 s of one type on 2 slots: ${seconds.toFixed(1)} s, at most ${peak} at once`);
    assert.equal(peak, 2, `one busy type runs as many attempts as the priority has slots, not ${peak}`);
  });

  it('retries a raised exception with backoff, then succeeds', async function () {
    const began = Date.now();
    const final = await finished(await submit('py.flaky', { fail_attempts: 2 }));
    const took = Date.now() - began;
    assert.equal(final.status, 'succeeded');
    assert.equal(final.attempt, 3);
    assert.deepEqual(final.result, { attempt: 3 });
    // Backoff of the declaration: 0.5 s, then 1 s.
    assert.ok(took >= 1500, `3 attempts with 0.5 s and 1 s between them took ${took} ms`);
  });

  it('fails at once on an UnrecoverableError', async function () {
    const final = await finished(await submit('py.flaky', { fail_attempts: 3, unrecoverable: true }));
    assert.equal(final.status, 'failed');
    assert.equal(final.attempt, 1);
    assert.deepEqual(final.error, { type: 'UnrecoverableError', message: 'planned failure of attempt 1' });
  });

  it('times out a handler that blocks the event loop, as heartbeatTimeoutSeconds says', async function () {
    // py.stall declares heartbeat_timeout_seconds=2 and blocks the loop for 8 s: nothing heartbeats meanwhile.
    const began = Date.now();
    const jobId = await submit('py.stall', { seconds: 8 });
    const final = await finished(jobId, 10_000);
    const took = Date.now() - began;
    assert.equal(final.status, 'timed_out');
    assert.equal(final.error?.type, 'HeartbeatTimeout');
    assert.ok(took < 7000, `timed out ${took} ms after the submit, before the handler returned`);
    console.log(`      heartbeat timeout of 2 s: timed_out ${took} ms after the submit`);
    // The stall outlived the 3 s lease: the next renewal is refused (WorkerNotDeclared) and the worker declares
    // again, counting once more.
    await until(
      'declared again',
      () => Promise.resolve(workers[0]!.output.join('').match(/declared its job types/g)?.length ?? 0),
      (count) => count >= 2,
      10_000,
    );
    await until(
      'counted again',
      () => viewOf('py.steps'),
      (view) => view?.workers.normal === 1,
    );
  });

  it("declares again when the registry's run has ended (an operator terminated it), which starts a new one", async function () {
    const registry = stack.service.temporal.client.workflow.getHandle(registryWorkflowId(stack.prefix));
    const ended = (await registry.describe()).runId;
    const declarations = () =>
      Promise.resolve(workers[0]!.output.join('').match(/declared its job types/g)?.length ?? 0);
    const before = await declarations();
    await registry.terminate('the registry ended under its workers');
    // A renewal of a registry that has ended answers NOT_FOUND rather than WorkerNotDeclared: Update-With-Start
    // is what starts the registry again.
    await until('declared again', declarations, (count) => count > before, 15_000);
    assert.notEqual((await registry.describe()).runId, ended, 'a new run of the registry');
    await until(
      'counted again',
      () => viewOf('py.steps'),
      (view) => view?.workers.normal === 1,
    );
  });

  it('runs a high job ahead of a queue of low ones', async function () {
    // One low slot, four 3 s low jobs queued; the high job has its own slot and task queue. 3 s: within the high
    // job's 5 s at most one more low job starts, on a busy machine too (of 1 s ones, three could).
    const lows: string[] = [];
    for (let index = 0; index < 4; index++) lows.push(await submit('py.steps', { steps: 12, step_ms: 250 }, 'low'));
    // The queue's order among equal priorities is Temporal's: wait for whichever low job runs first.
    await until(
      'a low job running',
      () => Promise.all(lows.map(async (jobId) => (await job(jobId)).status)),
      (statuses) => statuses.includes('running'),
    );
    const high = await submit('py.steps', { steps: 1, step_ms: 100 }, 'high');
    assert.equal((await finished(high, 5000)).status, 'succeeded');
    const lowStatuses = await Promise.all(lows.map(async (jobId) => (await job(jobId)).status));
    assert.ok(lowStatuses.filter((status) => status === 'queued').length >= 2, `lows: ${lowStatuses.join(', ')}`);
    for (const jobId of lows) assert.equal((await finished(jobId)).status, 'succeeded');
  });

  /** The worker running a job's attempt now: its identity names its process (host:pid:random, type/priority). */
  async function runnerOf(jobId: string): Promise<PythonWorker> {
    const description = await stack.service.temporal.client.workflow.getHandle(jobId).describe();
    const identity = description.raw.pendingActivities?.[0]?.lastWorkerIdentity;
    const runner = workers.find((worker) => worker.running && identity?.includes(`:${worker.pid}:`));
    assert.ok(runner, `the worker running it: ${identity}`);
    return runner;
  }

  it('SIGTERM gives a running thread handler the grace time, cancels it, exits 0; the job runs again elsewhere', async function () {
    this.timeout(60_000);
    startWorker(['--queues', 'normal:1']);
    await until(
      'a second worker declared',
      () => viewOf('py.steps'),
      (view) => view?.workers.normal === 2,
    );
    const jobId = await submit('py.sync-steps', { steps: 30, step_ms: 200 });
    await until(
      'running',
      () => job(jobId),
      (seen) => (seen.progress?.percent ?? 0) > 0,
    );
    const runner = await runnerOf(jobId);
    const asked = Date.now();
    const [code] = await runner.stop('SIGTERM');
    const took = Date.now() - asked;
    assert.equal(code, 0, runner.output.join(''));
    // --shutdown-grace-seconds 1, then the cancel reaches the thread through ctx.cancelled.
    assert.ok(took < 4000, `exited ${took} ms after SIGTERM`);
    const final = await finished(jobId, 30_000);
    assert.equal(final.status, 'succeeded');
    assert.equal(final.attempt, 2);
    const survivor = workers.find((worker) => worker.running)!;
    assert.equal((final.result as { pid: number }).pid, survivor.pid);
  });

  it('a SIGKILLed worker’s job is finished by another instance; SIGTERM leaves at once and exits 0', async function () {
    this.timeout(60_000);
    startWorker(['--queues', 'normal:1']);
    await until(
      'a second worker declared',
      () => viewOf('py.steps'),
      (view) => view?.workers.normal === 2,
    );
    // A short heartbeat timeout so that the killed attempt is noticed in 2 s.
    const jobId = await submit('py.steps', { steps: 30, step_ms: 200 }, 'normal', { heartbeatTimeoutSeconds: 2 });
    await until(
      'running',
      () => job(jobId),
      (seen) => (seen.progress?.percent ?? 0) > 0,
    );
    const killed = await runnerOf(jobId);
    const survivor = workers.find((worker) => worker.running && worker !== killed)!;
    await killed.stop('SIGKILL');
    const final = await finished(jobId, 30_000);
    assert.equal(final.status, 'succeeded');
    assert.equal(final.attempt, 2);
    assert.equal((final.result as { pid: number }).pid, survivor.pid);

    const [code] = await survivor.stop('SIGTERM');
    assert.equal(code, 0, survivor.output.join(''));
    const left = await viewOf('py.steps');
    assert.equal(left?.workers.normal, 0, 'left the registry before exiting (the killed one’s lease ran out)');
  });

  it('abandons at the stop attempts that ignore their cancellation, async and thread: names them, exits 3; their jobs run again elsewhere', async function () {
    this.timeout(60_000);
    // Workers of their own for these types (test/fixtures/python-worker/stubborn.py).
    const stopping = startWorker(['--queues', 'normal:2', '--shutdown-force-seconds', '1'], ['stubborn']);
    await until(
      'declared',
      () => viewOf('py.stubborn'),
      (view) => view?.workers.normal === 1,
    );
    const types = ['py.stubborn', 'py.sync-stubborn'];
    const jobIds = await Promise.all(
      types.map((type) => submit(type, { seconds: 15 }, 'normal', { heartbeatTimeoutSeconds: 2 })),
    );
    for (const jobId of jobIds)
      await until(
        'running',
        () => job(jobId),
        (seen) => seen.status === 'running',
      );
    const survivor = startWorker(['--queues', 'normal:2'], ['stubborn']);
    await until(
      'a second worker declared',
      () => viewOf('py.stubborn'),
      (view) => view?.workers.normal === 2,
    );
    const asked = Date.now();
    const [code] = await stopping.stop('SIGTERM');
    const took = Date.now() - asked;
    const output = stopping.output.join('');
    assert.equal(code, 3, output);
    // --shutdown-grace-seconds 1, then 1 s for the cancelled attempts to end; they hold 15 s.
    assert.ok(took < 4000, `exited ${took} ms after SIGTERM`);
    for (const [index, type] of types.entries())
      assert.match(
        output,
        new RegExp(
          `ERROR durable_jobs\\.worker: abandoned attempt 1 of job ${jobIds[index]} \\(${type}\\): .* its job retries it after its heartbeat timeout`,
        ),
      );
    for (const jobId of jobIds) {
      const final = await finished(jobId, 30_000);
      assert.equal(final.status, 'succeeded');
      assert.equal(final.attempt, 2);
      assert.equal((final.result as { pid: number }).pid, survivor.pid);
      // The abandoned attempt's heartbeats stopped with its process: Temporal timed it out, the job retried it.
      const timeouts = (await stack.history(jobId)).events!.map(
        (event) => event.activityTaskTimedOutEventAttributes?.failure?.timeoutFailureInfo?.timeoutType,
      );
      assert.ok(
        timeouts.includes(proto.temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT),
        'a heartbeat timeout',
      );
    }
    const [survivorCode] = await survivor.stop('SIGTERM');
    assert.equal(survivorCode, 0, 'a worker with nothing running exits 0 as before');
  });

  it('reads and writes payloads the TypeScript codec writes and reads (AES-256-GCM)', async function () {
    const key = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
    const codec = new PayloadEncryptionCodec(parsePayloadKey(key));
    const [fromTs] = await codec.encode([defaultPayloadConverter.toPayload({ from: 'TypeScript', n: 1 })]);
    const script = `
import asyncio, sys
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter
from durable_jobs.payload_codec import PayloadEncryptionCodec, parse_payload_key
codec = PayloadEncryptionCodec(parse_payload_key(sys.argv[1]))
async def main():
    given = Payload(); given.ParseFromString(bytes.fromhex(sys.argv[2]))
    [plain] = await codec.decode([given])
    value = DataConverter.default.payload_converter.from_payload(plain)
    assert value == {"from": "TypeScript", "n": 1}, value
    [sealed] = await codec.encode(DataConverter.default.payload_converter.to_payloads([{"from": "Python", "n": 2}]))
    print(sealed.SerializeToString().hex())
asyncio.run(main())
`;
    const encoded = proto.temporal.api.common.v1.Payload;
    const run = await runCommand(python.bin('python'), [
      '-c',
      script,
      key,
      Buffer.from(encoded.encode(fromTs!).finish()).toString('hex'),
    ]);
    assert.equal(run.code, 0, run.output);
    const fromPython = encoded.decode(Buffer.from(run.output.trim(), 'hex'));
    assert.equal(Buffer.from(fromPython.metadata['encoding']!).toString(), 'binary/encrypted');
    const [plain] = await codec.decode([fromPython]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(plain!), { from: 'Python', n: 2 });
  });
});

describe('A Python worker process with PAYLOAD_ENCRYPTION_KEY', function () {
  let stack: Stack;
  const key = 'c0ffee'.padEnd(64, '0');

  before(async function () {
    this.timeout(300_000);
    stack = await Stack.start(await ensurePythonEnv(), { PAYLOAD_ENCRYPTION_KEY: key });
    stack.startWorker();
    // The declaration is an encrypted update: the registry reads it only if the codecs agree.
    await until(
      'declared through the codec',
      () => stack.viewOf('py.steps'),
      (view) => view?.workers.normal === 1,
      60_000,
    );
  });

  after(async function () {
    await stack?.teardown();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') stack.showOutput();
  });

  it('reads encrypted inputs and writes results and failures the service reads back, none in clear text', async function () {
    const succeeded = await stack.finished(await stack.submit('py.steps', { steps: 2, step_ms: 10 }));
    assert.equal(succeeded.status, 'succeeded');
    assert.equal((succeeded.result as { steps: number }).steps, 2);

    const jobId = await stack.submit('py.flaky', { fail_attempts: 1, unrecoverable: true });
    const failed = await stack.finished(jobId);
    assert.deepEqual(failed.error, { type: 'UnrecoverableError', message: 'planned failure of attempt 1' });

    const { events } = await stack.history(jobId);
    const scheduled = events?.find(
      (event) => event.activityTaskScheduledEventAttributes,
    )?.activityTaskScheduledEventAttributes;
    const encodings = scheduled?.input?.payloads?.map((payload) =>
      Buffer.from(payload.metadata!['encoding']!).toString(),
    );
    assert.deepEqual(encodings, ['binary/encrypted', 'binary/encrypted'], 'the attempt’s input and info');
    const failure = events?.find((event) => event.activityTaskFailedEventAttributes)?.activityTaskFailedEventAttributes
      ?.failure;
    assert.equal(failure?.message, 'Encoded failure', 'the message moved into the encrypted attributes');
    assert.equal(Buffer.from(failure?.encodedAttributes?.metadata?.['encoding'] ?? []).toString(), 'binary/encrypted');
  });
});
