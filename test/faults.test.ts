// Process-level faults: the dev server on a SQLite file, the worker and the API as child processes started with
// the project's own entry points; each is killed or stopped while jobs run, and no accepted job may be lost.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { decodeTimeoutType } from '@temporalio/common';
import { pollMaxAgeMs } from '../src/jobs/index.js';
import type { ErrorBody } from '../src/contract/errors.js';
import type { Job } from '../src/contract/job.js';
import { defaultTenant, isFinished, workflowIdOf } from '../src/workflows/job-state.js';
import {
  freePort,
  httpRequest,
  startApiPart,
  startTemporalPart,
  startWorkerPart,
  stopAllParts,
  type Part,
} from './support/processes.js';
import { commandsDir } from './support/service.js';

interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly retryAfter: string | undefined;
  readonly ms: number;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('Faults: nothing accepted is lost when a part dies', function () {
  this.timeout(120_000);

  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const taskQueuePrefix = `faults-${tag}`;
  const ledger = { faults: 0, accepted: new Set<string>(), lost: new Set<string>(), serverErrors: 0 };
  let dataDir: string;
  let temporalPort: number;
  let uiPort: number;
  let apiPort: number;
  let temporal: Part | undefined;
  let worker: Part | undefined;
  let api: Part | undefined;
  let connection: Connection | undefined;
  let client: Client;

  const temporalAddress = (): string => `127.0.0.1:${temporalPort}`;
  const startTemporal = async (): Promise<Part> =>
    (temporal = await startTemporalPart({ port: temporalPort, uiPort, dbFile: join(dataDir, 'temporal.sqlite') }));
  // `normal` has a slot for each of the 20 jobs the worker fault runs at once; `low` has 2, so jobs queue there.
  const startWorker = async (): Promise<Part> =>
    (worker = await startWorkerPart({
      temporalAddress: temporalAddress(),
      taskQueuePrefix,
      commandsDir,
      queues: { normal: 20, low: 2 },
      client,
    }));
  const startApi = async (): Promise<Part> =>
    (api = await startApiPart({ port: apiPort, temporalAddress: temporalAddress(), taskQueuePrefix, commandsDir }));

  /** A request to the API; any 5xx but 503 `unavailable` or `outcome_unknown` is a server error. */
  async function call(method: string, path: string, body?: unknown): Promise<Reply> {
    const started = performance.now();
    const { status, text, headers } = await httpRequest(`http://127.0.0.1:${apiPort}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    const unavailable = status === 503 && ['unavailable', 'outcome_unknown'].includes((parsed as ErrorBody).error.code);
    if (status >= 500 && !unavailable) ledger.serverErrors++;
    return { status, body: parsed, retryAfter: headers['retry-after'], ms: performance.now() - started };
  }

  /** Submits a job; a 202 or 200 means the API accepted it, and from then on it must not be lost. */
  async function submit(body: { jobId: string } & Record<string, unknown>): Promise<Reply> {
    const reply = await call('POST', '/api/v1/jobs', body);
    if (reply.status === 202 || reply.status === 200) ledger.accepted.add(body.jobId);
    return reply;
  }

  /** The jobs' states; a poll may find Temporal away (503), any other answer but 200 fails the test. */
  async function statusesOf(jobIds: readonly string[]): Promise<Map<string, Job>> {
    const replies = await Promise.all(jobIds.map((jobId) => call('GET', `/api/v1/jobs/${jobId}`)));
    for (const [i, reply] of replies.entries()) {
      assert.ok(
        reply.status === 200 || reply.status === 503,
        `poll of ${jobIds[i]} answered ${reply.status}: ${JSON.stringify(reply.body)}`,
      );
    }
    return new Map(
      replies.flatMap((reply, i) => (reply.status === 200 ? [[jobIds[i]!, reply.body as Job] as const] : [])),
    );
  }

  async function waitUntil(
    jobIds: readonly string[],
    holds: (jobs: Job[]) => boolean,
    what: string,
    timeoutMs = 20_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let jobs: Job[] = [];
    while (Date.now() < deadline) {
      jobs = [...(await statusesOf(jobIds)).values()];
      if (jobs.length === jobIds.length && holds(jobs)) return;
      await delay(200);
    }
    assert.fail(`not ${what} after ${timeoutMs} ms: ${jobs.map((job) => `${job.jobId}=${job.status}`).join(', ')}`);
  }

  /** Polls until every job has finished; each one that did not end `succeeded` in time is lost. */
  async function lostAmong(jobIds: readonly string[], timeoutMs = 60_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    const pending = new Set(jobIds);
    const finishedWell = new Set<string>();
    const lost: string[] = [];
    while (pending.size > 0 && Date.now() < deadline) {
      for (const [jobId, job] of await statusesOf([...pending])) {
        if (!isFinished(job.status)) continue;
        pending.delete(jobId);
        if (job.status === 'succeeded') finishedWell.add(jobId);
        else lost.push(`${jobId} (${job.status}: ${job.error?.message})`);
      }
      if (pending.size > 0) await delay(300);
    }
    lost.push(...[...pending].map((jobId) => `${jobId} (unfinished)`));
    for (const jobId of jobIds) if (!finishedWell.has(jobId)) ledger.lost.add(jobId);
    return lost;
  }

  // The parts run with no API keys: every job is the default tenant's.
  const workflowIdFor = (jobId: string): string => workflowIdOf(defaultTenant, jobId);
  const workflowsWithId = async (jobId: string): Promise<number> =>
    (await client.workflow.count(`WorkflowId = '${workflowIdFor(jobId)}'`)).count;

  before(async function () {
    dataDir = await mkdtemp(join(tmpdir(), 'durable-jobs-faults-'));
    [temporalPort, uiPort, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
    await startTemporal();
    connection = await Connection.connect({ address: temporalAddress() });
    client = new Client({ connection });
    await Promise.all([startWorker(), startApi()]);
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const part of [temporal, worker, api]) if (part) console.error(part.recentOutput());
  });

  after(async function () {
    this.timeout(30_000);
    console.log(
      `faults: ${ledger.faults} injected, ${ledger.accepted.size} jobs accepted, ${ledger.lost.size} lost, ${ledger.serverErrors} server errors`,
    );
    await stopAllParts();
    await connection?.close().catch((err: unknown) => console.error('closing the Temporal connection failed', err));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('starts exactly one workflow for 100 concurrent submits of one jobId', async function () {
    const jobId = `dup-${tag}`;
    const body = { type: 'sleep', input: { seconds: 1 }, jobId };
    const replies = await Promise.all(Array.from({ length: 100 }, () => submit(body)));
    // On a loaded machine a few may run past the API's deadline (503): a client submits those again.
    const unavailable = replies.filter((reply) => reply.status === 503).length;
    for (let i = 0; i < unavailable; i++) replies.push(await submit(body));

    const statuses = replies.map((reply) => reply.status);
    assert.equal(statuses.filter((status) => status === 202).length, 1, `statuses: ${statuses.join(' ')}`);
    assert.ok(
      statuses.slice(100).every((status) => status === 200 || status === 202),
      `statuses: ${statuses.join(' ')}`,
    );
    assert.ok(
      statuses.every((status) => status === 200 || status === 202 || status === 503),
      `statuses: ${statuses.join(' ')}`,
    );
    assert.equal(await workflowsWithId(jobId), 1);
    assert.deepEqual(await lostAmong([jobId]), []);
  });

  it('finishes all 20 running jobs, each completed once, after the worker is killed and another started', async function () {
    const jobIds = Array.from({ length: 20 }, (_, i) => `worker-kill-${tag}-${i}`);
    // A 2 s heartbeat timeout makes the server notice the dead worker's attempts soon after the kill.
    const replies = await Promise.all(
      jobIds.map((jobId) =>
        submit({
          type: 'sleep',
          input: { seconds: 10 },
          jobId,
          heartbeatTimeoutSeconds: 2,
          retry: { maxAttempts: 5, initialIntervalSeconds: 1 },
        }),
      ),
    );
    assert.deepEqual(
      replies.map((reply) => reply.status),
      jobIds.map(() => 202),
    );
    // Long enough that no first attempt can finish before the kill, even on a loaded machine.
    await waitUntil(jobIds, (jobs) => jobs.every((job) => job.status === 'running'), 'all running');

    await worker!.kill();
    ledger.faults++;
    await startWorker();

    assert.deepEqual(await lostAmong(jobIds), []);
    for (const jobId of jobIds) {
      const history = await client.workflow.getHandle(workflowIdFor(jobId)).fetchHistory();
      const events = history.events ?? [];
      const completed = events.filter((event) => event.activityTaskCompletedEventAttributes).length;
      const heartbeatTimeouts = events.filter(
        (event) =>
          decodeTimeoutType(event.activityTaskTimedOutEventAttributes?.failure?.timeoutFailureInfo?.timeoutType) ===
          'HEARTBEAT',
      ).length;
      assert.equal(completed, 1, `${jobId}: ${completed} completed attempts`);
      assert.ok(heartbeatTimeouts >= 1, `${jobId}: the killed attempt did not time out on its heartbeat`);
    }
  });

  it('keeps every job pollable and finishes it after the API is killed mid-request and started again', async function () {
    const job = (jobId: string) => ({ type: 'sleep', input: { seconds: 3 }, jobId });
    const running = Array.from({ length: 10 }, (_, i) => `api-kill-${tag}-running-${i}`);
    const replies = await Promise.all(running.map((jobId) => submit(job(jobId))));
    assert.deepEqual(
      replies.map((reply) => reply.status),
      running.map(() => 202),
    );
    await waitUntil(running, (jobs) => jobs.every((j) => j.status === 'running'), 'all running');

    // Submits in flight when the API dies: each waits for its 3 s job (?wait=10), so none can be answered before
    // the kill; some started their job, some never reached Temporal. A client that got no answer submits the
    // same request again: 200 for the job that exists, 202 for one that did not.
    const inFlight = Array.from({ length: 10 }, (_, i) => `api-kill-${tag}-in-flight-${i}`);
    const outcomes = inFlight.map((jobId) =>
      call('POST', '/api/v1/jobs?wait=10', job(jobId)).then(
        (reply) => reply.status,
        () => undefined,
      ),
    );
    await delay(300);
    await api!.kill();
    ledger.faults++;
    const statuses = await Promise.all(outcomes);
    assert.deepEqual(
      statuses,
      inFlight.map(() => undefined),
      'a submit was answered although the API was killed while it waited',
    );
    await startApi();

    for (const jobId of inFlight) {
      const again = await submit(job(jobId));
      assert.ok(again.status === 200 || again.status === 202, `${jobId}: resubmit answered ${again.status}`);
    }
    const all = [...running, ...inFlight];
    assert.equal((await statusesOf(all)).size, all.length, 'every job is pollable after the restart');
    assert.deepEqual(await lostAmong(all), []);
    assert.deepEqual(
      await Promise.all(all.map(workflowsWithId)),
      all.map(() => 1),
    );
  });

  it('answers 503 while the Temporal server is dead (SIGKILL), and finishes every accepted job once it is back on the same file', async function () {
    const jobIds = Array.from({ length: 8 }, (_, i) => `temporal-stop-${tag}-${i}`);
    const replies = await Promise.all(
      jobIds.map((jobId) =>
        submit({
          type: 'sleep',
          input: { seconds: 3 },
          jobId,
          priority: 'low',
          heartbeatTimeoutSeconds: 2,
          retry: { maxAttempts: 5, initialIntervalSeconds: 1 },
        }),
      ),
    );
    assert.deepEqual(
      replies.map((reply) => reply.status),
      jobIds.map(() => 202),
    );
    await waitUntil(
      jobIds,
      (jobs) => jobs.some((job) => job.status === 'running') && jobs.some((job) => job.status === 'queued'),
      'running and queued',
    );

    await temporal!.kill();
    ledger.faults++;
    // A poll may be answered with the API's read of the job from under a second ago; past that, it asks Temporal.
    await delay(pollMaxAgeMs);
    const refusedJobId = `temporal-stop-${tag}-refused`;
    const [refused, poll, ready, health] = await Promise.all([
      submit({ type: 'sleep', input: { seconds: 1 }, jobId: refusedJobId }),
      call('GET', `/api/v1/jobs/${jobIds[0]}`),
      call('GET', '/readyz'),
      call('GET', '/healthz'),
    ]);
    for (const [name, reply] of Object.entries({ submit: refused, poll, readyz: ready })) {
      assert.equal(reply.status, 503, `${name} answered ${reply.status}`);
      // A submit may also answer outcome_unknown: truthful whenever an attempt's failure leaves the API unable to
      // prove its start never left the process; the check below that nothing started holds either way.
      const codes = name === 'submit' ? ['unavailable', 'outcome_unknown'] : ['unavailable'];
      assert.ok(codes.includes((reply.body as ErrorBody).error.code), `${name}: ${JSON.stringify(reply.body)}`);
      if (name !== 'readyz') assert.match(reply.retryAfter ?? '', /^[1-9]\d*$/, `${name}: Retry-After`);
      assert.ok(reply.ms < 7000, `${name} answered after ${Math.round(reply.ms)} ms`);
    }
    assert.equal(health.status, 200);
    assert.ok(api!.isRunning && worker!.isRunning, 'the API and the worker outlive the outage');

    await startTemporal();
    const deadline = Date.now() + 30_000;
    while ((await call('GET', '/readyz')).status !== 200) {
      assert.ok(Date.now() < deadline, 'the API is not ready 30 s after Temporal came back');
      await delay(250);
    }
    assert.deepEqual(await lostAmong(jobIds), []);
    assert.equal(await workflowsWithId(refusedJobId), 0, 'the submit refused during the outage started nothing');
  });

  it('answered no request with a server error (a 5xx but 503 unavailable) through all of the faults', function () {
    assert.ok(ledger.faults >= 3 && ledger.accepted.size > 0);
    assert.equal(ledger.serverErrors, 0);
  });
});
