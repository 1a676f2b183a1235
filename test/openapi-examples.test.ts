import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { operationExamples } from '../src/api/operation-examples.js';
import { operations } from '../src/api/operations.js';
import { TestService } from './support/service.js';

/** The commands a fresh clone's service runs (the command example names one of them). */
const shippedCommands = fileURLToPath(new URL('../jobs/commands', import.meta.url));

describe("Swagger UI's prefilled requests", function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start({ workers: false, env: { JOBS_COMMANDS_DIR: shippedCommands } });
  });
  after(async function () {
    await service.teardown();
  });

  it('succeed against the service as they are, each of them', async function () {
    let sent = 0;
    for (const operation of operations) {
      const requests = operationExamples[`${operation.method.toUpperCase()} ${operation.path}`]?.requests ?? {};
      // A path with a parameter names a resource an earlier example made only by chance (a hook's id is random).
      if (operation.path.includes('{')) continue;
      for (const [name, { value }] of Object.entries(requests)) {
        const { status, body } = await service.request(operation.method.toUpperCase(), operation.path, value);
        assert.ok(
          status < 300,
          `${operation.method} ${operation.path} example ${name}: ${status} ${JSON.stringify(body)}`,
        );
        sent++;
      }
    }
    assert.ok(sent >= 10, `only ${sent} examples sent`);
  });
});
