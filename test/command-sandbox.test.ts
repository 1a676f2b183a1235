// A command job cannot be turned against the worker: its env cannot reach an interpreter, it runs as an
// unprivileged user under resource limits, and nothing it starts outlives its attempt, even a killed worker.
// Markers and pid files live in a scratch directory outside /tmp, which a root worker makes private to each attempt.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, type Logger } from '@temporalio/worker';
import type { JobContext } from '@durable-jobs/worker';
import {
  commandJobType,
  commandSandboxOf,
  type CommandResult,
  type CommandSettings,
} from '../src/activities/command.js';
import { commandCatalog } from '../src/activities/command/catalog.js';
import { loadConfig } from '../src/config.js';
import type { Job } from '../src/contract/job.js';
import { commandScratchDir, hostPids } from './support/command-scratch.js';
import { startWorkerPart, type Part } from './support/processes.js';
import { commandsDir, TestService, uniqueJobId } from './support/service.js';

const isRoot = process.getuid?.() === 0;
const errorOf = (body: unknown): { code: string; message: string } =>
  (body as { error: { code: string; message: string } }).error;
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Running or stopped: a zombie has ended, only its parent (here init, which may be slow) has not reaped it. */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * The pids, as this process sees them, that a command wrote as `<pid>… pid:[<namespace>]` (`leave-background`:
 * its own, its child holding the pipes, its child ignoring SIGTERM): those of processes already gone are left out.
 */
async function readPids(pidFile: string, count = 3, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const words = (await readFile(pidFile, 'utf8').catch(() => '')).trim().split(' ');
    const pids = words.slice(0, -1).map(Number);
    const namespace = words.at(-1) ?? '';
    if (pids.length === count && pids.every((pid) => pid > 0) && namespace.startsWith('pid:['))
      return hostPids(pids, namespace);
    if (Date.now() > deadline) throw new Error(`no pids in ${pidFile}`);
    await delay(50);
  }
}

/** The command job type's handler, run in this process as a worker would run it, without Temporal. */
const commandJob = {
  async run(input: unknown, context: JobContext, settings: CommandSettings): Promise<CommandResult> {
    return (await commandJobType(settings)).run(input, context);
  },
};

/** A context for running the handler in this process, with the progress it reports. */
function directContext(signal = new AbortController().signal): JobContext & { reported: [number, string | null][] } {
  const reported: [number, string | null][] = [];
  return {
    jobId: uniqueJobId('direct'),
    tenant: 'default',
    // The worker's logger, and the lines kept for the job's logs dropped (test/job-logs.test.ts reads those).
    log: Object.assign(Object.create(Runtime.instance().logger) as Logger, { keep: () => undefined }),
    attempt: 1,
    signal,
    progress: (percent, message) => {
      reported.push([percent ?? -1, message ?? null]);
    },
    reported,
  };
}

/** Resolves once none of the pids is alive; fails after `timeoutMs`. */
async function allGone(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive)) {
    if (Date.now() > deadline) throw new Error(`still alive after ${timeoutMs} ms: ${pids.filter(isAlive).join(', ')}`);
    await delay(20);
  }
}

describe("A command's env cannot make an interpreter run code", function () {
  let service: TestService;
  let scratch: string;
  let marker: string;
  before(async function () {
    service = await TestService.start();
    scratch = await commandScratchDir();
  });
  after(async function () {
    await service.teardown();
    await rm(scratch, { recursive: true, force: true });
  });
  beforeEach(function () {
    marker = join(scratch, `${uniqueJobId('marker')}.marker`);
  });
  afterEach(async function () {
    await rm(marker, { force: true });
  });

  it("refuses with 400, naming it, every variable the command's manifest does not declare, and starts nothing", async function () {
    const tricks: [string, string, string][] = [
      ['greet-bash', 'BASH_ENV', `$(touch ${marker})`],
      ['greet-bash', 'ENV', `$(touch ${marker})`],
      ['greet-bash', 'SHELLOPTS', 'xtrace'],
      ['greet-bash', 'PS4', `$(touch ${marker})`],
      ['greet-sh', 'ENV', `$(touch ${marker})`],
      [
        'greet-node',
        'NODE_OPTIONS',
        `--import=data:text/javascript,import('fs').then((fs)=>fs.writeFileSync('${marker}',''))`,
      ],
      ['greet-python', 'PYTHONSTARTUP', marker],
      ['greet-python', 'PYTHONPATH', scratch],
      ['greet-sh', 'PERL5OPT', '-Mstrict'],
      ['greet-sh', 'RUBYOPT', '-rsocket'],
      ['greet-sh', 'GCONV_PATH', scratch],
      ['echo-args', 'LD_PRELOAD', '/tmp/evil.so'],
      ['echo-args', 'PATH', scratch],
      ['greet-bash', 'bash_env', `$(touch ${marker})`],
      ['greet-node', 'NODE_OPTIONS ', '--inspect'],
      ['greet-bash', 'greeting', 'hi'],
      ['greet-bash', 'GREETING ', 'hi'],
      // A command without a manifest accepts no env at all.
      ['print-args', 'GREETING', 'hi'],
    ];
    for (const [command, name, value] of tricks) {
      const jobId = uniqueJobId('trick');
      const { status, body } = await service.submit({
        type: 'command',
        input: { command, env: { GREETING: 'hi', [name]: value } },
        jobId,
      });
      assert.equal(status, 400, `${command} with ${JSON.stringify(name)}`);
      assert.equal(errorOf(body).code, 'invalid_request');
      assert.ok(
        errorOf(body).message.includes(JSON.stringify(name)),
        `the message names ${JSON.stringify(name)}: ${errorOf(body).message}`,
      );
      assert.equal(await service.countWorkflows(`WorkflowId = '${jobId}'`), 0);
    }
    assert.equal(existsSync(marker), false);
  });

  it('refuses with 400 __proto__, constructor and prototype as env names, which a plain record would drop without a word', async function () {
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      const jobId = uniqueJobId('proto');
      // A computed key: an own property, as JSON.parse makes it.
      const { status, body } = await service.submit({
        type: 'command',
        input: { command: 'greet-bash', env: { [name]: 'x' } },
        jobId,
      });
      assert.equal(status, 400, name);
      assert.ok(errorOf(body).message.includes(JSON.stringify(name)), errorOf(body).message);
      assert.equal(await service.countWorkflows(`WorkflowId = '${jobId}'`), 0);
    }
  });

  it("passes a declared variable's value to bash, dash, node and python3 as plain text that runs nothing", async function () {
    const values = [
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `() { :; }; touch ${marker}`,
      `; touch ${marker}`,
      `--require=${marker}`,
      `'"\\$x%s\n${marker}`,
    ];
    for (const command of ['greet-bash', 'greet-sh', 'greet-node', 'greet-python']) {
      for (const value of values) {
        const { body } = await service.submit(
          { type: 'command', input: { command, env: { GREETING: value } } },
          '?wait=10',
        );
        assert.equal(body.status, 'succeeded', `${command}: ${JSON.stringify(body.error)}`);
        // The value, exactly: the result shows it masked, and only the whole value is.
        assert.equal((body.result as CommandResult).stdout, 'greeting=***\n', command);
        assert.equal(existsSync(marker), false, `${command} ran code from ${JSON.stringify(value)}`);
      }
    }
  });

  it("refuses an undeclared variable at the worker too, when a request reaches it without the API's check", async function () {
    const settings = { commandsDir, commandSandbox: commandSandboxOf(loadConfig({})) };
    const context = directContext();
    await assert.rejects(
      commandJob.run(
        { command: 'greet-bash', env: { GREETING: 'hi', BASH_ENV: `$(touch ${marker})` } },
        context,
        settings,
      ),
      (err: Error) => err.name === 'UnrecoverableError' && err.message.includes('"BASH_ENV"'),
    );
    assert.equal(existsSync(marker), false);
  });

  it('does not run a manifest as a command, even one with the execute bit', async function () {
    const dir = await mkdtemp(join(tmpdir(), 'commands-'));
    try {
      await writeFile(join(dir, 'tool'), '#!/bin/sh\necho tool\n', { mode: 0o755 });
      await writeFile(join(dir, 'tool.json'), '{ "env": [] }\n', { mode: 0o755 });
      // The declared schema offers the command, not its manifest; the handler refuses the manifest again.
      const { commands } = await commandCatalog(dir);
      assert.deepEqual(
        commands.map(({ name }) => name),
        ['tool'],
      );
      await assert.rejects(
        commandJob.run({ command: 'tool.json' }, directContext(), { commandsDir: dir }),
        /is a manifest, not a command/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses every env of a command whose manifest declares an interpreter's or the loader's variable", async function () {
    const dir = await mkdtemp(join(tmpdir(), 'commands-'));
    try {
      await writeFile(join(dir, 'tool'), '#!/bin/sh\necho tool\n', { mode: 0o755 });
      const names = [
        'BASH_ENV',
        'NODE_OPTIONS',
        'PYTHONSTARTUP',
        'LD_PRELOAD',
        'PATH',
        'HOME',
        'LUA_INIT',
        'OPENSSL_CONF',
        'JDK_JAVA_OPTIONS',
        'CLASSPATH',
        'GIT_SSH_COMMAND',
        'git_config_parameters',
        'NODE_V8_COVERAGE',
        'TZ',
        'TZDIR',
        'HOSTALIASES',
        'RES_OPTIONS',
        'LOCALDOMAIN',
        'NLSPATH',
        'BASH_XTRACEFD',
        'EDITOR',
        'VISUAL',
        'PAGER',
        'LESSOPEN',
        'SSH_ASKPASS',
        'PHPRC',
        'GEM_HOME',
        'BUNDLE_GEMFILE',
        'NPM_CONFIG_PREFIX',
        'PIP_INDEX_URL',
        'XDG_CONFIG_HOME',
        'TMPDIR',
        'http_proxy',
        'HTTPS_PROXY',
        'ALL_PROXY',
        'NO_PROXY',
        'JOBS_WORKER_PID',
      ];
      for (const name of names) {
        await writeFile(join(dir, 'tool.json'), JSON.stringify({ env: ['GREETING', name] }));
        // Such a command is not offered at all: the worker leaves it out of the declared schema, and says why.
        const { commands, skipped } = await commandCatalog(dir);
        assert.deepEqual(commands, [], name);
        assert.match(
          skipped[0]?.problem ?? '',
          new RegExp(`manifest of command "tool" is invalid: env.1: "${name}" lets a value run code`),
          name,
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('A command runs as an unprivileged user', function () {
  let service: TestService;
  before(async function () {
    if (!isRoot) this.skip();
    service = await TestService.start();
  });
  after(async function () {
    await service?.teardown();
  });

  it("runs as nobody, with nobody's group and no other, when the worker is root, and no set-uid program raises that", async function () {
    const { body } = await service.submit({ type: 'command', input: { command: 'print-ids' } }, '?wait=10');
    assert.equal(body.status, 'succeeded', JSON.stringify(body.error));
    assert.equal((body.result as CommandResult).stdout, '65534\n65534\n65534\nNoNewPrivs:\t1\n');
  });
});

describe('A command that exceeds a resource limit fails its attempt, and the worker goes on', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start({
      env: {
        JOBS_COMMAND_MAX_PROCESSES: '32',
        JOBS_COMMAND_MEMORY_BYTES: String(1024 * 1024 * 1024),
        JOBS_COMMAND_CPU_SECONDS: '2',
      },
    });
  });
  after(async function () {
    await service.teardown();
  });

  async function endsFailedWithin(command: string, seconds: number, error: RegExp): Promise<void> {
    const started = performance.now();
    const jobId = uniqueJobId(command);
    await service.submit({ type: 'command', input: { command }, jobId, timeoutSeconds: 60 });
    const job: Job = await service.waitFor(jobId, ['succeeded', 'failed'], seconds * 1000);
    assert.equal(job.status, 'failed', JSON.stringify(job.result));
    assert.match(job.error?.message ?? '', error);
    assert.ok(performance.now() - started < seconds * 1000);
    const next = await service.submit({ type: 'command', input: { command: 'echo-args', args: ['next'] } }, '?wait=10');
    assert.equal(next.body.status, 'succeeded', 'the worker runs the next job');
  }

  it('ends a fork bomb at the process limit', async function () {
    if (!isRoot) this.skip();
    await endsFailedWithin('fork-bomb', 15, /Resource temporarily unavailable/);
  });

  it('ends a memory hog at the address-space limit', async function () {
    await endsFailedWithin('memory-hog', 15, /Cannot allocate memory|MemoryError/);
  });

  it('ends a CPU spinner at the CPU time limit, naming the signal', async function () {
    await endsFailedWithin('cpu-spin', 15, /killed by SIGXCPU \(its CPU time limit\)/);
  });
});

describe('Nothing a command starts outlives its attempt', function () {
  let service: TestService;
  let scratch: string;
  let pidFile: string;
  before(async function () {
    service = await TestService.start();
    scratch = await commandScratchDir();
  });
  after(async function () {
    await service.teardown();
    await rm(scratch, { recursive: true, force: true });
  });
  beforeEach(function () {
    pidFile = join(scratch, `${uniqueJobId('background')}.pid`);
  });
  afterEach(async function () {
    await rm(pidFile, { force: true });
  });

  it('kills the background children when the command exits, and does not wait for the pipes they hold', async function () {
    const { body } = await service.submit(
      { type: 'command', input: { command: 'leave-background', env: { PID_FILE: pidFile } } },
      '?wait=10',
    );
    assert.equal(body.status, 'succeeded');
    assert.equal((body.result as CommandResult).stdout, '::progress 10 started\n');
    await allGone(await readPids(pidFile), 1000);
  });

  it('kills the command and its background children, even one ignoring SIGTERM, when the job is cancelled', async function () {
    const jobId = uniqueJobId('cancel');
    await service.submit({
      type: 'command',
      input: { command: 'leave-background', args: ['wait'], env: { PID_FILE: pidFile } },
      jobId,
    });
    const pids = await readPids(pidFile);
    await service.waitFor(jobId, ['running']);
    await service.cancel(jobId);
    await service.waitFor(jobId, ['cancelled'], 5000);
    await allGone(pids, 3000);
  });

  it('kills the command and its background children, even one ignoring SIGTERM, when the attempt times out', async function () {
    const jobId = uniqueJobId('timeout');
    await service.submit({
      type: 'command',
      input: { command: 'leave-background', args: ['wait'], env: { PID_FILE: pidFile } },
      jobId,
      timeoutSeconds: 1,
    });
    const pids = await readPids(pidFile);
    await service.waitFor(jobId, ['timed_out'], 10_000);
    await allGone(pids, 3000);
  });

  it("kills a process that left the attempt's process group and session (setsid) when the command exits", async function () {
    if (!isRoot) this.skip();
    const settings = { commandsDir, commandSandbox: commandSandboxOf(loadConfig({})) };
    const run = commandJob.run({ command: 'escape-session', env: { PID_FILE: pidFile } }, directContext(), settings);
    const [escaped] = await readPids(pidFile, 1);
    assert.ok(escaped !== undefined && isAlive(escaped), 'the escaped process runs while the command does');
    await writeFile(`${pidFile}.seen`, '');
    await run;
    await allGone([escaped], 1000);
  });
});

describe('A command dies with its worker', function () {
  this.timeout(120_000);
  let service: TestService;
  let worker: Part | undefined;
  let scratch: string;
  let pidFile: string;
  before(async function () {
    service = await TestService.start({ workers: false });
    scratch = await commandScratchDir();
    pidFile = join(scratch, `${uniqueJobId('worker-kill')}.pid`);
  });
  after(async function () {
    await worker?.stop();
    await service.teardown();
    await rm(scratch, { recursive: true, force: true });
  });

  it("kills the command and its background children within a second of the worker's SIGKILL", async function () {
    worker = await startWorkerPart({
      temporalAddress: service.config.temporalAddress,
      taskQueuePrefix: service.config.JOBS_TASK_QUEUE_PREFIX,
      commandsDir,
      queues: { normal: 2 },
      client: service.temporal.client,
    });
    await service.submit({
      type: 'command',
      input: { command: 'leave-background', args: ['wait'], env: { PID_FILE: pidFile } },
    });
    const pids = await readPids(pidFile, 3, 30_000);
    assert.equal(pids.length, 3);
    assert.ok(pids.every(isAlive));
    await worker.kill();
    await allGone(pids, 1000);
  });
});

describe('Each attempt of a root worker has namespaces of its own', function () {
  let scratch: string;
  const settings = (env: Record<string, string> = {}) => ({
    commandsDir,
    commandSandbox: commandSandboxOf(loadConfig(env)),
  });
  before(async function () {
    if (!isRoot) this.skip();
    scratch = await commandScratchDir();
  });
  after(async function () {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('does not see, in /proc, the processes of another attempt running as the same user, nor their env', async function () {
    const pidFile = join(scratch, 'hold-secret.pid');
    const holder = new AbortController();
    const held = commandJob
      .run(
        { command: 'hold-secret', env: { SECRET: 'held-by-another-tenant', PID_FILE: pidFile } },
        directContext(holder.signal),
        settings(),
      )
      .catch((err: unknown) => err);
    try {
      for (let waited = 0; !existsSync(pidFile); waited += 20) {
        if (waited > 10_000) throw new Error('hold-secret did not start');
        await delay(20);
      }
      const peek = await commandJob.run({ command: 'peek-environ' }, directContext(), settings());
      assert.equal(peek.stdout, '0\n');
    } finally {
      holder.abort(new Error('done'));
      await held;
    }
  });

  it("has no network but a down loopback by default (not the worker's, so not Temporal's port), and the worker's with JOBS_COMMAND_NETWORK=host", async function () {
    const { createServer } = await import('node:net');
    const server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((server.address() as { port: number }).port);
      const none = await commandJob.run({ command: 'reach-port', args: [port] }, directContext(), settings());
      assert.equal(none.stdout, 'unreachable\n');
      const host = await commandJob.run(
        { command: 'reach-port', args: [port] },
        directContext(),
        settings({ JOBS_COMMAND_NETWORK: 'host' }),
      );
      assert.equal(host.stdout, 'connected\n');
    } finally {
      server.close();
    }
  });

  it('has an empty /tmp, /var/tmp and /dev/shm of its own, which the next attempt does not see', async function () {
    const visible = join(tmpdir(), `${uniqueJobId('host-tmp')}.visible`);
    await writeFile(visible, '');
    // A checkout under /tmp (as CI's may be) keeps the folder that holds the commands in the attempt's /tmp.
    const kept = /^\/tmp\/([^/]+)/.exec(commandsDir)?.[1];
    try {
      for (const attempt of [1, 2]) {
        const { stdout } = await commandJob.run({ command: 'use-tmp' }, directContext(), settings());
        assert.equal(stdout, kept ? `${kept}\n` : '', `attempt ${attempt}`);
      }
    } finally {
      await rm(visible, { force: true });
    }
  });

  it('runs each attempt as a uid of its own from JOBS_COMMAND_UIDS, with that number as its only group', async function () {
    const uidSettings = settings({ JOBS_COMMAND_UIDS: '200000-200001' });
    const results = await Promise.all(
      [1, 2].map(() => commandJob.run({ command: 'print-ids', args: ['0.5'] }, directContext(), uidSettings)),
    );
    const uids = results.map(({ stdout }) => {
      const [uid, gid, groups, noNewPrivs] = stdout.split('\n');
      assert.equal(gid, uid);
      assert.equal(groups, uid);
      assert.equal(noNewPrivs, 'NoNewPrivs:\t1');
      return Number(uid);
    });
    assert.ok(
      uids.every((uid) => uid >= 200_000 && uid <= 200_001),
      String(uids),
    );
    assert.notEqual(uids[0], uids[1], 'two attempts at once');
  });
});

describe("A command's output", function () {
  const settings = { commandsDir, commandSandbox: commandSandboxOf(loadConfig({})) };

  it('keeps 64 KiB of 40 MB printed without a newline within seconds, the event loop free, and still reads a progress line after', async function () {
    this.timeout(20_000);
    let lastTick = performance.now();
    let longestGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - lastTick);
      lastTick = now;
    }, 10);
    try {
      const started = performance.now();
      const context = directContext();
      const result = await commandJob.run({ command: 'flood' }, context, settings);
      assert.ok(performance.now() - started < 8000, `took ${Math.round(performance.now() - started)} ms`);
      assert.equal(result.stdout, 'x'.repeat(64 * 1024));
      assert.equal(result.truncated, true);
      assert.deepEqual(context.reported, [[50, 'after the flood']]);
      // The reader that buffered the whole output held the loop for seconds; on a loaded machine this process (the
      // test runner, its collector included) can wait a few hundred ms for a core at any time (279 ms seen in CI).
      assert.ok(longestGap < 1000, `the event loop stalled ${Math.round(longestGap)} ms`);
    } finally {
      clearInterval(ticker);
    }
  });

  it("carries no env value of 4 characters or more: *** in the error's stderr tail, the result's stdout and stderr, and progress", async function () {
    const env = { SECRET: 'hunter2-the-secret', SHORT: 'abc' };
    const failing = directContext();
    await assert.rejects(
      commandJob.run({ command: 'echo-secret', args: ['3'], env }, failing, settings),
      (err: Error) => {
        assert.equal(err.name, 'CommandExitedError');
        assert.equal(err.message, '"echo-secret" exited with code 3: err *** abc');
        return true;
      },
    );
    const context = directContext();
    const result = await commandJob.run({ command: 'echo-secret', env }, context, settings);
    assert.equal(result.stdout, 'out *** abc\n::progress 10 at ***\n');
    assert.equal(result.stderr, 'err *** abc\n');
    assert.deepEqual(context.reported, [[10, 'at ***']]);
    assert.deepEqual(failing.reported, [[10, 'at ***']]);
  });
});
