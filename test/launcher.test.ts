import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { portProblems, type NeededPort } from '../dev/ports.mjs';
import { projectRoot } from '../dev/project-root.js';
import { startDevServer } from '../dev/temporal/dev-server.js';
import type { Job } from '../src/contract/job.js';
import { commandsDir, uniqueJobId } from './support/service.js';
import { freePort, httpRequest, Part, stopAllParts } from './support/processes.js';

/** The environment of a running process, as the kernel keeps it. */
function environmentOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return new Map(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

/** The launcher's children, by the entry each runs. */
function childrenOf(pid: number): { worker?: number; api?: number; temporal?: number } {
  const pids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  const entry = (child: number): string => readFileSync(`/proc/${child}/cmdline`, 'utf8');
  return {
    worker: pids.find((child) => entry(child).includes('worker/main')),
    api: pids.find((child) => entry(child).includes('api/main')),
    temporal: pids.find((child) => entry(child).includes('start-dev')),
  };
}

/** Whether `pid` is gone: no such process, or one that exited and waits to be reaped (an orphan's zombie). */
function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function waitUntilGone(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some((pid) => !isGone(pid))) {
    if (Date.now() > deadline)
      assert.fail(`still running after ${timeoutMs} ms: ${pids.filter((pid) => !isGone(pid)).join(' ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Holds `port` on loopback, as another program would. */
async function holdPort(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

let launchCount = 0;

/** `npm start` on free ports and a data dir of its own; with `temporalAddress`, on that server instead of its own. */
async function launcherEnv(dataDir: string, temporalAddress?: string): Promise<Record<string, string>> {
  launchCount += 1;
  return {
    PORT: String(await freePort()),
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_DEV_UI_PORT: String(await freePort()),
    TEMPORAL_DEV_DB_FILE: join(dataDir, `launch-${launchCount}`, 'temporal.sqlite'),
    JOBS_TASK_QUEUE_PREFIX: `launcher-${process.pid}-${launchCount}`,
    JOBS_COMMANDS_DIR: commandsDir,
    LOG_LEVEL: 'warn',
    ...(temporalAddress ? { TEMPORAL_ADDRESS: temporalAddress } : {}),
  };
}

/** Starts `npm start` and waits for it to say it is up; returns it with its parts' pids. */
async function startLauncher(env: Record<string, string>) {
  const launcher = Part.spawn('npm start', 'dev/start.ts', env);
  await launcher.waitForOutput(/durable-jobs is up/, 90_000);
  const { worker, api, temporal } = childrenOf(launcher.pid);
  assert.ok(worker && api, `the launcher's children: ${JSON.stringify({ worker, api })}`);
  assert.equal(
    temporal !== undefined,
    env['TEMPORAL_ADDRESS'] === undefined,
    'a dev server runs unless TEMPORAL_ADDRESS is set',
  );
  return { launcher, worker, api, temporal };
}

/** The ports a launcher started with `env` listens on. */
function portsIn(env: Record<string, string>): NeededPort[] {
  return (['PORT', 'TEMPORAL_DEV_PORT', 'TEMPORAL_DEV_UI_PORT'] as const).map((variable) => ({
    port: Number(env[variable]),
    host: '127.0.0.1',
    variable,
    what: variable,
  }));
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

describe("npm start keeps the dev server's database from command jobs", function () {
  this.timeout(120_000);
  let dataDir: string;
  before(async function () {
    // Not under /tmp, which a command sees a private one of; open to all, as a checkout's folder is.
    dataDir = await mkdtemp(join(projectRoot, '.cache', 'launcher-db-'));
    chmodSync(dataDir, 0o755);
  });
  after(async function () {
    await stopAllParts();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("makes the database, its journal files and a folder it makes for them its owner's alone, so a command told to read it cannot", async function () {
    const env = await launcherEnv(dataDir);
    await startLauncher(env);
    const dbFile = env['TEMPORAL_DEV_DB_FILE']!;
    const submitted = await httpRequest(`http://127.0.0.1:${env['PORT']}/api/v1/jobs?wait=20`, {
      method: 'POST',
      body: JSON.stringify({ type: 'command', input: { command: 'print-file', args: [dbFile] } }),
    });
    assert.equal(statSync(dirname(dbFile)).mode & 0o777, 0o700, 'the folder made for the database');
    for (const path of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`].filter((file) =>
      statSync(file, { throwIfNoEntry: false }),
    ))
      assert.equal(statSync(path).mode & 0o777, 0o600, path);
    // Run by root, a command is another user (nobody): it must not read what the server wrote.
    if (process.getuid?.() !== 0) return;
    const job = JSON.parse(submitted.text) as Job;
    assert.equal(job.status, 'failed', submitted.text);
    assert.match(JSON.stringify(job.error), /Permission denied/, submitted.text);
  });
});

/** `npm run <args>` in the project with `env` added; its exit code and its output (stdout and stderr). */
async function npmRun(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn('npm', ['run', '--silent', ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

describe('npm start starts quietly, and npm run temporal -- <args> is the Temporal CLI on its server', function () {
  this.timeout(180_000);
  let dataDir: string;
  before(async function () {
    dataDir = await mkdtemp(join(tmpdir(), 'durable-jobs-launcher-'));
  });
  after(async function () {
    await stopAllParts();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('prints no warning from start-up to a finished job, and lists the job with workflow list', async function () {
    // Its own dev server, the project's commands (the fixtures' broken ones are warned of) and the default log level,
    // as a newcomer's first npm start.
    const env: Record<string, string> = { ...(await launcherEnv(dataDir)), LOG_LEVEL: 'info' };
    delete env['JOBS_COMMANDS_DIR'];
    const { launcher } = await startLauncher(env);
    const baseUrl = `http://127.0.0.1:${env['PORT']}`;
    const jobId = uniqueJobId('quiet');
    const submitted = await httpRequest(`${baseUrl}/api/v1/jobs?wait=20`, {
      method: 'POST',
      body: JSON.stringify({ type: 'sleep', input: { seconds: 0 }, jobId }),
    });
    assert.equal((JSON.parse(submitted.text) as Job).status, 'succeeded', submitted.text);
    const warnings = launcher
      .recentOutput()
      .split('\n')
      .filter((line) => /\bwarn|"level":[4-6]0/i.test(line));
    assert.deepEqual(warnings, []);

    // Visibility lags a finished workflow by a moment: the list is asked again until the deadline.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { code, output } = await npmRun(['temporal', '--', 'workflow', 'list', '--output', 'json'], env);
      assert.equal(code, 0, output);
      if (output.includes(`"workflowId": "${jobId}"`)) break;
      assert.ok(Date.now() < deadline, `workflow list did not show ${jobId}:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    process.kill(launcher.pid, 'SIGTERM');
    assert.equal(await launcher.waitForExit(30_000), 0, launcher.recentOutput());
  });
});

describe('npm start never says it runs what does not', function () {
  // Five start-ups (two with a dev server of their own) and a job's attempt drained.
  this.timeout(240_000);
  let temporal: TestWorkflowEnvironment;
  let dataDir: string;
  before(async function () {
    temporal = await startDevServer();
    dataDir = await mkdtemp(join(tmpdir(), 'durable-jobs-launcher-'));
  });
  after(async function () {
    await stopAllParts();
    await temporal?.teardown();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses to start while a port it needs is taken, naming each port and the variable that moves it', async function () {
    const env = await launcherEnv(dataDir);
    const variables = ['PORT', 'TEMPORAL_DEV_PORT', 'TEMPORAL_DEV_UI_PORT'];
    const taken = await Promise.all(variables.map((variable) => holdPort(Number(env[variable]))));
    try {
      const launcher = Part.spawn('npm start', 'dev/start.ts', env);
      assert.equal(await launcher.waitForExit(20_000), 1, launcher.recentOutput());
      const output = launcher.recentOutput();
      for (const variable of variables)
        assert.match(
          output,
          new RegExp(`^port ${env[variable]} on 127.0.0.1 is in use: .* set ${variable} to a free port$`, 'm'),
        );
      assert.doesNotMatch(output, /starting the Temporal dev server|durable-jobs is up/, 'it started something');
    } finally {
      await Promise.all(taken.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });

  it('leaves no part running and no port taken when it is killed with SIGKILL', async function () {
    const env = await launcherEnv(dataDir);
    const { launcher, worker, api, temporal: devServer } = await startLauncher(env);
    process.kill(launcher.pid, 'SIGKILL');
    // Each part gets SIGTERM as its parent dies (setpriv --pdeathsig) and stops as if asked.
    await waitUntilGone([worker, api, devServer!], 20_000);
    assert.deepEqual(await portProblems(portsIn(env)), []);
  });

  it('on SIGTERM, exits 0 only after the worker let its running attempt finish', async function () {
    const env = await launcherEnv(dataDir, temporal.address);
    const { launcher, worker, api } = await startLauncher(env);
    const baseUrl = `http://127.0.0.1:${env['PORT']}`;
    const jobId = uniqueJobId('drained');
    const submitted = await httpRequest(`${baseUrl}/api/v1/jobs`, {
      method: 'POST',
      body: JSON.stringify({ type: 'sleep', input: { seconds: 4 }, jobId }),
    });
    assert.equal(submitted.status, 202, submitted.text);
    let job: Job;
    do {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = JSON.parse((await httpRequest(`${baseUrl}/api/v1/jobs/${jobId}`)).text) as Job;
    } while (job.status === 'queued');
    assert.equal(job.status, 'running');
    // From the attempt's start as the job records it, not from when a poll saw it running: a loaded machine answers
    // polls late.
    const attemptEnds = Date.parse(job.startedAt!) + 4000;
    process.kill(launcher.pid, 'SIGTERM');
    assert.equal(await launcher.waitForExit(30_000), 0, launcher.recentOutput());
    const exitedAt = Date.now();
    assert.ok(
      exitedAt >= attemptEnds,
      `npm start exited ${attemptEnds - exitedAt} ms before the attempt could end ${JSON.stringify(job)} ${launcher.recentOutput()}`,
    );
    for (const pid of [worker, api]) assert.ok(isGone(pid), `part ${pid} outlived the launcher`);
  });

  for (const part of ['worker', 'api', 'temporal'] as const) {
    it(`stops the rest and exits 1 when its ${part === 'temporal' ? 'dev server' : part} dies`, async function () {
      const env = await launcherEnv(dataDir, part === 'temporal' ? undefined : temporal.address);
      const pids = await startLauncher(env);
      process.kill(pids[part]!, 'SIGKILL');
      assert.equal(await pids.launcher.waitForExit(30_000), 1, pids.launcher.recentOutput());
      assert.match(pids.launcher.recentOutput(), /exited \(SIGKILL\); stopping the rest/);
      const others = [pids.worker, pids.api, pids.temporal].filter((pid): pid is number => pid !== undefined);
      for (const pid of others) assert.ok(isGone(pid), `part ${pid} outlived the launcher`);
      assert.deepEqual(
        await portProblems(portsIn(env).filter(({ variable }) => part === 'temporal' || variable === 'PORT')),
        [],
      );
    });
  }
});
