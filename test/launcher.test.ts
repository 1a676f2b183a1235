import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDevServer } from '../dev/temporal/dev-server.js';
import { commandsDir } from './support/service.js';
import { freePort, Part, stopAllParts } from './support/processes.js';

/** The environment of a running process, as the kernel keeps it. */
function environmentOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return new Map(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

/** The launcher's children, by the entry each runs. */
function childrenOf(pid: number): { worker?: number; api?: number } {
  const pids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  const entry = (child: number): string => readFileSync(`/proc/${child}/cmdline`, 'utf8');
  return {
    worker: pids.find((child) => entry(child).includes('worker/main')),
    api: pids.find((child) => entry(child).includes('api/main')),
  };
}

describe('npm start gives each part only the environment it needs', function () {
  this.timeout(90_000);
  let temporal: TestWorkflowEnvironment;
  let dataDir: string;
  before(async function () {
    temporal = await startDevServer();
    // npm start keeps its payload key beside TEMPORAL_DEV_DB_FILE: this run's, not the checkout's .data/.
    dataDir = await mkdtemp(join(tmpdir(), 'durable-jobs-launcher-'));
  });
  after(async function () {
    await stopAllParts();
    await temporal?.teardown();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("keeps the API keys and the launcher's unrelated variables out of the worker, whose commands could read them", async function () {
    const apiKeys = 'acme:acme-key-0123456789abcdef';
    const launcher = Part.spawn('npm start', 'dev/start.ts', {
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_DEV_DB_FILE: join(dataDir, 'temporal.sqlite'),
      PORT: String(await freePort()),
      JOBS_TASK_QUEUE_PREFIX: `launcher-${process.pid}`,
      JOBS_COMMANDS_DIR: commandsDir,
      API_KEYS: apiKeys,
      CALLBACK_SECRET: 'callback-secret-0123456789',
      UNRELATED_CLOUD_TOKEN: 'not for any part',
    });
    await launcher.waitForOutput(/durable-jobs is up/, 60_000);
    const { worker, api } = childrenOf(launcher.pid);
    assert.ok(worker && api, `the launcher's children: ${JSON.stringify({ worker, api })}`);
    const workerEnv = environmentOf(worker);
    const apiEnv = environmentOf(api);
    assert.equal(workerEnv.get('API_KEYS'), undefined, 'the worker holds the API keys');
    assert.equal(apiEnv.get('API_KEYS'), apiKeys);
    assert.equal(workerEnv.get('CALLBACK_SECRET'), 'callback-secret-0123456789', 'the worker signs callbacks');
    for (const env of [workerEnv, apiEnv]) {
      assert.equal(env.get('UNRELATED_CLOUD_TOKEN'), undefined);
      assert.equal(env.get('TEMPORAL_ADDRESS'), temporal.address);
    }
    await launcher.stop('SIGTERM');
    for (const pid of [worker, api]) assert.throws(() => process.kill(pid, 0), `part ${pid} outlived the launcher`);
  });
});
