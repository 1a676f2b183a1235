// The job type registry workflow on the dev server: what handler workers declare, how long they count as live, and
// what a rolling upgrade's two declarations of one type look like to the API.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import {
  registryMaxBytes,
  registryTaskQueue,
  registryWorkflowId,
  workerNotDeclaredErrorType,
  workerProtocolVersion,
  type DeclareWorker,
  type JobTypeDeclaration,
  type RegistryInput,
} from '../src/contract/job-type-declaration.js';
import { startDevServer } from '../dev/temporal/dev-server.js';
import { RegistryLease } from '../packages/worker/src/registry.js';
import type { jobTypeRegistryWorkflow } from '../src/workflows/job-type-registry.js';
import {
  declareWorkerUpdate,
  leaveUpdate,
  registryStateQuery,
  renewLeaseUpdate,
} from '../src/workflows/job-type-registry-messages.js';
import { jobTypeViews, registryFullErrorType } from '../src/workflows/job-type-registry-state.js';
import { until } from './support/until.js';

const primesV1: JobTypeDeclaration = {
  name: 'primes',
  description: 'Counts the primes below a bound.',
  inputSchema: { type: 'object', properties: { below: { type: 'integer' } }, required: ['below'] },
  resultSchema: null,
  defaults: {
    timeoutSeconds: 600,
    heartbeatTimeoutSeconds: 10,
    retry: { maxAttempts: 3, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 60 },
  },
};
const primesV2: JobTypeDeclaration = {
  ...primesV1,
  inputSchema: { ...primesV1.inputSchema, properties: { below: { type: 'integer' }, above: { type: 'integer' } } },
};

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error };

describe('The job type registry keeps what live handler workers declare', function () {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundle;
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;
  let prefix: string;

  before(async function () {
    env = await startDevServer();
    client = env.client;
    bundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../src/workflows/job-type-registry.ts', import.meta.url)),
      logger: quiet,
    });
  });
  after(async function () {
    await env?.teardown();
  });

  // Each test has its own prefix, so its own registry, served by its own worker.
  beforeEach(async function () {
    prefix = `registry-${randomUUID().slice(0, 8)}`;
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: registryTaskQueue(prefix),
      workflowBundle: bundle,
    });
    running = worker.run();
  });
  afterEach(async function () {
    worker.shutdown();
    await running;
  });

  function declaration(workerId: string, jobTypes: JobTypeDeclaration[], more: Partial<DeclareWorker> = {}) {
    return {
      protocolVersion: workerProtocolVersion,
      workerId,
      identity: `test ${workerId}`,
      jobTypes,
      queues: { high: 2, normal: 4 },
      leaseSeconds: 30,
      ...more,
    } satisfies DeclareWorker;
  }

  function declare(message: DeclareWorker, input: RegistryInput = { state: null }) {
    return client.workflow.executeUpdateWithStart(declareWorkerUpdate, {
      args: [message],
      startWorkflowOperation: new WithStartWorkflowOperation<typeof jobTypeRegistryWorkflow>(
        'jobTypeRegistryWorkflow',
        {
          workflowId: registryWorkflowId(prefix),
          taskQueue: registryTaskQueue(prefix),
          workflowIdConflictPolicy: 'USE_EXISTING',
          args: [input],
        },
      ),
    });
  }

  const registry = () => client.workflow.getHandle(registryWorkflowId(prefix));
  const views = async () => jobTypeViews(await registry().query(registryStateQuery), Date.now());

  it('a first declaration starts the registry; the type shows with its live workers per priority', async function () {
    const result = await declare(declaration('a', [primesV1]));
    assert.deepEqual(result.differing, []);
    const [primes, ...others] = await views();
    assert.deepEqual(others, []);
    assert.deepEqual(primes?.declaration, primesV1);
    assert.deepEqual(primes?.workers, { high: 1, normal: 1, low: 0 });
    assert.equal(primes?.liveVariants, 1);
  });

  it('the same declaration again, by the same worker or another, is one variant with more workers', async function () {
    await declare(declaration('a', [primesV1]));
    await declare(declaration('a', [primesV1]));
    await declare(declaration('b', [primesV1], { queues: { low: 1 } }));
    const state = await registry().query(registryStateQuery);
    assert.equal(state.types['primes']?.length, 1);
    assert.deepEqual((await views())[0]?.workers, { high: 1, normal: 1, low: 1 });
  });

  it('a rolling upgrade: the newer declaration is in force while both are live, the older one again once the newer workers leave', async function () {
    await declare(declaration('old', [primesV1]));
    const upgraded = await declare(declaration('new', [primesV2]));
    assert.deepEqual(upgraded.differing, [{ name: 'primes', otherWorkers: 1 }]);
    let [primes] = await views();
    assert.deepEqual(primes?.declaration, primesV2);
    assert.equal(primes?.liveVariants, 2);
    assert.deepEqual(primes?.workers, { high: 2, normal: 2, low: 0 });

    // A canary rolled back: its workers leave, and the declaration the old workers serve is in force again.
    await registry().executeUpdate(leaveUpdate, { args: [{ workerId: 'new' }] });
    [primes] = await views();
    assert.deepEqual(primes?.declaration, primesV1);
    assert.equal(primes?.liveVariants, 1);

    // Upgrade finished: the old workers are gone, the new ones alone stay, and the old variant is dropped.
    await declare(declaration('new-2', [primesV2]));
    await registry().executeUpdate(leaveUpdate, { args: [{ workerId: 'old' }] });
    const state = await registry().query(registryStateQuery);
    assert.deepEqual(
      state.types['primes']?.map((variant) => variant.declaration),
      [primesV2],
    );
  });

  it('a worker that stops renewing stops counting when its lease runs out, and must declare again', async function () {
    await declare(declaration('kept', [primesV1], { leaseSeconds: 2 }));
    await declare(declaration('killed', [primesV1], { leaseSeconds: 2, queues: { low: 1 } }));
    for (let renewals = 0; renewals < 4; renewals++) {
      await new Promise((resolve) => setTimeout(resolve, 700));
      await registry().executeUpdate(renewLeaseUpdate, { args: [{ workerId: 'kept' }] });
    }
    const [primes] = await views();
    assert.deepEqual(primes?.workers, { high: 1, normal: 1, low: 0 }, 'the killed worker no longer counts');

    const refused = await registry()
      .executeUpdate(renewLeaseUpdate, { args: [{ workerId: 'killed' }] })
      .catch((err: unknown) => err);
    assert.ok(refused instanceof WorkflowUpdateFailedError, `refused: ${String(refused)}`);
    assert.ok(refused.cause instanceof ApplicationFailure);
    assert.equal(refused.cause.type, workerNotDeclaredErrorType);

    // Once every worker is gone the type is still known, with no workers: its jobs wait queued.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const [alone] = await views();
    assert.deepEqual(alone?.declaration, primesV1);
    assert.deepEqual(alone?.workers, { high: 0, normal: 0, low: 0 });
  });

  it('a malformed declaration is rejected and leaves the registry as it was', async function () {
    await declare(declaration('a', [primesV1]));
    const bad = { ...declaration('b', [{ ...primesV1, name: 'Not A Name' }]) };
    const refused = await declare(bad).catch((err: unknown) => err);
    assert.ok(refused instanceof WorkflowUpdateFailedError, `refused: ${String(refused)}`);
    assert.match((refused.cause as Error).message, /name/);
    const state = await registry().query(registryStateQuery);
    assert.deepEqual(Object.keys(state.workers), ['a']);
  });

  it('continues as new past its history limit, carrying every type and lease', async function () {
    await declare(declaration('a', [primesV1]), { state: null, historyLimit: 20 });
    await declare(declaration('b', [primesV2]), { state: null, historyLimit: 20 });
    const firstRun = (await registry().describe()).runId;
    for (let renewals = 0; renewals < 8; renewals++)
      await registry().executeUpdate(renewLeaseUpdate, { args: [{ workerId: 'a' }] });
    // The continued run answers the next message; it keeps the limit it was started with.
    await registry().executeUpdate(renewLeaseUpdate, { args: [{ workerId: 'b' }] });
    const description = await registry().describe();
    assert.notEqual(description.runId, firstRun, 'a new run');
    const state = await registry().query(registryStateQuery);
    assert.deepEqual(Object.keys(state.workers).sort(), ['a', 'b']);
    assert.deepEqual(
      state.types['primes']?.map((variant) => variant.revision),
      [1, 2],
    );
    const [primes] = jobTypeViews(state, Date.now());
    assert.deepEqual(primes?.declaration, primesV2);
  });

  /** Keeps a lease of `workerId` (with `more` in its declaration) while `body` runs, then stops it. */
  async function whileLeaseKept(
    workerId: string,
    more: Partial<DeclareWorker>,
    log: typeof quiet,
    body: (lease: RegistryLease, stop: AbortSignal) => Promise<void>,
  ): Promise<void> {
    const stop = new AbortController();
    const lease = new RegistryLease(client, prefix, declaration(workerId, [primesV1], more), log);
    const kept = lease.keep(stop.signal);
    try {
      await body(lease, stop.signal);
    } finally {
      stop.abort();
      await kept;
    }
  }

  it('a worker the registry refuses is told why, not that the registry is out of reach', async function () {
    const said: string[] = [];
    const heard = (message: string): void => {
      said.push(message);
    };
    // Leases are 2–300 s long: the registry's validator refuses 1.
    await whileLeaseKept('hasty', { leaseSeconds: 1 }, { ...quiet, warn: heard, error: heard }, async () => {
      const [first] = await until(
        'a line logged',
        () => Promise.resolve([...said]),
        (lines) => lines.length > 0,
      );
      assert.match(first!, /registry refuses this worker: .*leaseSeconds/s);
    });
  });

  it("a worker's lease says so every lease while the registry's worker is down, and nothing more once stopped", async function () {
    // A prefix whose registry nobody runs, as while the service's worker is down: an update waits for that worker
    // without an error, for as long as it is down.
    prefix = `${prefix}-unserved`;
    const said: string[] = [];
    const heard = (message: string): void => {
      said.push(message);
    };
    await whileLeaseKept('unanswered', { leaseSeconds: 2 }, { ...quiet, warn: heard, error: heard }, async () => {
      await until(
        'two lines logged',
        () => Promise.resolve([...said]),
        (lines) => lines.length >= 2,
        10_000,
      );
    });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.deepEqual(
      said.map((line) => line.split(' (')[0]),
      ['the job type registry has not answered for 2 s', 'the job type registry has not answered for 4 s'],
    );
  });

  it("a worker's lease declares again when the registry's run has ended (an operator terminated it), which starts a new one", async function () {
    await whileLeaseKept('outlived', { leaseSeconds: 2 }, quiet, async (lease) => {
      await lease.declared;
      const ended = (await registry().describe()).runId;
      await registry().terminate('the registry ended under its workers');
      // A renewal of a registry whose run has ended is answered NOT_FOUND, not WorkerNotDeclared: only a declaration
      // (Update-With-Start) starts it again.
      await until(
        'declared to a new run of the registry',
        async () => {
          const description = await registry().describe();
          if (description.runId === ended || description.status.name !== 'RUNNING') return undefined;
          return Object.keys((await registry().query(registryStateQuery)).workers);
        },
        (workers) => workers.includes('outlived'),
        10_000,
      );
    });
  });

  it("a worker's lease kept for its whole life holds nothing more on its stop signal per renewal", async function () {
    await whileLeaseKept('long-lived', { leaseSeconds: 2 }, quiet, async (lease, stop) => {
      await lease.declared;
      // A renewal every 667 ms: six in four seconds.
      await new Promise((resolve) => setTimeout(resolve, 4000));
      const updates = (await registry().fetchHistory()).events?.filter(
        (event) => event.workflowExecutionUpdateAcceptedEventAttributes,
      );
      assert.ok((updates?.length ?? 0) >= 5, `a declaration and ${(updates?.length ?? 1) - 1} renewals`);
      // Only the wait for the next renewal listens; the calls made so far left nothing behind.
      const listeners = getEventListeners(stop, 'abort').length;
      assert.ok(listeners <= 1, `${listeners} listeners`);
    });
  });

  describe('stays within its byte budget, whatever type names workers declare over time', function () {
    /** `count` types named `<group>-<n>`, each with a 16 KiB input schema: 20 take about 330 KiB of the state. */
    const bulkyTypes = (group: string, count = 20): JobTypeDeclaration[] =>
      Array.from({ length: count }, (_, index) => ({
        ...primesV1,
        name: `${group}-${index}`,
        inputSchema: { type: 'object', description: 'x'.repeat(16 * 1024) },
      }));
    const stateBytes = async () => JSON.stringify(await registry().query(registryStateQuery)).length;

    it('drops the types no live worker serves, the longest undeclared first, and refuses a worker with no room left', async function () {
      const input = { state: null, historyLimit: 20 };
      for (const group of ['a', 'b', 'c']) await declare(declaration(group, bulkyTypes(group)), input);

      // Live workers hold 1 MB: a fourth one's types would pass the budget, and it is told so and what to do.
      const refused = await declare(declaration('d', bulkyTypes('d')), input).catch((err: unknown) => err);
      assert.ok(refused instanceof WorkflowUpdateFailedError, `refused: ${String(refused)}`);
      assert.ok(refused.cause instanceof ApplicationFailure);
      assert.equal(refused.cause.type, registryFullErrorType);
      assert.match(refused.cause.message, /at most 1024 KiB .* declare fewer types or smaller schemas/);

      // Once a and b are gone, their types make room, a's first: a worker renaming its types never fills the registry.
      for (const workerId of ['a', 'b']) await registry().executeUpdate(leaveUpdate, { args: [{ workerId }] });
      await declare(declaration('d', bulkyTypes('d')), input);
      await declare(declaration('e', bulkyTypes('e', 10)), input);
      const state = await registry().query(registryStateQuery);
      const groups = new Set(Object.keys(state.types).map((name) => name.split('-')[0]));
      assert.deepEqual([...groups].sort(), ['b', 'c', 'd', 'e']);
      assert.ok(Object.keys(state.types).length < 70, `${Object.keys(state.types).length} types kept`);
      assert.ok((await stateBytes()) <= registryMaxBytes, `${await stateBytes()} bytes`);

      // Its state carries on past its history limit, and the registry still answers.
      for (let renewals = 0; renewals < 6; renewals++)
        await registry().executeUpdate(renewLeaseUpdate, { args: [{ workerId: 'c' }] });
      await registry().executeUpdate(renewLeaseUpdate, { args: [{ workerId: 'e' }] });
      const [first] = (await registry().fetchHistory()).events ?? [];
      assert.ok(first?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId, 'a continued run');
      assert.ok((await stateBytes()) <= registryMaxBytes);
    });
  });
});
