import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { JobContext } from '@durable-jobs/worker';
import { CancelledFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import fc from 'fast-check';
import { commandJobType, commandSandboxOf, type CommandResult } from '../src/activities/command.js';
import { loadConfig } from '../src/config.js';
import { commandScratchDir, hostPids } from './support/command-scratch.js';
import { commandsDir, TestService, uniqueJobId } from './support/service.js';

describe('The command job type', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start();
  });
  after(async function () {
    await service.teardown();
  });

  it('runs an executable from the commands directory with its arguments, no shell, and a minimal environment', async function () {
    const { status, body } = await service.submit(
      { type: 'command', input: { command: 'echo-args', args: ['one', '$HOME; echo two'], env: { GREETING: 'hi' } } },
      '?wait=10',
    );
    assert.equal(status, 200);
    assert.equal(body.status, 'succeeded');
    const result = body.result as CommandResult;
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, 'one\n$HOME; echo two\ngreeting=hi\nhome=unset\n');
    assert.equal(result.truncated, false);
    assert.ok(result.durationMs >= 0);
  });

  it('fails the attempt on a non-zero exit, with the exit code and stderr in the error', async function () {
    const jobId = uniqueJobId('exit');
    const { body } = await service.submit(
      { type: 'command', input: { command: 'exit-with', args: ['3'] }, jobId },
      '?wait=10',
    );
    assert.equal(body.status, 'failed');
    assert.equal(body.error?.type, 'CommandExitedError');
    assert.match(body.error?.message ?? '', /exited with code 3: exiting with 3/);
    assert.deepEqual(body.error?.details, { exitCode: 3, stdoutTail: '', stderrTail: 'exiting with 3\n' });
  });

  it("keeps a failed command's exit code and the last 4 KiB of its stdout and stderr in the job's error, env values masked", async function () {
    const secret = 'hunter2-the-secret';
    const jobId = uniqueJobId('loud');
    const { body } = await service.submit(
      { type: 'command', input: { command: 'fail-loudly', env: { SECRET: secret } }, jobId },
      '?wait=10',
    );
    assert.equal(body.status, 'failed');
    assert.equal(body.error?.type, 'CommandExitedError');
    const details = body.error?.details as { exitCode: number; stdoutTail: string; stderrTail: string };
    assert.equal(details.exitCode, 7);
    assert.equal(details.stdoutTail, `${'o'.repeat(4096 - 20)}last line of stdout\n`);
    // The tail begins inside the secret ("secret"): that end of it is masked too.
    assert.equal(details.stderrTail, `***${'e'.repeat(4070)}last line of stderr\n`);
    const polled = await service.request('GET', `/api/v1/jobs/${jobId}`);
    assert.deepEqual((polled.body as typeof body).error, body.error);
    for (const piece of [secret, 'secret', 'hunter']) assert.ok(!JSON.stringify(polled.body).includes(piece), piece);
  });

  it('refuses with 400 a command outside the commands directory, through .. or a symlink, and starts nothing', async function () {
    const commands = [
      '../outside-command',
      'escape-link',
      'chain-link',
      '/bin/sh',
      'no-such-command',
      'not-executable',
      '.',
    ];
    for (const command of commands) {
      const jobId = uniqueJobId('outside');
      const { status, body } = await service.submit({ type: 'command', input: { command }, jobId });
      assert.equal(status, 400, command);
      assert.equal((body as unknown as { error: { code: string } }).error.code, 'invalid_request');
      assert.equal(await service.countWorkflows(`WorkflowId = '${jobId}'`), 0);
    }
  });

  it('runs a command through a symlink that stays inside the commands directory', async function () {
    const { body } = await service.submit(
      { type: 'command', input: { command: 'inside-link', args: ['via link'] } },
      '?wait=10',
    );
    assert.equal(body.status, 'succeeded');
    assert.match((body.result as CommandResult).stdout, /^via link\n/);
  });

  it('refuses with 400 an argument or an env value holding a NUL character, which no process can be given', async function () {
    for (const input of [{ args: ['a\u0000b'] }, { env: { GREETING: 'a\u0000b' } }]) {
      const jobId = uniqueJobId('nul');
      const { status, body } = await service.submit({
        type: 'command',
        input: { command: 'echo-args', ...input },
        jobId,
      });
      assert.equal(status, 400, JSON.stringify(input));
      assert.match((body as unknown as { error: { message: string } }).error.message, /NUL/);
      assert.equal(await service.countWorkflows(`WorkflowId = '${jobId}'`), 0);
    }
  });

  it("takes its defaults from the command's manifest (timeoutSeconds, maxAttempts), and a submit body still wins", async function () {
    const byManifest = await service.submit({ type: 'command', input: { command: 'slow-exit' } }, '?wait=10');
    assert.equal(byManifest.body.status, 'timed_out', JSON.stringify(byManifest.body));
    assert.equal(byManifest.body.maxAttempts, 2);
    const jobId = uniqueJobId('body-wins');
    const byBody = await service.submit(
      { type: 'command', input: { command: 'slow-exit' }, timeoutSeconds: 60, retry: { maxAttempts: 1 }, jobId },
      '?wait=2',
    );
    assert.equal(byBody.status, 202, "the 60 s timeout of the body, not the manifest's 1 s");
    assert.equal(byBody.body.maxAttempts, 1);
    await service.cancel(jobId);
  });

  it('passes any arguments to the process exactly as given, with no shell in between', async function () {
    const shellish = fc.constantFrom(
      '$HOME',
      '`id`',
      '$(id)',
      '; echo x',
      '| cat',
      '&&',
      '*',
      '~',
      '"',
      "'",
      '\\',
      '\n',
      ' ',
      '%s',
      '-n',
      '--',
    );
    const argument = fc.oneof(
      shellish,
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary-ascii' }).map((text) => text.replaceAll('\0', '')),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(argument, { maxLength: 8 }), async (args) => {
        const { body } = await service.submit({ type: 'command', input: { command: 'print-args', args } }, '?wait=10');
        assert.equal(body.status, 'succeeded');
        assert.equal((body.result as CommandResult).stdout, args.map((arg) => `${arg}\0`).join(''));
      }),
      { numRuns: 25 },
    );
  });

  it("gives the process only the documented base environment plus the request's env", async function () {
    const { body } = await service.submit(
      { type: 'command', input: { command: 'print-env', env: { GREETING: 'hi', EMPTY: '' } } },
      '?wait=10',
    );
    assert.equal(body.status, 'succeeded');
    const variables = (body.result as CommandResult).stdout.split('\0').filter(Boolean).sort();
    // The base the README documents, and the worker's pid (a pid namespace hides it); nothing of the worker's own environment.
    assert.deepEqual(variables, [
      'EMPTY=',
      'GREETING=hi',
      `JOBS_WORKER_PID=${process.pid}`,
      'LANG=C.UTF-8',
      'PATH=/usr/local/bin:/usr/bin:/bin',
    ]);
  });

  it('keeps at most 64 KiB of stdout and of stderr, and says it truncated them', async function () {
    const { body } = await service.submit({ type: 'command', input: { command: 'chatter' } }, '?wait=10');
    assert.equal(body.status, 'succeeded');
    const result = body.result as CommandResult;
    assert.equal(result.truncated, true);
    assert.equal(result.stdout, 'o'.repeat(64 * 1024));
    assert.equal(result.stderr, 'e'.repeat(64 * 1024));
  });

  it('refuses LD_* variables in env with 400, so a request cannot preload a library', async function () {
    const jobId = uniqueJobId('preload');
    const { status } = await service.submit({
      type: 'command',
      input: { command: 'echo-args', env: { LD_PRELOAD: '/tmp/evil.so' } },
      jobId,
    });
    assert.equal(status, 400);
    assert.equal(await service.countWorkflows(`WorkflowId = '${jobId}'`), 0);
  });
});

describe('A command job cancelled before its command starts', function () {
  it('never starts the command: a cancel heard while it was being prepared is not lost', async function () {
    const commandType = await commandJobType({
      commandsDir,
      commandSandbox: commandSandboxOf(loadConfig({ JOBS_COMMANDS_DIR: commandsDir })),
    });
    // Outside /tmp, which is private to each attempt of a root worker.
    const scratch = await commandScratchDir();
    const pidFile = join(scratch, 'pid');
    const cancelled = new AbortController();
    cancelled.abort(new CancelledFailure('CANCELLED'));
    const log = Object.assign(Object.create(new DefaultLogger('ERROR')) as DefaultLogger, { keep: () => undefined });
    const context: JobContext = {
      jobId: 'cancelled-early',
      tenant: 'default',
      attempt: 1,
      signal: cancelled.signal,
      log,
      progress: () => undefined,
    };
    try {
      const ending = commandType.run({ command: 'wait-forever', env: { PID_FILE: pidFile } }, context).then(
        () => 'returned',
        (err: unknown) => err,
      );
      const ended = await Promise.race([ending, delay(3000).then(() => 'still running after 3 s')]);
      assert.ok(ended instanceof CancelledFailure, String(ended));
      assert.equal(existsSync(pidFile), false, 'the command started');
    } finally {
      // A command that started anyway waits an hour: it goes with the test.
      const [pid, namespace] = (await readFile(pidFile, 'utf8').catch(() => '')).trim().split(' ');
      if (pid && namespace) for (const hostPid of hostPids([Number(pid)], namespace)) process.kill(hostPid, 'SIGKILL');
      await rm(scratch, { recursive: true, force: true });
    }
  });
});

describe('A worker whose commands directory cannot be read', function () {
  it('says so, naming the directory, and offers no command', async function () {
    const problems: string[] = [];
    const missing = join(commandsDir, 'no-such-directory');
    const commandType = await commandJobType({ commandsDir: missing }, (problem) => problems.push(problem));
    assert.deepEqual(problems, [`the commands directory ${missing} cannot be read (ENOENT): no command is offered`]);
    const { command } = commandType.declaration.inputSchema['properties'] as Record<string, object>;
    assert.deepEqual(command, { type: 'string', description: 'a command of the commands directory', not: {} });
  });
});
