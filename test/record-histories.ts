// Records the histories that test/job-workflow.replay.test.ts replays: per job scenario, its job workflow's, and its
// callback delivery's when the job has a callback, into test/fixtures/histories/v<workflowVersion>/.
// Run it on purpose, after bumping workflowVersion (src/workflows/version.ts) for a change to the workflows' commands,
// or to add a new scenario's fixtures to the current version:
//   npm run fixtures:record [-- scenario …]
// It never replaces a fixture: it refuses, before running anything, when one of the files it would write exists.
import { access } from 'node:fs/promises';
import { relative } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import {
  historyFixturePath,
  historyFixturesOf,
  jobScenarios,
  runScenario,
  scenarioNamed,
  writeHistoryFixture,
} from './support/job-scenarios.js';
import { JobWorkflowTestbed } from './support/time-skipping.js';

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function run(): Promise<void> {
  const names = process.argv.slice(2);
  const scenarios = names.length > 0 ? names.map(scenarioNamed) : jobScenarios;
  const paths = scenarios.flatMap((scenario) => Object.values(historyFixturesOf(scenario))).map(historyFixturePath);
  const existing = (
    await Promise.all(paths.map(async (path) => ((await exists(path)) ? [relative(process.cwd(), path)] : [])))
  ).flat();
  if (existing.length > 0) {
    throw new Error(
      `already recorded, and never overwritten: ${existing.join(', ')}. Name the scenarios still to record, or bump ` +
        'workflowVersion (src/workflows/version.ts) for a change to the workflows, or, for a version no worker has run yet, delete the files first',
    );
  }
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  for (const scenario of scenarios) {
    // A server per scenario: on a server shared by all of them, time stopped skipping after a dozen (the heartbeat
    // time-out's skip then waited in wall time), which a recording that takes seconds is worth avoiding.
    const testbed = await JobWorkflowTestbed.start();
    try {
      const { outcome, recorded } = await runScenario(testbed, scenario);
      const { status, attempt } = outcome.state;
      const children = (outcome.state.children ?? []).map((child) => child.status).join(', ');
      const expectedChildren = (scenario.ends.children ?? []).join(', ');
      if (status !== scenario.ends.status || attempt !== scenario.ends.attempt || children !== expectedChildren) {
        throw new Error(
          `scenario "${scenario.name}" ended ${status} at attempt ${attempt} (children: ${children || 'none'}), ` +
            `not ${scenario.ends.status} at ${scenario.ends.attempt} (children: ${expectedChildren || 'none'})`,
        );
      }
      console.log(`${scenario.name}: ${status} at attempt ${attempt}`);
      for (const [fixture, recording] of recorded) {
        console.log(
          `  ${recording.history.events?.length ?? 0} events → ${await writeHistoryFixture(fixture, recording)}`,
        );
      }
    } finally {
      await testbed.teardown();
    }
  }
}

run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
