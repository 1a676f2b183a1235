// The API process never loads the worker's runtime: @temporalio/worker brings Temporal's native core (≈ 20 MB of
// resident memory) and a bundler, none of which an API uses, and its memory under load has a budget (issue 21).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

describe('The API process', function () {
  it("loads neither the Temporal worker nor its native core: what src/api/main.ts imports, the SDK's tracing included", function () {
    this.timeout(30_000);
    // main.ts starts a server when imported; its imports are these two, and app.ts reaches every route's module.
    const script = `
      await import('./src/api/app.ts');
      await import('@durable-jobs/worker/tracing');
      const { createRequire } = await import('node:module');
      console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
    const loaded = JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: projectRoot,
        encoding: 'utf8',
      }),
    ) as string[];
    assert.ok(
      loaded.some((path) => path.includes('/@temporalio/client/')),
      'the check sees what the API loads',
    );
    const workerRuntime = loaded.filter((path) => /\/@temporalio\/(worker|core-bridge)\//.test(path));
    assert.deepEqual(workerRuntime, []);
  });
});
