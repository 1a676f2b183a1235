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
  type HistoryFixture,
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

/** The job and callback workflows' files: the ones whose histories are recorded. */
async function workflowSources(): Promise<string[]> {
  const dir = fileURLToPath(new URL('../src/workflows/', import.meta.url));
  return Promise.all(
    ['job-workflow.ts', 'unfinished-cap.ts', 'callback-workflow.ts'].map((file) => readFile(join(dir, file), 'utf8')),
  );
}

/** The ids of the patches the workflows' code asks about: `patched('…')` and `deprecatePatch('…')`. */
async function patchIdsInWorkflows(): Promise<string[]> {
  return (await workflowSources()).flatMap((source) =>
    [...source.matchAll(/\b(?:patched|deprecatePatch)\('([^']+)'\)/g)].map((match) => match[1]!),
  );
}

/** The changes the workflows take by their request's version (`takesChange(request, <version>, '<id>')`). */
async function versionedChangesInWorkflows(): Promise<{ id: string; version: number }[]> {
  return (await workflowSources()).flatMap((source) =>
    [...source.matchAll(/\btakesChange\(\w+, (\d+), '([^']+)'\)/g)].map((match) => ({
      id: match[2]!,
      version: Number(match[1]),
    })),
  );
}

/** The patch ids a history's markers record. */
function patchMarkersIn(history: History): string[] {
  return (history.events ?? []).flatMap((event) => {
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') return [];
    return (marker.details?.['patch-data']?.payloads ?? []).map(
      (payload) => (JSON.parse(Buffer.from(payload.data ?? []).toString('utf8')) as { id: string }).id,
    );
  });
}

/** What replaying a fixture gave: the error that stopped it, if any, and the durations (ms) of the timers it started. */
interface Replayed {
  readonly error?: Error;
  readonly timersMs: number[];
}

/**
 * Replays every fixture, in order, on one replay worker (one worker per history took a third of a second each, most
 * of this file's time), the timers each run starts reported by runId through the interceptor's sink when it has one.
 */
async function replayAll(
  workflowBundle: WorkflowBundle,
  fixtures: ReadonlyMap<string, HistoryFixture>,
): Promise<Map<string, Replayed>> {
  const timersByRun = new Map<string, number[]>();
  const sinks: InjectedSinks<TimerDurationSinks> = {
    timers: {
      started: {
        fn: (info, durationMs) => {
          const timers = timersByRun.get(info.runId) ?? [];
          timers.push(durationMs);
          timersByRun.set(info.runId, timers);
        },
        callDuringReplay: true,
      },
    },
    // The workflows report their ends to it as to the service's worker (a sink is not called while replaying).
    ...new JobMetrics().sinks(),
  };
  const files = [...fixtures.keys()];
  const replayed = new Map<string, Replayed>();
  let index = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle, sinks }, fixtures.values())) {
    replayed.set(files[index++]!, {
      ...(result.error ? { error: result.error } : {}),
      timersMs: timersByRun.get(result.runId) ?? [],
    });
  }
  return replayed;
}

describe('Job workflow replay', function () {
  const fixtureFiles = historyFixtureFiles();
  const fixtures = new Map<string, HistoryFixture>();
  let workflowBundle: WorkflowBundle;
  let replayed: Map<string, Replayed>;
  let replayedTimed: Map<string, Replayed>;
  before(async function () {
    for (const file of fixtureFiles) fixtures.set(file, await readHistoryFixture(file));
    let timedBundle: WorkflowBundle;
    [workflowBundle, timedBundle] = await Promise.all([
      bundleJobWorkflows(),
      bundleJobWorkflows({ workflowInterceptorModules: [timerDurationsInterceptor] }),
    ]);
    [replayed, replayedTimed] = await Promise.all([
      replayAll(workflowBundle, fixtures),
      replayAll(timedBundle, fixtures),
    ]);
  });

  it('finds the recorded histories of every version, the current one among them', function () {
    assert.ok(
      fixtureFiles.some((file) => file.startsWith('v1/')),
      `fixtures of v1 in ${historyFixturesDir}`,
    );
    assert.ok(
      fixtureFiles.some((file) => file.startsWith(`v${workflowVersion}/`)),
      `fixtures of the current version, v${workflowVersion}`,
    );
  });

  for (const file of fixtureFiles) {
    it(`replays ${file} deterministically`, function () {
      const replay = replayed.get(file);
      assert.ok(replay, `${file} was replayed`);
      if (replay.error) throw replay.error;
    });

    it(`starts the timers ${file} recorded, each with its recorded duration`, function () {
      const replay = replayedTimed.get(file);
      assert.ok(replay, `${file} was replayed`);
      if (replay.error) throw replay.error;
      assert.deepEqual(
        replay.timersMs,
        recordedTimerDurations(fixtures.get(file)!.history),
        'the durations (ms) the code asks for, against the TimerStarted events',
      );
    });
  }

  /** The patch ids the markers of a version's histories record. */
  const markersOfVersion = (version: number): Set<string> => {
    const ids = new Set<string>();
    for (const file of fixtureFiles.filter((candidate) => candidate.startsWith(`v${version}/`)))
      for (const id of patchMarkersIn(fixtures.get(file)!.history)) ids.add(id);
    return ids;
  };

  it(`holds a history of the current version, v${workflowVersion}, for every scenario`, function () {
    const missing = jobScenarios
      .flatMap((scenario) => Object.values(historyFixturesOf(scenario)))
      .filter((fixture) => !existsSync(historyFixturePath(fixture)));
    assert.deepEqual(missing, [], 'record them with `npm run fixtures:record -- <scenario …>`');
  });

  it(`takes every patch the workflows ask about in some history of the current version, v${workflowVersion}`, async function () {
    const taken = markersOfVersion(workflowVersion);
    const ids = await patchIdsInWorkflows();
    assert.ok(ids.length > 0, 'the workflows ask about patches');
    assert.deepEqual(
      ids.filter((id) => !taken.has(id)),
      [],
      'patches no recorded history of the current version takes: add a scenario that takes each',
    );
  });

  it('replays a run of a request made at the current version that a worker from before v4 began (its patch markers recorded)', async function () {
    // During a deploy an API already stamping its version can start jobs that older workers run: they ask patched()
    // and record markers. The success of v3, its request stamped as today's API stamps it, stands for that run.
    const { workflowId, history } = await readHistoryFixture('v3/success.json');
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    assert.ok(started?.data, 'the start event carries the request');
    const request = JSON.parse(Buffer.from(started.data).toString('utf8')) as Record<string, unknown>;
    started.data = Buffer.from(JSON.stringify({ ...request, commandsVersion: workflowVersion }));
    assert.ok(patchMarkersIn(history).length > 0, 'the history records a patch marker');
    await Worker.runReplayHistory({ workflowBundle, sinks: new JobMetrics().sinks() }, history, workflowId);
  });

  it('takes each change by version: through patched() for requests from before v4, with no marker for requests of the current version', async function () {
    const changes = await versionedChangesInWorkflows();
    assert.ok(changes.length > 0, 'the workflows take changes by version');
    const current = markersOfVersion(workflowVersion);
    for (const { id, version } of changes) {
      assert.ok(version <= workflowVersion, `${id}: made at v${version}, not after the current version`);
      // Requests carry their version from v4 on; an earlier change's histories asked patched(), and still replay so.
      if (version < 4)
        assert.ok(markersOfVersion(version).has(id), `a history of v${version} takes ${id} through patched()`);
      assert.ok(
        !current.has(id),
        `no history of v${workflowVersion} records a marker for ${id}: its requests say their version`,
      );
    }
  });
});
