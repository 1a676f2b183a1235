// Ways a job ends, run on the time-skipping server: recorded as history fixtures for the replay test by
// test/record-histories.ts, and run live by the time-skipping suite where it checks their timing.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import type { JobStatus } from '../../src/contract/job.js';
import { callbackWorkflowIdOf } from '../../src/workflows/job-state.js';
import { workflowVersion } from '../../src/workflows/version.js';
import {
  attemptScheduledTimes,
  eventually,
  jobOutcome,
  skipToShortlyBefore,
  stallingJobType,
  timerStartTimes,
  waitForJobState,
  type JobHandle,
  type JobOutcome,
  type JobSpec,
  type JobWorkflowTestbed,
} from './time-skipping.js';

export interface JobScenario {
  /** Also the name of its job's history fixture (see `historyFixturesOf`). */
  readonly name: string;
  readonly job: JobSpec;
  /** With a parent's children's ends, in the order of `job.children`. */
  readonly ends: { readonly status: JobStatus; readonly attempt: number; readonly children?: readonly JobStatus[] };
  /** How its callback's delivery ends, when the job has a callback: delivered unless said otherwise. */
  readonly delivery?: 'delivered' | 'refused';
  /** Whatever the test must do, beyond awaiting the end, for the job to end this way. */
  drive?(testbed: JobWorkflowTestbed, handle: JobHandle): Promise<void>;
}

const noRetry = { maxAttempts: 1, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 3600 };
const day = 24 * 3600;

/**
 * Cancels a delayed job once its delay's timer has started. Server time passes at wall-clock speed until the end is
 * awaited, so the job is still in its day of delay.
 */
async function cancelInDelay(_testbed: JobWorkflowTestbed, handle: JobHandle): Promise<void> {
  await eventually(
    () => handle.fetchHistory(),
    (history) => timerStartTimes(history).length === 1,
    'the delay starting',
  );
  await handle.cancel();
}

export const jobScenarios: readonly JobScenario[] = [
  {
    name: 'success',
    job: { type: 'sleep', input: { seconds: 0, message: 'done' }, retry: noRetry },
    ends: { status: 'succeeded', attempt: 1 },
  },
  {
    name: 'retry-then-success',
    job: {
      type: 'sleep',
      input: { seconds: 0, failAttempts: 1 },
      retry: { ...noRetry, maxAttempts: 3, initialIntervalSeconds: 30 },
    },
    ends: { status: 'succeeded', attempt: 2 },
  },
  {
    name: 'non-retryable-failure',
    job: {
      type: 'sleep',
      input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' },
      retry: { ...noRetry, maxAttempts: 3 },
    },
    ends: { status: 'failed', attempt: 1 },
  },
  {
    name: 'timeout',
    // Heartbeats are sent in wall time and cannot keep up with skipped time: a heartbeat timeout no shorter than
    // the attempt's leaves the attempt's own timeout as the one that fires.
    job: {
      type: 'sleep',
      input: { seconds: 7200 },
      timeoutSeconds: 3600,
      heartbeatTimeoutSeconds: 3600,
      retry: noRetry,
    },
    ends: { status: 'timed_out', attempt: 1 },
    async drive(testbed, handle) {
      await waitForJobState(handle, (state) => state.status === 'running', 'the attempt starting');
      const [scheduledAt] = attemptScheduledTimes(await handle.fetchHistory());
      await skipToShortlyBefore(testbed.env, scheduledAt! + 3600_000);
    },
  },
  {
    name: 'cancel-during-backoff',
    job: {
      type: 'sleep',
      input: { seconds: 0, failAttempts: 100 },
      retry: { ...noRetry, maxAttempts: 5, initialIntervalSeconds: 3600 },
    },
    ends: { status: 'cancelled', attempt: 1 },
    async drive(_testbed, handle) {
      // Server time passes at wall-clock speed until the end is awaited: the job is still in its hour of backoff.
      await waitForJobState(
        handle,
        (state) => state.status === 'queued' && state.attempt === 1,
        'the first attempt failing',
      );
      await handle.cancel();
    },
  },
  {
    name: 'delayed',
    // Awaiting the end lets the server skip the day: nothing else is outstanding while the delay's timer runs.
    job: { type: 'sleep', input: { seconds: 0 }, retry: noRetry, delaySeconds: day },
    ends: { status: 'succeeded', attempt: 1 },
  },
  {
    name: 'cancel-during-delay',
    job: { type: 'sleep', input: { seconds: 0 }, retry: noRetry, delaySeconds: day },
    ends: { status: 'cancelled', attempt: 0 },
    drive: cancelInDelay,
  },
  {
    name: 'parent-with-children',
    job: {
      type: 'sleep',
      input: { seconds: 0 },
      retry: noRetry,
      onChildFailure: 'continue',
      children: [
        { type: 'sleep', input: { seconds: 0 }, retry: noRetry },
        { type: 'sleep', input: { seconds: 0, failAttempts: 1 }, retry: noRetry },
      ],
    },
    ends: { status: 'succeeded', attempt: 1, children: ['succeeded', 'failed'] },
  },
  {
    name: 'callback',
    job: { type: 'sleep', input: { seconds: 0 }, retry: noRetry, callback: true },
    ends: { status: 'succeeded', attempt: 1 },
  },
  {
    name: 'cancel-running-attempt',
    // A short heartbeat timeout, since the attempt learns of the cancel only from the answer to a heartbeat.
    job: { type: 'sleep', input: { seconds: 600 }, heartbeatTimeoutSeconds: 2, retry: noRetry },
    ends: { status: 'cancelled', attempt: 1 },
    async drive(_testbed, handle) {
      await waitForJobState(handle, (state) => state.status === 'running', 'the attempt starting');
      await handle.cancel();
    },
  },
  {
    name: 'child-failure-cancels-siblings',
    job: {
      type: 'sleep',
      input: { seconds: 0 },
      retry: noRetry,
      onChildFailure: 'fail',
      children: [
        { type: 'sleep', input: { seconds: 0, failAttempts: 1 }, retry: noRetry },
        { type: 'sleep', input: { seconds: 600 }, heartbeatTimeoutSeconds: 2, retry: noRetry },
      ],
    },
    ends: { status: 'failed', attempt: 0, children: ['failed', 'cancelled'] },
  },
  {
    name: 'cancel-parent-with-children',
    job: {
      type: 'sleep',
      input: { seconds: 0 },
      retry: noRetry,
      children: [
        { type: 'sleep', input: { seconds: 600 }, heartbeatTimeoutSeconds: 2, retry: noRetry },
        { type: 'sleep', input: { seconds: 600 }, heartbeatTimeoutSeconds: 2, retry: noRetry },
      ],
    },
    ends: { status: 'cancelled', attempt: 0, children: ['cancelled', 'cancelled'] },
    async drive(testbed, handle) {
      const { children } = await waitForJobState(handle, (state) => state.children !== null, 'the parent starting');
      for (const child of children!) {
        const childHandle: JobHandle = testbed.env.client.workflow.getHandle(child.jobId);
        await waitForJobState(childHandle, (state) => state.status === 'running', `child ${child.jobId} running`);
      }
      await handle.cancel();
    },
  },
  {
    name: 'heartbeat-timeout',
    job: {
      type: stallingJobType,
      input: {},
      timeoutSeconds: 3600,
      heartbeatTimeoutSeconds: 300,
      retry: { ...noRetry, maxAttempts: 2, initialIntervalSeconds: 60 },
    },
    ends: { status: 'succeeded', attempt: 2 },
    async drive(testbed, handle) {
      await waitForJobState(handle, (state) => state.status === 'running' && state.attempt === 1, 'attempt 1 starting');
      const [scheduledAt] = attemptScheduledTimes(await handle.fetchHistory());
      await skipToShortlyBefore(testbed.env, scheduledAt! + 300_000);
    },
  },
  {
    name: 'scheduled-run',
    // The testbed counts no other unfinished job for any tenant: a cap above 0 lets the run go on.
    job: { type: 'sleep', input: { seconds: 0 }, retry: noRetry, scheduled: true, unfinishedCap: 10 },
    ends: { status: 'succeeded', attempt: 1 },
  },
  {
    name: 'scheduled-run-at-cap',
    job: { type: 'sleep', input: { seconds: 0 }, retry: noRetry, scheduled: true, unfinishedCap: 0 },
    ends: { status: 'cancelled', attempt: 0 },
  },
  {
    name: 'second-run',
    // A retried job's run 2: it fails once more and backs off before it succeeds.
    job: {
      type: 'sleep',
      input: { seconds: 0, failAttempts: 1 },
      retry: { ...noRetry, maxAttempts: 2, initialIntervalSeconds: 45 },
      run: 2,
    },
    ends: { status: 'succeeded', attempt: 2 },
  },
  {
    name: 'callback-after-failure',
    job: {
      type: 'sleep',
      input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' },
      retry: noRetry,
      callback: true,
    },
    ends: { status: 'failed', attempt: 1 },
  },
  {
    name: 'callback-after-cancel',
    job: { type: 'sleep', input: { seconds: 0 }, retry: noRetry, delaySeconds: day, callback: true },
    ends: { status: 'cancelled', attempt: 0 },
    drive: cancelInDelay,
  },
  {
    name: 'callback-refused',
    // Loopback and not allow-listed: the worker refuses it at delivery, which ends the delivery at once.
    job: { type: 'sleep', input: { seconds: 0 }, retry: noRetry, callback: 'http://127.0.0.1:9/callback' },
    ends: { status: 'succeeded', attempt: 1 },
    delivery: 'refused',
  },
];

export function scenarioNamed(name: string): JobScenario {
  const scenario = jobScenarios.find((candidate) => candidate.name === name);
  if (!scenario) throw new Error(`no job scenario named "${name}"`);
  return scenario;
}

/** The names of the history fixtures a scenario records: its job's, and its callback delivery's when it has a callback. */
export function historyFixturesOf(scenario: JobScenario): { readonly job: string; readonly delivery?: string } {
  return { job: scenario.name, ...(scenario.job.callback ? { delivery: `${scenario.name}-delivery` } : {}) };
}

/**
 * What a fixture file holds: a history, and the workflow id it ran under, which its replay must use too: the job
 * names its callback's workflow after its own id, so a replay under another id would issue a different command.
 */
export interface HistoryFixture {
  readonly workflowId: string;
  readonly history: History;
}

/** Every version's fixtures, each version's in its own folder, `v<workflowVersion>`. */
export const historyFixturesDir = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));

/** Where a fixture of the current workflow version is recorded. */
export function historyFixturePath(fixture: string): string {
  return join(historyFixturesDir, `v${workflowVersion}`, `${fixture}.json`);
}

/**
 * Every fixture file of every version, as paths relative to `historyFixturesDir` (`v1/success.json`), sorted.
 * Synchronous, for mocha to make a test of each while it collects them.
 */
export function historyFixtureFiles(): string[] {
  return readdirSync(historyFixturesDir, { recursive: true, encoding: 'utf8' })
    .filter((entry) => entry.endsWith('.json'))
    .sort();
}

/**
 * Writes the fixture, indented, so that a re-recording shows as a readable diff; returns its path. Refuses to
 * replace a file: another version's histories are what runs begun by its workers look like, and must stay.
 */
export async function writeHistoryFixture(fixture: string, { workflowId, history }: HistoryFixture): Promise<string> {
  const path = historyFixturePath(fixture);
  await mkdir(dirname(path), { recursive: true });
  const json = `${JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) as unknown }, null, 2)}\n`;
  try {
    await writeFile(path, json, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new Error(
      `${relative(process.cwd(), path)} exists and is never overwritten: for a change to the workflows' commands, bump ` +
        'workflowVersion (src/workflows/version.ts); to re-record a version no worker has run yet, delete its file first',
      { cause: err },
    );
  }
  return path;
}

/** Reads a fixture by its path relative to `historyFixturesDir`. */
export async function readHistoryFixture(file: string): Promise<HistoryFixture> {
  const { workflowId, history } = JSON.parse(await readFile(join(historyFixturesDir, file), 'utf8')) as {
    workflowId: unknown;
    history: unknown;
  };
  assert.ok(typeof workflowId === 'string', `${file}: a workflowId beside the history`);
  return { workflowId, history: historyFromJSON(history) };
}

export interface ScenarioRun {
  readonly outcome: JobOutcome;
  /** The job's history. */
  readonly history: History;
  /** Every history the scenario records, by fixture name (see `historyFixturesOf`). */
  readonly recorded: ReadonlyMap<string, HistoryFixture>;
  /** Wall time from start to end. */
  readonly wallMs: number;
}

/** Runs the scenario's job to its end in queues of its own, with a worker for its workflow and one for its attempts. */
export async function runScenario(testbed: JobWorkflowTestbed, scenario: JobScenario): Promise<ScenarioRun> {
  const queues = testbed.queues();
  const fixtures = historyFixturesOf(scenario);
  return testbed.withWorkers(queues, async () => {
    // Made once the workers are up, so that a delayed job's runAt is measured from just before its start.
    const request = await testbed.request(queues, scenario.job);
    const startedAt = performance.now();
    const handle = await testbed.start(queues, request);
    await scenario.drive?.(testbed, handle);
    const outcome = await jobOutcome(handle);
    const wallMs = performance.now() - startedAt;
    const history = await handle.fetchHistory();
    const recorded = new Map([[fixtures.job, { workflowId: handle.workflowId, history }]]);
    if (fixtures.delivery) {
      // The job abandons its callback's delivery: await that too, so that it leaves no activity holding time.
      const delivery = testbed.env.client.workflow.getHandle(callbackWorkflowIdOf(handle.workflowId));
      const delivered = await delivery.result().then(
        () => 'delivered' as const,
        (err: unknown) => {
          const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
          if (
            cause instanceof ApplicationFailure &&
            cause.message.startsWith('callback not delivered: callbackUrl refused')
          )
            return 'refused' as const;
          throw err;
        },
      );
      assert.equal(delivered, scenario.delivery ?? 'delivered', `scenario "${scenario.name}": the callback's delivery`);
      recorded.set(fixtures.delivery, { workflowId: delivery.workflowId, history: await delivery.fetchHistory() });
    }
    return { outcome, history, recorded, wallMs };
  });
}
