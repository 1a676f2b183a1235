// Replays recorded histories of the job workflow against today's code: a non-deterministic change fails here.
// The fixtures come from scripts/record-histories.ts; re-record only for a change meant to break old runs.
import { readFile } from 'node:fs/promises';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { bundleJobWorkflows } from '../src/worker/workers.js';
import { historyFixturePath, jobScenarios } from './support/job-scenarios.js';

describe('Job workflow replay', function () {
  let workflowBundle: WorkflowBundle;
  before(async function () {
    workflowBundle = await bundleJobWorkflows();
  });

  for (const scenario of jobScenarios) {
    it(`replays the recorded "${scenario.name}" history deterministically`, async function () {
      const history: unknown = JSON.parse(await readFile(historyFixturePath(scenario), 'utf8'));
      await Worker.runReplayHistory({ workflowBundle }, history, scenario.name);
    });
  }
});
