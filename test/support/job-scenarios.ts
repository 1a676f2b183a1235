// Ways a job ends, run on the time-skipping server: recorded as history fixtures for the replay test by
// scripts/record-histories.ts, and run live by the time-skipping suite where it checks their timing.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import type { JobStatus } from '../../src/contract/job.js';
import { callbackWorkflowIdOf } from '../../src/workflows/job-state.js';
import {
  attemptScheduledTimes,
  eventually,
  jobOutcome,
  skipToShortlyBefore,
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
  /** Whatever the test must do, beyond awaiting the end, for the job to end this way. */
  drive?(testbed: JobWorkflowTestbed, handle: JobHandle): Promise<void>;
}

const noRetry = { maxAttempts: 1, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 3600 };
const day = 24 * 3600;

export const jobScenarios: readonly JobScenario[] = [
  {
    name: 'success',
    job: { type: 'sleep', input: { seconds: 0, message: 'done' }, retry: noRetry },
    ends: { status: 'succeeded', attempt: 1 },
  },
  {
    name: 'retry-then-success',
    job: { type: 'sleep', input: { seconds: 0, failAttempts: 1 }, retry: { ...noRetry, maxAttempts: 3, initialIntervalSeconds: 30 } },
    ends: { status: 'succeeded', attempt: 2 },
  },
  {
    name: 'non-retryable-failure',
    job: { type: 'sleep', input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' }, retry: { ...noRetry, maxAttempts: 3 } },
    ends: { status: 'failed', attempt: 1 },
  },
  {
    name: 'timeout',
    // Heartbeats are sent in wall time and cannot keep up with skipped time: a heartbeat timeout no shorter than
    // the attempt's leaves the attempt's own timeout as the one that fires.
    job: { type: 'sleep', input: { seconds: 7200 }, timeoutSeconds: 3600, heartbeatTimeoutSeconds: 3600, retry: noRetry },
    ends: { status: 'timed_out', attempt: 1 },
    async drive(testbed, handle) {
      await waitForJobState(handle, (state) => state.status === 'running', 'the attempt starting');
      const [scheduledAt] = attemptScheduledTimes(await handle.fetchHistory());
      await skipToShortlyBefore(testbed.env, scheduledAt! + 3600_000);
    },
  },
  {
    name: 'cancel-during-backoff',
    job: { type: 'sleep', input: { seconds: 0, failAttempts: 100 }, retry: { ...noRetry, maxAttempts: 5, initialIntervalSeconds: 3600 } },
    ends: { status: 'cancelled', attempt: 1 },
    async drive(_testbed, handle) {
      // Server time passes at wall-clock speed until the end is awaited: the job is still in its hour of backoff.
      await waitForJobState(handle, (state) => state.status === 'queued' && state.attempt === 1, 'the first attempt failing');
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
    async drive(_testbed, handle) {
      // Server time passes at wall-clock speed until the end is awaited: the job is still in its day of delay.
      await eventually(() => handle.fetchHistory(), (history) => timerStartTimes(history).length === 1, 'the delay starting');
      await handle.cancel();
    },
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

function historyFixturePath(fixture: string): string {
  return fileURLToPath(new URL(`../fixtures/histories/${fixture}.json`, import.meta.url));
}

/** Writes the fixture, indented, so that a re-recording shows as a readable diff; returns its path. */
export async function writeHistoryFixture(fixture: string, { workflowId, history }: HistoryFixture): Promise<string> {
  const path = historyFixturePath(fixture);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) as unknown }, null, 2)}\n`);
  return path;
}

export async function readHistoryFixture(fixture: string): Promise<HistoryFixture> {
  const { workflowId, history } = JSON.parse(await readFile(historyFixturePath(fixture), 'utf8')) as { workflowId: unknown; history: unknown };
  assert.ok(typeof workflowId === 'string', `${fixture}: a workflowId beside the history`);
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
      await delivery.result();
      recorded.set(fixtures.delivery, { workflowId: delivery.workflowId, history: await delivery.fetchHistory() });
    }
    return { outcome, history, recorded, wallMs };
  });
}
