import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { ConfigInvalidError, loadConfig } from '../src/config.js';
import { registerJobNamespace } from '../src/temporal/namespace.js';
import type { DevServerProcess } from '../dev/temporal/dev-server.js';
import { startLocalServer } from '../dev/temporal/local.js';
import { freePort } from './support/processes.js';

const hours = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 3_600_000);

describe('The retention a deployment chooses (JOB_RETENTION_HOURS)', function () {
  let dir: string;
  let server: DevServerProcess | undefined;
  let connection: Connection | undefined;
  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'retention-'));
  });
  after(async function () {
    await connection?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const retentionHours = async (namespace: string): Promise<number | undefined> => {
    const { config } = await connection!.workflowService.describeNamespace({ namespace });
    return hours(tsToMs(config?.workflowExecutionRetentionTtl));
  };

  it('is a week unless set, and refuses what is no retention, naming the variable', function () {
    assert.equal(loadConfig({}).JOB_RETENTION_HOURS, 168);
    assert.equal(loadConfig({ JOB_RETENTION_HOURS: '48' }).JOB_RETENTION_HOURS, 48);
    for (const value of ['0', '-1', '1.5', 'a week', '87601'])
      assert.throws(
        () => loadConfig({ JOB_RETENTION_HOURS: value }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigInvalidError);
          assert.match(err.message, /JOB_RETENTION_HOURS/);
          return true;
        },
      );
  });

  it("is the namespace's after npm start's dev server starts (not its own 24 h), and a new value applies at the next start", async function () {
    const config = loadConfig({
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_DEV_UI_PORT: String(await freePort()),
      TEMPORAL_DEV_DB_FILE: join(dir, 'temporal.sqlite'),
      JOB_RETENTION_HOURS: '48',
    });
    server = await startLocalServer(config, { ownProcessGroup: false });
    connection = await Connection.connect({ address: server.address });
    assert.equal(await retentionHours(config.TEMPORAL_NAMESPACE), 48);
    // What npm run cluster and compose's temporal-namespace do, on a namespace that exists or not.
    await registerJobNamespace(connection, config.TEMPORAL_NAMESPACE, 168);
    assert.equal(await retentionHours(config.TEMPORAL_NAMESPACE), 168);
    await registerJobNamespace(connection, 'retention-check', 2);
    assert.equal(await retentionHours('retention-check'), 2);
  });
});
