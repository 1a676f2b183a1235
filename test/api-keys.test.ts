// API keys as an operator handles them: from a file, rotated across a restart, refused at start-up when too short,
// and never written to the logs. The API runs as its own process (`src/api/main.ts`), as deployed.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDevServer } from '../dev/temporal/dev-server.js';
import { Part, freePort, httpRequest, startApiPart, stopAllParts } from './support/processes.js';
import { commandsDir } from './support/service.js';

const oldKey = 'acme-old-key-0123456789abcdef';
const newKey = 'acme-new-key-fedcba9876543210';

describe('API keys, as an operator handles them', function () {
  this.timeout(60_000);
  let temporal: TestWorkflowEnvironment;
  let dir: string;

  const startApi = async (
    env: Record<string, string>,
  ): Promise<{ part: Part; listJobs: (key: string) => Promise<number> }> => {
    const port = await freePort();
    const part = await startApiPart({
      port,
      temporalAddress: temporal.address,
      taskQueuePrefix: `api-keys-${process.pid}`,
      commandsDir,
      env,
    });
    const listJobs = async (key: string): Promise<number> =>
      (await httpRequest(`http://127.0.0.1:${port}/api/v1/jobs`, { headers: { authorization: `Bearer ${key}` } }))
        .status;
    return { part, listJobs };
  };

  before(async function () {
    temporal = await startDevServer();
    dir = await mkdtemp(join(tmpdir(), 'durable-jobs-keys-'));
  });
  afterEach(stopAllParts);
  after(async function () {
    await temporal?.teardown();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads keys from API_KEYS_FILE, and rotates: both keys work side by side, the dropped one gets 401 after a restart', async function () {
    const keysFile = join(dir, 'keys.json');
    await writeFile(keysFile, JSON.stringify({ acme: [oldKey, newKey] }));
    const both = await startApi({ API_KEYS_FILE: keysFile });
    assert.deepEqual(
      [await both.listJobs(oldKey), await both.listJobs(newKey), await both.listJobs('acme-other-key-0123456789')],
      [200, 200, 401],
    );
    await both.part.stop();

    await writeFile(keysFile, JSON.stringify({ acme: [newKey] }));
    const rotated = await startApi({ API_KEYS_FILE: keysFile });
    assert.deepEqual([await rotated.listJobs(oldKey), await rotated.listJobs(newKey)], [401, 200]);
  });

  it('refuses to start with a key under 16 characters, naming the variable', async function () {
    const part = Part.spawn('api', 'src/api/main.ts', {
      TEMPORAL_ADDRESS: temporal.address,
      PORT: String(await freePort()),
      API_KEYS: 'acme:short-key',
    });
    const deadline = Date.now() + 20_000;
    while (part.isRunning && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(!part.isRunning, 'the API started with a short key');
    assert.notEqual(part.exitCode, 0);
    assert.match(part.recentOutput(), /API_KEYS/);
    assert.match(part.recentOutput(), /16 characters/);
  });

  it('never logs a key, even at LOG_LEVEL=trace: Authorization is redacted', async function () {
    const api = await startApi({ API_KEYS: `acme:${newKey}`, LOG_LEVEL: 'trace' });
    for (const key of [newKey, oldKey]) await api.listJobs(key);
    // The log lines of those requests are written by now: a request's line follows its answer.
    await api.part.waitForOutput(/api\/v1\/jobs/);
    const output = api.part.recentOutput();
    assert.doesNotMatch(output, new RegExp(`${newKey}|${oldKey}`), 'a key appears in the log');
  });
});
