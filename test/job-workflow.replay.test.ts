// Replays recorded histories of the job workflow (and of callback deliveries) against today's code: a
// non-deterministic change fails here.
// The fixtures come from scripts/record-histories.ts; re-record only for a change meant to break old runs.
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { bundleJobWorkflows } from '../src/worker/workers.js';
import { historyFixturesOf, jobScenarios, readHistoryFixture } from './support/job-scenarios.js';

describe('Job workflow replay', function () {
  let workflowBundle: WorkflowBundle;
  before(async function () {
    workflowBundle = await bundleJobWorkflows();
  });

  for (const fixture of jobScenarios.flatMap((scenario) => Object.values(historyFixturesOf(scenario)))) {
    it(`replays the recorded "${fixture}" history deterministically`, async function () {
      const { workflowId, history } = await readHistoryFixture(fixture);
      await Worker.runReplayHistory({ workflowBundle }, history, workflowId);
    });
  }
});
