// A job's logs: what a TypeScript and a Python handler log through their context, and what a command prints, kept per
// attempt in Temporal and read through the API (GET /api/v1/jobs/{jobId}/logs, `log` events), with the API, the
// service's worker and both handler workers run as the processes a user runs, and restarted.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { JobLogLine, JobLogs } from '../src/contract/logs.js';
import { freePort, startApiPart, startWorkerPart, stopAllParts, type Part } from '../dev/parts.js';
import { ensurePythonEnv, type PythonEnv } from '../dev/python-env.js';
import { startDevServer } from '../dev/temporal/dev-server.js';
import { commandsDir, uniqueJobId } from './support/service.js';
import { HandlerWorker } from './support/handler-worker.js';

const fixtureDir = fileURLToPath(new URL('fixtures/log-workers/', import.meta.url));

interface SseEvent {
  readonly event: string;
  readonly data: unknown;
}

describe("A job's logs, per attempt (GET /api/v1/jobs/{jobId}/logs, log events)", function () {
  let temporal: TestWorkflowEnvironment;
  let python: PythonEnv;
  let apiUrl: string;
  let apiPort: number;
  let api: Part;
  let serviceWorker: Part;
  let handlers: HandlerWorker[] = [];
  const taskQueuePrefix = `logs-${process.pid}`;
  const common = () => ({ temporalAddress: temporal.address, taskQueuePrefix, commandsDir });

  const startHandlers = (): void => {
    const env = { ...process.env, TEMPORAL_ADDRESS: temporal.address, JOBS_TASK_QUEUE_PREFIX: taskQueuePrefix };
    handlers = [
      new HandlerWorker(
        spawn(process.execPath, ['--import', 'tsx', 'worker.ts'], { cwd: fixtureDir, env, stdio: 'pipe' }),
      ),
      new HandlerWorker(
        spawn(
          python.bin('durable-jobs'),
          ['worker', 'log_handlers', '--queues', 'normal:2', '--lease-seconds', '3', '--shutdown-grace-seconds', '1'],
          { cwd: fixtureDir, env: { ...env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' }, stdio: 'pipe' },
        ),
      ),
    ];
  };

  const request = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  };

  const logsOf = async (jobId: string, query = ''): Promise<JobLogs> => {
    const { status, body } = await request<JobLogs>('GET', `/api/v1/jobs/${jobId}/logs${query}`);
    assert.equal(status, 200, JSON.stringify(body));
    return body;
  };

  /** Submits and waits for the job to finish (a poll after the submit's wait, for the second attempt's backoff). */
  const run = async (type: string, input: unknown): Promise<{ jobId: string; status: string; attempt: number }> => {
    const jobId = uniqueJobId('logs');
    const submitted = await request<{ status: string }>('POST', '/api/v1/jobs?wait=30', { jobId, type, input });
    assert.ok([200, 202].includes(submitted.status), JSON.stringify(submitted.body));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { body } = await request<{ status: string; attempt: number }>('GET', `/api/v1/jobs/${jobId}`);
      if (!['queued', 'running'].includes(body.status)) return { jobId, ...body };
      if (Date.now() > deadline) assert.fail(`job ${jobId} did not finish: ${JSON.stringify(body)}`);
      await delay(200);
    }
  };

  const served = async (names: readonly string[]): Promise<void> => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const { body } = await request<{ types: { name: string; workers: { normal: number } }[] }>(
        'GET',
        '/api/v1/job-types',
      ).catch(() => ({ body: { types: [] } }));
      if (names.every((name) => body.types.some((view) => view.name === name && view.workers.normal > 0))) return;
      if (Date.now() > deadline)
        throw new Error(`${names.join(', ')} not served\n${handlers.map((h) => h.output.join('')).join('\n')}`);
      await delay(200);
    }
  };

  before(async function () {
    this.timeout(300_000);
    [python, temporal] = await Promise.all([ensurePythonEnv((line) => console.log(`      ${line}`)), startDevServer()]);
    apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    [api, serviceWorker] = await Promise.all([
      startApiPart({ ...common(), port: apiPort }),
      startWorkerPart({ ...common(), queues: { normal: 2 }, client: temporal.client }),
    ]);
    startHandlers();
    await served(['logs.ts', 'logs.py', 'command']);
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.all(handlers.map((handler) => handler.stop()));
    await stopAllParts();
    await temporal?.teardown();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') for (const handler of handlers) console.log(handler.output.join(''));
  });

  it('keeps each attempt of a TypeScript and a Python handler, in order, through restarts of the workers and the API', async function () {
    this.timeout(180_000);
    const jobs = await Promise.all([
      run('logs.ts', { lines: 3, failFirst: true }),
      run('logs.py', { lines: 3, fail_first: true }),
    ]);
    for (const job of jobs) assert.deepEqual([job.status, job.attempt], ['succeeded', 2], JSON.stringify(job));

    // Every process but Temporal's goes away and comes back: nothing of the logs lived in them. The handler workers
    // first: each leaves the job type registry as it stops, which the service's worker runs.
    await Promise.all(handlers.map((handler) => handler.stop()));
    await Promise.all([api.stop(), serviceWorker.stop()]);
    [api, serviceWorker] = await Promise.all([
      startApiPart({ ...common(), port: apiPort }),
      startWorkerPart({ ...common(), queues: { normal: 2 }, client: temporal.client }),
    ]);
    startHandlers();

    for (const { jobId } of jobs) {
      const first = await logsOf(jobId, '?attempt=1');
      assert.deepEqual(
        first.lines.map(({ attempt, seq, level, message, traceId }) => ({ attempt, seq, level, message, traceId })),
        [
          { attempt: 1, seq: 1, level: 'info', message: 'attempt 1 line 1', traceId: null },
          { attempt: 1, seq: 2, level: 'info', message: 'attempt 1 line 2', traceId: null },
          { attempt: 1, seq: 3, level: 'info', message: 'attempt 1 line 3', traceId: null },
          { attempt: 1, seq: 4, level: 'error', message: 'giving up on attempt 1', traceId: null },
        ],
        jobId,
      );
      assert.deepEqual([first.attempt, first.attempts, first.attemptEnded, first.hasMore], [1, 2, true, false]);
      // The latest attempt by default.
      const latest = await logsOf(jobId);
      assert.equal(latest.attempt, 2);
      assert.deepEqual(
        latest.lines.map((line) => `${line.level} ${line.message}`),
        ['info attempt 2 line 1', 'info attempt 2 line 2', 'info attempt 2 line 3', 'warn attempt 2 done'],
      );
      for (const line of latest.lines) assert.ok(Date.parse(line.time) > Date.parse(first.lines[0]!.time));
      // Paged by seq.
      const page = await logsOf(jobId, '?attempt=2&after=1&limit=2');
      assert.deepEqual([page.lines.map((line) => line.seq), page.nextAfter, page.hasMore], [[2, 3], 3, true]);
    }
  });

  it('answers 400 naming a bad parameter or an attempt the job never had, and 404 for an unknown job', async function () {
    this.timeout(60_000);
    const { jobId } = await run('logs.ts', { lines: 1 });
    for (const [query, named] of [
      ['?attempt=2', /attempt: .*ended after 1 attempt/],
      ['?attempt=0', /attempt/],
      ['?after=-1', /after/],
      ['?limit=1001', /limit/],
      ['?limit=ten', /limit/],
      ['?level=info', /level/],
    ] as const) {
      const { status, body } = await request<{ error: { code: string; message: string } }>(
        'GET',
        `/api/v1/jobs/${jobId}/logs${query}`,
      );
      assert.equal(status, 400, `${query}: ${JSON.stringify(body)}`);
      assert.equal(body.error.code, 'invalid_request');
      assert.match(body.error.message, named, query);
    }
    const unknown = await request<{ error: { code: string } }>('GET', `/api/v1/jobs/${uniqueJobId('none')}/logs`);
    assert.deepEqual([unknown.status, unknown.body.error.code], [404, 'not_found']);
  });

  it('keeps the last 1,000 lines of a flood, after a line saying how many were dropped', async function () {
    this.timeout(90_000);
    const { jobId, status } = await run('logs.ts', { lines: 5000 });
    assert.equal(status, 'succeeded');
    const first = await logsOf(jobId, '?limit=1000');
    const marker = first.lines[0]!;
    assert.deepEqual([marker.seq, marker.level], [4001, 'warn']);
    assert.match(marker.message, /4001 earlier lines dropped/);
    // 5,001 lines (5,000 and "done"): the last 1,000 kept, seq 4002 to 5001, a page of 1,000 with the marker first.
    assert.deepEqual([first.lines[1]!.seq, first.lines[1]!.message], [4002, 'attempt 1 line 4002']);
    assert.deepEqual([first.lines.length, first.nextAfter, first.hasMore], [1000, 5000, true]);
    const rest = await logsOf(jobId, `?after=${first.nextAfter}`);
    assert.deepEqual(
      rest.lines.map((line) => [line.seq, line.level, line.message]),
      [[5001, 'warn', 'attempt 1 done']],
    );
    assert.equal(rest.hasMore, false);
  });

  for (const [type, input] of [
    ['logs.ts', { lines: 200, tickMs: 100 }],
    ['logs.py', { lines: 200, tick_ms: 100 }],
  ] as const) {
    it(`keeps a cancelled attempt's lines, sent with its cancellation (${type})`, async function () {
      this.timeout(60_000);
      const jobId = uniqueJobId('cancelled');
      const submitted = await request('POST', '/api/v1/jobs', { jobId, type, input });
      assert.equal(submitted.status, 202);
      const deadline = Date.now() + 30_000;
      while ((await logsOf(jobId)).lines.length < 3) {
        if (Date.now() > deadline) assert.fail('the attempt logged no 3 lines in 30 s');
        await delay(100);
      }
      const asked = Date.now();
      assert.equal((await request('POST', `/api/v1/jobs/${jobId}/cancel`)).status, 202);
      for (;;) {
        const { body } = await request<{ status: string }>('GET', `/api/v1/jobs/${jobId}`);
        if (body.status === 'cancelled') break;
        if (Date.now() > deadline) assert.fail(`not cancelled: ${JSON.stringify(body)}`);
        await delay(100);
      }
      assert.ok(Date.now() - asked < 2500, `cancelled ${Date.now() - asked} ms after the cancel`);
      const logs = await logsOf(jobId, '?attempt=1&limit=1000');
      assert.equal(logs.attemptEnded, true);
      // Every line up to the cancellation, the ones logged after its last heartbeat too, and none twice.
      assert.ok(logs.lines.length >= 3, `lines kept: ${logs.lines.length}`);
      assert.deepEqual(
        logs.lines.map((line) => line.message),
        logs.lines.map((_, index) => `attempt 1 line ${index + 1}`),
      );
      assert.ok(logs.lines.length < 200, 'the handler stopped when cancelled');
    });
  }

  it('sends the running attempt’s new lines as log events while it runs', async function () {
    this.timeout(90_000);
    const jobId = uniqueJobId('tail');
    const submitted = await request<{ status: string }>('POST', '/api/v1/jobs', {
      jobId,
      type: 'logs.py',
      input: { lines: 8, tick_ms: 500 },
    });
    assert.equal(submitted.status, 202);
    const response = await fetch(`${apiUrl}/api/v1/jobs/${jobId}/events`, {
      headers: { accept: 'text/event-stream' },
    });
    assert.equal(response.status, 200);
    const events: SseEvent[] = [];
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of response.body!) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      for (let end = buffered.indexOf('\n\n'); end !== -1; end = buffered.indexOf('\n\n')) {
        const text = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const event = /^event: (.*)$/m.exec(text)?.[1];
        const data = /^data: (.*)$/m.exec(text)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
    const lines = events.filter((each) => each.event === 'log').map((each) => each.data as JobLogLine);
    assert.deepEqual(
      lines.map((line) => line.message),
      [...Array.from({ length: 8 }, (_, index) => `attempt 1 line ${index + 1}`), 'attempt 1 done'],
    );
    assert.deepEqual(
      lines.map((line) => line.seq),
      Array.from({ length: 9 }, (_, index) => index + 1),
    );
    // Live: lines came while the job was still running, not only at its end.
    const firstLine = events.findIndex((each) => each.event === 'log');
    const running = events.findIndex(
      (each, index) =>
        index > firstLine && each.event === 'job' && (each.data as { status: string }).status !== 'running',
    );
    const linesBeforeEnd = events.slice(0, running === -1 ? events.length : running).filter((e) => e.event === 'log');
    assert.ok(linesBeforeEnd.length >= 3, `log events before the job ended: ${linesBeforeEnd.length}`);
    const finalJob = events.at(-1)!;
    assert.deepEqual([finalJob.event, (finalJob.data as { status: string }).status], ['job', 'succeeded']);
  });

  it("keeps each line a command prints, stdout as info and stderr as warn, with its env's values masked", async function () {
    this.timeout(60_000);
    const secret = 'hunter2-very-secret';
    const { jobId, status } = await run('command', {
      command: 'echo-secret',
      env: { SECRET: secret, SHORT: 'abc' },
    });
    assert.equal(status, 'succeeded');
    const logs = await logsOf(jobId);
    // stdout and stderr are read side by side: their lines' order between the two is the pipes'.
    assert.deepEqual(logs.lines.map((line) => `${line.level} ${line.message}`).sort(), [
      'info ::progress 10 at ***',
      'info out *** abc',
      'warn err *** abc',
    ]);
    assert.ok(!JSON.stringify(logs).includes('hunter2'));
  });
});
