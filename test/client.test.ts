import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  createJobsClient,
  JobsApiError,
  JobsResponseInvalidError,
  JobWaitTimeoutError,
  type Job,
  type JobEvent,
} from '../src/client/index.js';
import { maxEventBytes, readEventStream, type ServerSentEvent } from '../src/client/event-stream.js';
import { TestService, uniqueJobId } from './support/service.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Asserts that `call` rejects with the API's refusal of this status and code. */
async function assertRefused(call: Promise<unknown>, status: number, code: string): Promise<JobsApiError> {
  let refusal: JobsApiError | undefined;
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof JobsApiError, `expected a JobsApiError, got ${String(err)}`);
    refusal = err;
    return true;
  });
  assert.equal(refusal!.status, status);
  assert.equal(refusal!.code, code);
  return refusal!;
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('The generated client types', function () {
  it('are current with the OpenAPI document (else: npm run client:generate)', function () {
    this.timeout(30_000);
    const check = spawnSync(process.execPath, ['--import', 'tsx', 'dev/generate-client.ts', '--check'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(check.status, 0, check.stderr);
  });
});

describe('Reading an event stream', function () {
  async function eventsOf(...chunks: string[]): Promise<ServerSentEvent[]> {
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
        controller.close();
      },
    });
    const events: ServerSentEvent[] = [];
    for await (const event of readEventStream(body)) events.push(event);
    return events;
  }

  it('parses named events, multi-line data and any line ending, and skips comments', async function () {
    const events = await eventsOf(
      ': keep-alive\n\nevent: job\ndata: {"a":',
      '1}\r',
      '\n\r\ndata:first\rdata: second\n\n',
      'event: job\ndata: unfinished',
    );
    assert.deepEqual(events, [
      { event: 'job', data: '{"a":1}' },
      { event: 'message', data: 'first\nsecond' },
    ]);
  });
});

describe("The TypeScript client's follow() against a hostile or broken stream", function () {
  let server: Server;
  let base: string;
  let sentBytes = 0;
  /** What the server streams for a job's events: written, then (unless it returns true) the stream ends. */
  let stream: (response: ServerResponse) => Promise<boolean> | boolean = () => false;

  before(async function () {
    server = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const write = response.write.bind(response);
      response.write = ((chunk: string | Buffer, ...rest: never[]) => {
        sentBytes += Buffer.byteLength(chunk);
        return write(chunk, ...rest);
      }) as typeof response.write;
      void Promise.resolve(stream(response)).then((open) => open || response.end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async function () {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Writes `chunk` until the client stops reading (the socket closes) or `maxBytes` went out. */
  async function writeEndlessly(response: ServerResponse, chunk: string, maxBytes: number): Promise<boolean> {
    sentBytes = 0;
    while (!response.destroyed && sentBytes < maxBytes) {
      if (response.write(chunk)) continue;
      await new Promise<void>((resolve) => {
        const settled = (): void => {
          response.off('drain', settled).off('close', settled);
          resolve();
        };
        response.on('drain', settled).on('close', settled);
      });
    }
    return false;
  }

  /** What follow() threw, after the events it gave before (which must be none here: no event is whole and valid). */
  async function followError(): Promise<Error> {
    const client = createJobsClient({ baseUrl: base });
    const events: JobEvent[] = [];
    let thrown: unknown;
    try {
      for await (const event of client.follow('any')) events.push(event);
    } catch (err) {
      thrown = err;
    }
    assert.deepEqual(events, []);
    assert.ok(thrown instanceof JobsResponseInvalidError, `expected a JobsResponseInvalidError, got ${String(thrown)}`);
    return thrown;
  }

  it('stops reading an event that never ends (no newline, or endless data lines) past its bound, saying so', async function () {
    this.timeout(30_000);
    const chunk = 'x'.repeat(64 * 1024);
    for (const [what, prefix, line] of [
      ['one endless line', 'event: job\ndata: ', chunk],
      ['endless data lines', 'event: job\n', `data: ${chunk}\n`],
    ] as const) {
      stream = (response) => {
        response.write(prefix);
        return writeEndlessly(response, line, 4 * maxEventBytes);
      };
      const err = await followError();
      assert.match(err.message, /event over 16 MiB/, what);
      await eventually(async () => Promise.resolve(sentBytes < 4 * maxEventBytes), what);
      assert.ok(sentBytes < 2 * maxEventBytes, `${what}: the client read ${sentBytes} bytes`);
    }
  });

  it('says which event was not JSON, and skips event types it does not know', async function () {
    stream = (response) => {
      response.write('event: shiny-new-kind\ndata: {"whatever": true}\n\nevent: job\ndata: {not json\n\n');
      return false;
    };
    const err = await followError();
    assert.match(err.message, /a job event that is not JSON/);
  });
});

describe('The TypeScript client', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start();
  });
  after(async function () {
    await service.teardown();
  });

  it('submits, gets and waits for a job by polling', async function () {
    const { client } = service;
    const jobId = uniqueJobId('client-poll');
    const submitted = await client.submit({ type: 'sleep', input: { seconds: 0.5, message: 'hi' }, jobId });
    assert.equal(submitted.jobId, jobId);
    assert.ok(['queued', 'running'].includes(submitted.status));
    assert.equal((await client.get(jobId)).jobId, jobId);
    const finished = await client.waitFor(jobId, { timeoutMs: 20_000, intervalMs: 100 });
    assert.equal(finished.status, 'succeeded');
    assert.deepEqual(finished.result, { sleptSeconds: 0.5, message: 'hi' });
  });

  it('waits with ?wait on submit', async function () {
    const job = await service.client.submit({ type: 'sleep', input: { seconds: 0.2 } }, { wait: 10 });
    assert.equal(job.status, 'succeeded');
  });

  it('gives up waiting after timeoutMs with the job as last seen, and cancels', async function () {
    const { client } = service;
    const jobId = uniqueJobId('client-cancel');
    await client.submit({ type: 'sleep', input: { seconds: 60 }, jobId });
    await assert.rejects(client.waitFor(jobId, { timeoutMs: 300, intervalMs: 100 }), (err: unknown) => {
      assert.ok(err instanceof JobWaitTimeoutError);
      assert.equal(err.lastSeen.jobId, jobId);
      assert.ok(['queued', 'running'].includes(err.lastSeen.status));
      return true;
    });
    assert.equal((await client.cancel(jobId)).jobId, jobId);
    assert.equal((await client.waitFor(jobId, { timeoutMs: 20_000 })).status, 'cancelled');
    await assertRefused(client.cancel(jobId), 409, 'conflict');
  });

  it("throws JobsApiError with the contract's error body", async function () {
    const { client } = service;
    const missing = await assertRefused(client.get('no-such-job'), 404, 'not_found');
    assert.equal(
      missing.message,
      'no job with id "no-such-job": it never existed, was deleted, or finished longer ago than the retention (JOB_RETENTION_HOURS)',
    );
    const invalid = await assertRefused(
      client.submit({ type: 'sleep', input: { seconds: -1 } }),
      400,
      'invalid_request',
    );
    assert.ok(invalid.details && invalid.details.length > 0);
    await assertRefused(client.submit({ type: 'sleep', input: { seconds: 0 } }, { wait: 301 }), 400, 'invalid_request');
  });

  it('lists jobs with filters, paging with the cursor', async function () {
    const { client } = service;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const jobId = uniqueJobId('client-list');
      ids.push(jobId);
      await client.submit({ type: 'sleep', input: { seconds: 0 }, priority: 'low', jobId }, { wait: 10 });
    }
    // Visibility is eventually consistent: wait until it lists every job as finished.
    await eventually(async () => {
      const { jobs } = await client.list({ status: 'succeeded', priority: 'low', limit: 100 });
      return ids.every((id) => jobs.some((job) => job.jobId === id));
    }, 'the jobs were listed');

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.list({ status: 'succeeded', priority: 'low', limit: 2, cursor });
      assert.ok(page.jobs.length <= 2);
      seen.push(...page.jobs.map((job) => job.jobId));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    assert.deepEqual(seen, [...ids].reverse(), 'newest first, each once');
    assert.ok(pages >= 3);
    await assertRefused(client.list({ cursor: 'not*a*cursor' }), 400, 'invalid_request');
  });

  it('follows events until the job finishes, then ends', async function () {
    const { client } = service;
    const jobId = uniqueJobId('client-events');
    await client.submit({ type: 'sleep', input: { seconds: 2 }, jobId });
    const jobs: Job[] = [];
    for await (const job of client.events(jobId)) jobs.push(job);
    assert.equal(jobs.at(-1)?.status, 'succeeded');
    assert.ok(
      jobs.some((job) => job.status === 'running' && job.progress !== null),
      'progress was streamed',
    );
    for (const job of jobs) assert.equal(job.jobId, jobId);

    const again: Job[] = [];
    for await (const job of client.events(jobId)) again.push(job);
    assert.deepEqual(
      again.map((job) => job.status),
      ['succeeded'],
    );
    await assertRefused(client.events('no-such-job').next(), 404, 'not_found');
  });

  it("follows a job's changes and its running attempt's log lines, typed, in the stream's order", async function () {
    const { client } = service;
    const jobId = uniqueJobId('client-follow');
    await client.submit({ type: 'command', input: { command: 'tick', args: ['6'] }, jobId });
    const events: JobEvent[] = [];
    for await (const event of client.follow(jobId)) events.push(event);
    const lines = events.flatMap((event) => (event.type === 'log' ? [event.line] : []));
    assert.deepEqual(
      lines.map(({ attempt, level, message }) => [attempt, level, message]),
      [1, 2, 3, 4, 5, 6].map((tick) => [1, 'info', `tick ${tick}`]),
    );
    assert.deepEqual(
      lines.map(({ seq }) => seq),
      [1, 2, 3, 4, 5, 6],
    );
    const last = events.at(-1);
    assert.equal(last?.type === 'job' && last.job.status, 'succeeded', 'the finished job comes last, after the lines');
    assert.ok(
      events.some((event) => event.type === 'job' && event.job.status === 'running'),
      'the job while it ran',
    );
    // `events` reads the same stream and gives only the jobs: what it gave before log events existed.
    const jobs: Job[] = [];
    for await (const job of client.events(jobId)) jobs.push(job);
    assert.deepEqual(
      jobs.map(({ jobId: id, status }) => [id, status]),
      [[jobId, 'succeeded']],
    );
    await assertRefused(client.follow('no-such-job').next(), 404, 'not_found');
  });

  it('closes the connection when the consumer leaves the loop early', async function () {
    const { client } = service;
    const jobId = uniqueJobId('client-events-leave');
    await client.submit({ type: 'sleep', input: { seconds: 60 }, jobId });
    const baseline = await service.openConnections();
    const streams = Array.from({ length: 10 }, () => client.events(jobId));
    const firsts = await Promise.all(streams.map((stream) => stream.next()));
    for (const first of firsts) assert.equal(first.value?.jobId, jobId);
    assert.ok((await service.openConnections()) >= 10, 'the streams are open');
    // What `break` in a for-await loop does.
    await Promise.all(streams.map((stream) => stream.return()));
    await eventually(async () => (await service.openConnections()) <= baseline, 'every stream was closed', 8000);

    for await (const job of client.events(jobId)) {
      assert.equal(job.jobId, jobId);
      break;
    }
    await client.cancel(jobId);
  });
});

describe('The TypeScript client with API keys', function () {
  const keys = { acme: 'acme-key-0123456789abcdef', globex: 'globex-key-0123456789abcdef' };
  let service: TestService;
  before(async function () {
    service = await TestService.start({ workers: false, env: { API_KEYS: `acme:${keys.acme},globex:${keys.globex}` } });
  });
  after(async function () {
    await service.teardown();
  });

  it('sends its key as the bearer token, and is refused without one', async function () {
    const anonymous = createJobsClient({ baseUrl: service.baseUrl });
    await assertRefused(anonymous.list(), 401, 'unauthorized');
    const acme = createJobsClient({ baseUrl: service.baseUrl, apiKey: keys.acme });
    const globex = createJobsClient({ baseUrl: service.baseUrl, apiKey: keys.globex });
    const jobId = uniqueJobId('client-tenant');
    await acme.submit({ type: 'sleep', input: { seconds: 1 }, jobId });
    assert.equal((await acme.get(jobId)).jobId, jobId);
    await assertRefused(globex.get(jobId), 404, 'not_found');
  });

  it('asks a key function before each request', async function () {
    const jobId = uniqueJobId('client-key-switch');
    service.apiKey = keys.globex;
    await service.client.submit({ type: 'sleep', input: { seconds: 1 }, jobId });
    assert.equal((await service.client.get(jobId)).jobId, jobId);
    service.apiKey = keys.acme;
    await assertRefused(service.client.get(jobId), 404, 'not_found');
    service.apiKey = undefined;
    await assertRefused(service.client.get(jobId), 401, 'unauthorized');
  });
});
