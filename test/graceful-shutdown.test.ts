import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '../src/contract/job.js';
import { Part, freePort, httpRequest, stopAllParts } from './support/processes.js';
import { commandsDir, uniqueJobId } from './support/service.js';

/** `npm start` (dev/start.ts) as one process on free ports, persisted to `dbFile`; ready once it says so. */
async function startEverything(env: Record<string, string>): Promise<Part> {
  const part = Part.spawn('npm start', 'dev/start.ts', env);
  await part.waitForOutput(/durable-jobs is up/, 60_000);
  return part;
}

/** SIGTERM to the launcher alone, as a supervisor sends it: it exits 0 and leaves no process of its group behind. */
async function sigtermAndWait(part: Part, timeoutMs = 30_000): Promise<void> {
  process.kill(part.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (part.isRunning) {
    if (Date.now() > deadline) throw new Error(`npm start did not stop within ${timeoutMs} ms\n${part.recentOutput()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(part.exitCode, 0, part.recentOutput());
  await part.stop(); // nothing left to signal: this checks that the whole group is gone
}

/** src/api/main.ts: requests in flight get this long after SIGTERM. */
const apiShutdownGraceMs = 10_000;

describe('Graceful shutdown of npm start', function () {
  // Two start-ups (dev server, worker bundling), a shutdown with a grace period, and a 15 s job.
  this.timeout(180_000);
  let dataDir: string;
  let env: Record<string, string>;
  let baseUrl: string;
  before(async function () {
    dataDir = await mkdtemp(join(tmpdir(), 'durable-jobs-shutdown-'));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = {
      PORT: String(port),
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_DEV_UI_PORT: String(await freePort()),
      TEMPORAL_DEV_DB_FILE: join(dataDir, 'temporal.sqlite'),
      JOBS_COMMANDS_DIR: commandsDir,
      LOG_LEVEL: 'warn',
    };
  });
  after(async function () {
    await stopAllParts();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stops cleanly on SIGTERM while a job runs, and the job succeeds after the next start', async function () {
    const first = await startEverything(env);
    const jobId = uniqueJobId('through-restart');
    const submitted = await httpRequest(`${baseUrl}/api/v1/jobs`, {
      method: 'POST',
      body: JSON.stringify({ type: 'sleep', input: { seconds: 15 }, heartbeatTimeoutSeconds: 2, jobId }),
    });
    assert.equal(submitted.status, 202);
    const poll = async (): Promise<Job> =>
      JSON.parse((await httpRequest(`${baseUrl}/api/v1/jobs/${jobId}`)).text) as Job;
    while ((await poll()).status !== 'running') await new Promise((resolve) => setTimeout(resolve, 200));

    // A submit waiting for its job, and an event stream following the running one, when the stop comes.
    const waiting = httpRequest(`${baseUrl}/api/v1/jobs?wait=60`, {
      method: 'POST',
      body: JSON.stringify({ type: 'sleep', input: { seconds: 30 }, jobId: uniqueJobId('waiting') }),
    }).then((reply) => ({ status: reply.status, job: JSON.parse(reply.text) as Job, at: Date.now() }));
    // Streamed with fetch, to see it open before the stop; it is no JSON answer to check against the document.
    const stream = await fetch(`${baseUrl}/api/v1/jobs/${jobId}/events`);
    assert.equal(stream.status, 200);
    const streamEnded = stream.text().then((text) => ({ text, at: Date.now() }));
    await new Promise((resolve) => setTimeout(resolve, 500));

    const stopAt = Date.now();
    await sigtermAndWait(first);
    const waited = await waiting;
    assert.equal(waited.status, 202, 'the waiting submit is answered with its job as it is, not cut off');
    assert.ok(['queued', 'running'].includes(waited.job.status), waited.job.status);
    const streamed = await streamEnded;
    assert.match(streamed.text, /event: /, 'the event stream ended properly, after its events');
    // Both end as the stop begins, well within the API's 10 s grace for requests in flight.
    for (const [what, at] of [
      ['the wait', waited.at],
      ['the stream', streamed.at],
    ] as const) {
      assert.ok(at - stopAt < apiShutdownGraceMs, `${what} ended ${at - stopAt} ms after the stop`);
    }
    assert.equal(
      (await httpRequest(`${baseUrl}/healthz`).catch(() => undefined))?.status,
      undefined,
      'the API is gone',
    );

    await startEverything(env);
    let job = await poll();
    const deadline = Date.now() + 60_000;
    while (job.status !== 'succeeded' && Date.now() < deadline) {
      assert.ok(!['failed', 'timed_out', 'cancelled'].includes(job.status), `the job ended ${job.status}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      job = await poll();
    }
    assert.equal(job.status, 'succeeded');
    assert.deepEqual(job.result, { sleptSeconds: 15, message: null });
  });
});
