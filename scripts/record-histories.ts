// Records the histories that test/job-workflow.replay.test.ts replays: per job scenario, its job workflow's, and its
// callback delivery's when the job has a callback.
// Run it on purpose, after a change to the workflow that is meant to be incompatible (or versioned with patches):
//   node --import tsx scripts/record-histories.ts [scenario …]
// Name the scenarios to (re-)record only those: the other fixtures keep the histories of the code that made them.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { jobScenarios, runScenario, scenarioNamed, writeHistoryFixture } from '../test/support/job-scenarios.js';
import { JobWorkflowTestbed } from '../test/support/time-skipping.js';

async function run(): Promise<void> {
  const names = process.argv.slice(2);
  const scenarios = names.length > 0 ? names.map(scenarioNamed) : jobScenarios;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const testbed = await JobWorkflowTestbed.start();
  try {
    for (const scenario of scenarios) {
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
        console.log(`  ${recording.history.events?.length ?? 0} events → ${await writeHistoryFixture(fixture, recording)}`);
      }
    }
  } finally {
    await testbed.teardown();
  }
}

run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
