import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { commandScratchDir, hostPids } from './support/command-scratch.js';
import { TestService, uniqueJobId } from './support/service.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid, as this process sees it, that `wait-forever` wrote as `<pid> pid:[<its namespace>]`. */
async function readPid(file: string, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [pid, namespace] = (await readFile(file, 'utf8').catch(() => '')).trim().split(' ');
    if (pid && namespace?.startsWith('pid:[')) return hostPids([Number(pid)], namespace)[0] ?? -1;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no pid in ${file}`);
}

describe('Cancelling a job', function () {
  let service: TestService;
  before(async function () {
    // One low slot: a second low job stays queued behind the first.
    service = await TestService.start({ workers: { normal: 5, low: 1 } });
  });
  after(async function () {
    await service.teardown();
  });

  it('cancels a queued job at once, before any attempt runs', async function () {
    const blocker = uniqueJobId('blocker');
    await service.submit({ type: 'sleep', input: { seconds: 30 }, priority: 'low', jobId: blocker });
    await service.waitFor(blocker, ['running']);
    const queuedId = uniqueJobId('queued');
    await service.submit({ type: 'sleep', input: { seconds: 1 }, priority: 'low', jobId: queuedId });
    assert.equal((await service.getJob(queuedId)).body.status, 'queued');

    const started = performance.now();
    const { status, body } = await service.cancel(queuedId);
    assert.equal(status, 202);
    assert.equal(body.status, 'cancelled', 'the answer already says cancelled');
    assert.ok(performance.now() - started < 1500);
    assert.equal(body.attempt, 0);
    assert.equal(body.startedAt, null);
    assert.equal(body.error?.type, 'Cancelled');
    await service.cancel(blocker);
    await service.waitFor(blocker, ['cancelled']);
  });

  it('stops a running sleep within 2 s', async function () {
    const jobId = uniqueJobId('running');
    await service.submit({ type: 'sleep', input: { seconds: 60 }, jobId });
    await service.waitFor(jobId, ['running']);
    const started = performance.now();
    const readsBefore = await service.temporalReads('history');
    assert.equal((await service.cancel(jobId)).status, 202);
    // The answer waits a moment for the end, with a long poll Temporal answers at once so close to its deadline:
    // asked again without a pause, that moment was hundreds of history reads.
    const reads = (await service.temporalReads('history')) - readsBefore;
    assert.ok(reads <= 15, `the cancel's answer read the history ${reads} times`);
    const cancelled = await service.waitFor(jobId, ['cancelled'], 5000);
    const elapsedMs = performance.now() - started;
    assert.ok(elapsedMs < 2000, `cancelled after ${Math.round(elapsedMs)} ms`);
    assert.equal(cancelled.attempt, 1);
    assert.ok(cancelled.finishedAt);
    assert.equal(cancelled.result, null);
  });

  it("kills a running command's process", async function () {
    const jobId = uniqueJobId('command');
    // Outside /tmp, which is private to each attempt of a root worker.
    const scratch = await commandScratchDir();
    const pidFile = join(scratch, `${jobId}.pid`);
    try {
      await service.submit({ type: 'command', input: { command: 'wait-forever', env: { PID_FILE: pidFile } }, jobId });
      const pid = await readPid(pidFile);
      assert.ok(isAlive(pid));
      const running = await service.waitFor(jobId, (job) => job.status === 'running' && job.progress !== null);
      assert.deepEqual(running.progress, { percent: 10, message: 'waiting' });
      await service.cancel(jobId);
      await service.waitFor(jobId, ['cancelled'], 5000);
      assert.equal(isAlive(pid), false, 'the command process is gone');
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('answers 409 conflict for a finished job and 404 for an unknown one', async function () {
    const jobId = uniqueJobId('finished');
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId }, '?wait=10');
    const finished = await service.cancel(jobId);
    assert.equal(finished.status, 409);
    assert.equal((finished.body as unknown as { error: { code: string } }).error.code, 'conflict');
    const missing = await service.cancel('never-submitted');
    assert.equal(missing.status, 404);
  });
});
