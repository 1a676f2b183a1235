// Replays every recorded history under test/fixtures/histories/ (each workflow version's in v<version>/) against
// today's code: a change that would break a run begun by the workers of any recorded version fails here. Temporal's
// replay compares commands, not a timer's duration, so the timers are compared here too.
// The fixtures come from `npm run fixtures:record` (test/record-histories.ts), which writes only the current
// version's folder and never replaces a file.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { Worker, type InjectedSinks, type WorkflowBundle } from '@temporalio/worker';
import { bundleJobWorkflows } from '../dev/workflow-bundle.js';
import { workflowVersion } from '../src/workflows/version.js';
import { JobMetrics } from '../src/telemetry/job-metrics.js';
import {
  historyFixtureFiles,
  historyFixturePath,
  historyFixturesDir,
  historyFixturesOf,
  jobScenarios,
  readHistoryFixture,
} from './support/job-scenarios.js';
import type { TimerDurationSinks } from './support/timer-durations-interceptor.js';

const timerDurationsInterceptor = fileURLToPath(new URL('./support/timer-durations-interceptor.ts', import.meta.url));

/** The durations (ms) of the history's TimerStarted events, in order. */
function recordedTimerDurations(history: History): number[] {
  return (history.events ?? []).flatMap((event) => {
    const started = event.timerStartedEventAttributes;
    if (!started) return [];
    // Read from JSON, seconds is a number rather than protobuf's Long.
    const { seconds, nanos } = started.startToFireTimeout ?? {};
    return [
      (typeof seconds === 'number' ? seconds : (seconds?.toNumber() ?? 0)) * 1000 + Math.floor((nanos ?? 0) / 1e6),
    ];
  });
}

/** The ids of the patches the workflows' code asks about: `patched('…')` and `deprecatePatch('…')`. */
async function patchIdsInWorkflows(): Promise<string[]> {
  const dir = fileURLToPath(new URL('../src/workflows/', import.meta.url));
  const sources = await Promise.all(
    // The job and callback workflows' files: the ones whose histories are recorded.
    ['job-workflow.ts', 'unfinished-cap.ts', 'callback-workflow.ts'].map((file) => readFile(join(dir, file), 'utf8')),
  );
  return sources.flatMap((source) =>
    [...source.matchAll(/\b(?:patched|deprecatePatch)\('([^']+)'\)/g)].map((match) => match[1]!),
  );
}

describe('Job workflow replay', function () {
  const fixtures = historyFixtureFiles();
  let workflowBundle: WorkflowBundle;
  let timedBundle: WorkflowBundle;
  before(async function () {
    [workflowBundle, timedBundle] = await Promise.all([
      bundleJobWorkflows(),
      bundleJobWorkflows({ workflowInterceptorModules: [timerDurationsInterceptor] }),
    ]);
  });

  it('finds the recorded histories of every version, the current one among them', function () {
    assert.ok(
      fixtures.some((file) => file.startsWith('v1/')),
      `fixtures of v1 in ${historyFixturesDir}`,
    );
    assert.ok(
      fixtures.some((file) => file.startsWith(`v${workflowVersion}/`)),
      `fixtures of the current version, v${workflowVersion}`,
    );
  });

  // The workflows report their ends to it as to the service's worker (a sink is not called while replaying).
  const jobMetricsSinks = new JobMetrics().sinks();

  for (const file of fixtures) {
    it(`replays ${file} deterministically`, async function () {
      const { workflowId, history } = await readHistoryFixture(file);
      await Worker.runReplayHistory({ workflowBundle, sinks: jobMetricsSinks }, history, workflowId);
    });

    it(`starts the timers ${file} recorded, each with its recorded duration`, async function () {
      const { workflowId, history } = await readHistoryFixture(file);
      const asked: number[] = [];
      const sinks: InjectedSinks<TimerDurationSinks> = {
        timers: { started: { fn: (_info, durationMs) => void asked.push(durationMs), callDuringReplay: true } },
        ...jobMetricsSinks,
      };
      await Worker.runReplayHistory({ workflowBundle: timedBundle, sinks }, history, workflowId);
      assert.deepEqual(
        asked,
        recordedTimerDurations(history),
        'the durations (ms) the code asks for, against the TimerStarted events',
      );
    });
  }

  it(`holds a history of the current version, v${workflowVersion}, for every scenario`, function () {
    const missing = jobScenarios
      .flatMap((scenario) => Object.values(historyFixturesOf(scenario)))
      .filter((fixture) => !existsSync(historyFixturePath(fixture)));
    assert.deepEqual(missing, [], 'record them with `npm run fixtures:record -- <scenario …>`');
  });

  it(`takes every patch the workflows ask about in some history of the current version, v${workflowVersion}`, async function () {
    const taken = new Set<string>();
    for (const file of fixtures.filter((candidate) => candidate.startsWith(`v${workflowVersion}/`))) {
      const { history } = await readHistoryFixture(file);
      for (const event of history.events ?? []) {
        const marker = event.markerRecordedEventAttributes;
        if (marker?.markerName !== 'core_patch') continue;
        for (const payload of marker.details?.['patch-data']?.payloads ?? []) {
          taken.add((JSON.parse(Buffer.from(payload.data ?? []).toString('utf8')) as { id: string }).id);
        }
      }
    }
    const ids = await patchIdsInWorkflows();
    assert.ok(ids.length > 0, 'the workflows ask about patches');
    assert.deepEqual(
      ids.filter((id) => !taken.has(id)),
      [],
      'patches no recorded history of the current version takes: add a scenario that takes each',
    );
  });
});
