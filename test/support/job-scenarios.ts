// Ways a job ends, run on the time-skipping server: recorded as history fixtures for the replay test by
// scripts/record-histories.ts, and run live by the time-skipping suite where it checks their timing.
import { fileURLToPath } from 'node:url';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import type { JobStatus } from '../../src/contract/job.js';
import {
  attemptScheduledTimes,
  jobOutcome,
  skipToShortlyBefore,
  waitForJobState,
  type JobHandle,
  type JobOutcome,
  type JobSpec,
  type JobWorkflowTestbed,
} from './time-skipping.js';

export interface JobScenario {
  /** Also the name of its history fixture. */
  readonly name: string;
  readonly job: JobSpec;
  readonly ends: { readonly status: JobStatus; readonly attempt: number };
  /** Whatever the test must do, beyond awaiting the end, for the job to end this way. */
  drive?(testbed: JobWorkflowTestbed, handle: JobHandle): Promise<void>;
}

const noRetry = { maxAttempts: 1, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 3600 };

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
];

export function scenarioNamed(name: string): JobScenario {
  const scenario = jobScenarios.find((candidate) => candidate.name === name);
  if (!scenario) throw new Error(`no job scenario named "${name}"`);
  return scenario;
}

export function historyFixturePath(scenario: JobScenario): string {
  return fileURLToPath(new URL(`../fixtures/histories/${scenario.name}.json`, import.meta.url));
}

export interface ScenarioRun {
  readonly outcome: JobOutcome;
  readonly history: History;
  /** Wall time from start to end. */
  readonly wallMs: number;
}

/** Runs the scenario's job to its end in queues of its own, with a worker for its workflow and one for its attempts. */
export async function runScenario(testbed: JobWorkflowTestbed, scenario: JobScenario): Promise<ScenarioRun> {
  const queues = testbed.queues();
  const request = testbed.request(queues, scenario.job);
  return testbed.withWorkers(queues, async () => {
    const startedAt = performance.now();
    const handle = await testbed.start(queues, request);
    await scenario.drive?.(testbed, handle);
    const outcome = await jobOutcome(handle);
    const wallMs = performance.now() - startedAt;
    return { outcome, history: await handle.fetchHistory(), wallMs };
  });
}
