// Records the job workflow's histories that test/job-workflow.replay.test.ts replays, one per job scenario.
// Run it on purpose, after a change to the workflow that is meant to be incompatible (or versioned with patches):
//   node --import tsx scripts/record-histories.ts
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { historyFixturePath, jobScenarios, runScenario } from '../test/support/job-scenarios.js';
import { JobWorkflowTestbed } from '../test/support/time-skipping.js';

async function run(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const testbed = await JobWorkflowTestbed.start();
  try {
    for (const scenario of jobScenarios) {
      const { outcome, history } = await runScenario(testbed, scenario);
      const { status, attempt } = outcome.state;
      if (status !== scenario.ends.status || attempt !== scenario.ends.attempt) {
        throw new Error(`scenario "${scenario.name}" ended ${status} at attempt ${attempt}, not ${scenario.ends.status} at ${scenario.ends.attempt}`);
      }
      const path = historyFixturePath(scenario);
      await mkdir(dirname(path), { recursive: true });
      // Indented, so that a re-recording shows as a readable diff.
      await writeFile(path, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
      console.log(`${scenario.name}: ${status} at attempt ${attempt}, ${history.events?.length ?? 0} events → ${path}`);
    }
  } finally {
    await testbed.teardown();
  }
}

run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
