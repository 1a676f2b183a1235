import assert from 'node:assert/strict';
import { TestService, uniqueJobId } from './support/service.js';

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
    const result = body.result as { exitCode: number; stdout: string; stderr: string; truncated: boolean; durationMs: number };
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, 'one\n$HOME; echo two\ngreeting=hi\nhome=unset\n');
    assert.equal(result.truncated, false);
    assert.ok(result.durationMs >= 0);
  });

  it('fails the attempt on a non-zero exit, with the exit code and stderr in the error', async function () {
    const jobId = uniqueJobId('exit');
    const { body } = await service.submit({ type: 'command', input: { command: 'exit-with', args: ['3'] }, jobId }, '?wait=10');
    assert.equal(body.status, 'failed');
    assert.equal(body.error?.type, 'CommandExitedError');
    assert.match(body.error?.message ?? '', /exited with code 3: exiting with 3/);
  });

  it('refuses with 400 a command outside the commands directory, through .. or a symlink, and starts nothing', async function () {
    for (const command of ['../outside-command', 'escape-link', '/bin/sh', 'no-such-command']) {
      const jobId = uniqueJobId('outside');
      const { status, body } = await service.submit({ type: 'command', input: { command }, jobId });
      assert.equal(status, 400, command);
      assert.equal((body as unknown as { error: { code: string } }).error.code, 'invalid_request');
      assert.equal(await service.countWorkflows(`WorkflowId = '${jobId}'`), 0);
    }
  });
});
