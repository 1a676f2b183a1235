import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ErrorBody } from '../src/contract/errors.js';
import type { Job } from '../src/contract/job.js';
import { freePort } from './support/processes.js';
import { commandScratchDir } from './support/command-scratch.js';
import { TestService, uniqueJobId } from './support/service.js';
import { until } from './support/until.js';

const callbackSecret = 'callback-secret-0123456789';

interface Delivery {
  body: string;
  signature: string | undefined;
}

/** A callback receiver on `port` that refuses the first `failures` deliveries with 500. */
async function startReceiver(
  failures: number,
  port: number,
): Promise<{ server: Server; url: string; deliveries: Delivery[]; refused: () => number }> {
  const deliveries: Delivery[] = [];
  let refusedCount = 0;
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (refusedCount < failures) {
        refusedCount++;
        res.writeHead(500).end();
        return;
      }
      deliveries.push({
        body: Buffer.concat(chunks).toString('utf8'),
        signature: req.headers['x-signature'] as string | undefined,
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${port}/hook`, deliveries, refused: () => refusedCount };
}

describe('Retrying a finished job', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start();
  });
  after(async function () {
    await service.teardown();
  });

  it('runs a failed job again as run 2 of the same job id, keeping run 1 in Temporal', async function () {
    const jobId = uniqueJobId('rerun');
    // Outside /tmp, which is private to each attempt of a root worker: the second run must see the first's marker.
    const scratch = await commandScratchDir();
    const marker = join(scratch, `${jobId}.marker`);
    try {
      const first = await service.submit(
        { type: 'command', input: { command: 'fail-first-time', env: { MARKER: marker } }, jobId },
        '?wait=10',
      );
      assert.equal(first.body.status, 'failed');
      assert.equal(first.body.run, 1);
      const retried = await service.request<Job>('POST', `/api/v1/jobs/${jobId}/retry`);
      assert.equal(retried.status, 202);
      assert.equal(retried.body.run, 2);
      assert.equal(retried.body.status, 'queued');
      const done = await service.waitFor(jobId, ['succeeded']);
      assert.equal(done.run, 2);
      assert.equal((done.result as { stdout: string }).stdout, 'second time\n');
      assert.equal(await service.countWorkflows(`WorkflowId = '${jobId}'`), 2);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('retries a cancelled job, and refuses with 409 a succeeded or unfinished one, 404 an unknown one', async function () {
    const cancelledId = uniqueJobId('cancelled');
    await service.submit({ type: 'sleep', input: { seconds: 30 }, jobId: cancelledId });
    await service.cancel(cancelledId);
    await service.waitFor(cancelledId, ['cancelled']);
    assert.equal((await service.request('POST', `/api/v1/jobs/${cancelledId}/retry`)).status, 202);
    const running = await service.request<ErrorBody>('POST', `/api/v1/jobs/${cancelledId}/retry`);
    assert.equal(running.status, 409);
    await service.cancel(cancelledId);

    const succeededId = uniqueJobId('succeeded');
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: succeededId }, '?wait=10');
    const succeeded = await service.request<ErrorBody>('POST', `/api/v1/jobs/${succeededId}/retry`);
    assert.equal(succeeded.status, 409);
    assert.equal(succeeded.body.error.code, 'conflict');
    assert.equal((await service.request('POST', '/api/v1/jobs/never-was/retry')).status, 404);
  });
});

describe('Completion callbacks', function () {
  let service: TestService;
  let receiverPort: number;
  before(async function () {
    receiverPort = await freePort();
    service = await TestService.start({
      env: { CALLBACK_SECRET: callbackSecret, CALLBACK_ALLOW_HOSTS: `127.0.0.1:${receiverPort}` },
    });
  });
  after(async function () {
    await service.teardown();
  });

  it('delivers the finished job exactly once, signed, after the receiver refused it twice', async function () {
    const receiver = await startReceiver(2, receiverPort);
    try {
      const jobId = uniqueJobId('callback');
      const submitted = await service.submit({
        type: 'sleep',
        input: { seconds: 0, message: 'call me' },
        jobId,
        callbackUrl: receiver.url,
      });
      assert.deepEqual(submitted.body.callback, { status: 'pending', attempts: 0, lastError: null });
      const delivered = await service.waitFor(jobId, (job) => job.callback?.status === 'delivered', 30_000);
      assert.equal(delivered.status, 'succeeded');
      assert.deepEqual(delivered.callback, {
        status: 'delivered',
        attempts: 3,
        lastError: { type: 'CallbackRefusedError', message: 'the callback answered 500' },
      });
      assert.equal(receiver.refused(), 2);
      assert.equal(receiver.deliveries.length, 1);
      const [delivery] = receiver.deliveries;
      const expected = `sha256=${createHmac('sha256', callbackSecret).update(delivery!.body).digest('hex')}`;
      assert.equal(delivery!.signature, expected);
      const job = JSON.parse(delivery!.body) as Job;
      assert.equal(job.jobId, jobId);
      assert.equal(job.status, 'succeeded');
      assert.deepEqual(job.result, { sleptSeconds: 0, message: 'call me' });
    } finally {
      receiver.server.close();
    }
  });

  it('gives up on a receiver that does not answer within 10 s, says so, and delivers at the next attempt', async function () {
    let asked = 0;
    // The first delivery is read and never answered; the next one is.
    const receiver = createServer((req, res) => {
      req.resume();
      if (++asked > 1) req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => receiver.listen(receiverPort, '127.0.0.1', resolve));
    try {
      const jobId = uniqueJobId('unanswered');
      await service.submit({
        type: 'sleep',
        input: { seconds: 0 },
        jobId,
        callbackUrl: `http://127.0.0.1:${receiverPort}/hook`,
      });
      const delivered = await service.waitFor(jobId, (job) => job.callback?.status === 'delivered', 30_000);
      assert.deepEqual(delivered.callback, {
        status: 'delivered',
        attempts: 2,
        lastError: { type: 'CallbackTimedOutError', message: 'the callback did not answer within 10 s' },
      });
    } finally {
      receiver.closeAllConnections();
      receiver.close();
    }
  });

  it('refuses a callbackUrl that is neither https nor an allowed host', async function () {
    const response = await service.request<ErrorBody>('POST', '/api/v1/jobs', {
      type: 'sleep',
      input: { seconds: 0 },
      callbackUrl: 'http://example.com/hook',
    });
    assert.equal(response.status, 400);
    assert.match(response.body.error.message, /callbackUrl/);
  });
});

describe('Batch submit', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start();
  });
  after(async function () {
    await service.teardown();
  });

  it('submits each item on its own and reports each result by index', async function () {
    const existing = uniqueJobId('batch-existing');
    // Finished before the batch: its id is taken for good, not only while it runs.
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: existing }, '?wait=10');
    const [fresh, unknownType, outOfRange] = [
      uniqueJobId('batch-fresh'),
      uniqueJobId('batch-teleport'),
      uniqueJobId('batch-too-long'),
    ];
    const { status, body } = await service.request<{
      results: Array<{ index: number; status: number; job?: Job; error?: { code: string } }>;
    }>('POST', '/api/v1/job-batches', {
      jobs: [
        { type: 'sleep', input: { seconds: 0 }, jobId: fresh },
        { type: 'teleport', jobId: unknownType },
        { type: 'sleep', input: { seconds: 0 }, jobId: existing },
        { type: 'sleep', input: { seconds: 0 }, jobId: existing, priority: 'high' },
        { type: 'sleep', input: { seconds: 99_999 }, jobId: outOfRange },
      ],
    });
    assert.equal(status, 200);
    await service.waitFor(fresh, ['succeeded']);
    // The refused items started nothing: no workflow for the refused ids, still one run of the existing job
    // (visibility lags by moments, and the accepted item's workflow shows it has caught up).
    const runsOf = (jobId: string): Promise<number> => service.countWorkflows(`WorkflowId = '${jobId}'`);
    const deadline = Date.now() + 5000;
    while ((await runsOf(fresh)) < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(
      {
        fresh: await runsOf(fresh),
        unknownType: await runsOf(unknownType),
        existing: await runsOf(existing),
        outOfRange: await runsOf(outOfRange),
      },
      { fresh: 1, unknownType: 0, existing: 1, outOfRange: 0 },
    );
    assert.deepEqual(
      body.results.map((result) => [result.index, result.status]),
      [
        [0, 202],
        [1, 400],
        [2, 200],
        [3, 409],
        [4, 400],
      ],
    );
    assert.equal(body.results[1]?.error?.code, 'invalid_request');
  });

  it('submits items of one jobId in their order: the first makes the job, a different request after it is the 409', async function () {
    for (let round = 0; round < 5; round++) {
      const jobId = uniqueJobId('batch-same-id');
      const { body } = await service.request<{ results: Array<{ index: number; status: number; job?: Job }> }>(
        'POST',
        '/api/v1/job-batches',
        {
          jobs: [
            { type: 'sleep', input: { seconds: 0 }, jobId, tags: ['run:first'] },
            { type: 'sleep', input: { seconds: 0 }, jobId, tags: ['run:second'] },
            { type: 'sleep', input: { seconds: 0 }, jobId, tags: ['run:first'] },
          ],
        },
      );
      assert.deepEqual(
        body.results.map((result) => [result.index, result.status]),
        [
          [0, 202],
          [1, 409],
          [2, 200],
        ],
        `round ${round}`,
      );
      assert.deepEqual(body.results[0]?.job?.tags, ['run:first']);
    }
  });

  it('refuses an empty batch and one over 100 items', async function () {
    assert.equal((await service.request('POST', '/api/v1/job-batches', { jobs: [] })).status, 400);
    const tooMany = Array.from({ length: 101 }, () => ({ type: 'sleep', input: { seconds: 0 } }));
    assert.equal((await service.request('POST', '/api/v1/job-batches', { jobs: tooMany })).status, 400);
  });
});

describe('Delayed jobs', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start();
  });
  after(async function () {
    await service.teardown();
  });

  it('stays queued with runAt until then, and starts no earlier', async function () {
    const jobId = uniqueJobId('delayed');
    // 5 s: the reads below, a second in, fall inside the delay on a busy machine too.
    const submitted = await service.submit({ type: 'sleep', input: { seconds: 0 }, delaySeconds: 5, jobId });
    assert.equal(submitted.status, 202);
    const runAt = Date.parse(submitted.body.runAt!);
    assert.ok(runAt - Date.now() > 1000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const waiting = await service.getJob(jobId);
    assert.equal(waiting.body.status, 'queued');
    assert.equal(waiting.body.attempt, 0);
    // The list reads visibility, which lags writes by about a second.
    await until(
      'the job listed as queued',
      async () => (await service.request<{ jobs: Job[] }>('GET', '/api/v1/jobs?status=queued')).body.jobs,
      (jobs) => jobs.some((job) => job.jobId === jobId),
      runAt - Date.now(),
    );
    const done = await service.waitFor(jobId, ['succeeded']);
    assert.ok(Date.parse(done.startedAt!) >= runAt, `started ${done.startedAt}, runAt ${submitted.body.runAt}`);
  });

  it('is cancelled during the delay with no attempt', async function () {
    const jobId = uniqueJobId('delayed-cancel');
    await service.submit({
      type: 'sleep',
      input: { seconds: 0 },
      runAt: new Date(Date.now() + 3_600_000).toISOString(),
      jobId,
    });
    const { body } = await service.cancel(jobId);
    assert.equal(body.status, 'cancelled');
    assert.equal(body.attempt, 0);
  });

  it('refuses delaySeconds with runAt, and a runAt in the past or over a year ahead', async function () {
    for (const extra of [
      { delaySeconds: 5, runAt: new Date(Date.now() + 5000).toISOString() },
      { runAt: new Date(Date.now() - 3_600_000).toISOString() },
      { runAt: new Date(Date.now() + 400 * 86_400_000).toISOString() },
      { delaySeconds: 31_536_001 },
    ]) {
      const response = await service.request<ErrorBody>('POST', '/api/v1/jobs', {
        type: 'sleep',
        input: { seconds: 0 },
        ...extra,
      });
      assert.equal(response.status, 400, JSON.stringify(extra));
    }
  });
});
