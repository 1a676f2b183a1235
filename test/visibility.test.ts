import assert from 'node:assert/strict';
import type { ErrorBody } from '../src/contract/errors.js';
import type { Job } from '../src/contract/job.js';
import { eventPollIntervalMs, keepAliveIntervalMs } from '../src/api/job-events.js';
import { TestService, uniqueJobId } from './support/service.js';

interface JobListBody {
  jobs: Job[];
  nextCursor: string | null;
}

/** Reads a Server-Sent Events stream to its end (or until `stopAfter` events), returning the `job` events. */
async function readJobEvents(url: string, stopAfter = Infinity): Promise<{ jobs: Job[]; contentType: string | null }> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  const jobs: Job[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === 'job' && data) jobs.push(JSON.parse(data) as Job);
      }
      if (jobs.length >= stopAfter) {
        controller.abort();
        break;
      }
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  }
  return { jobs, contentType: response.headers.get('content-type') };
}

describe('Listing jobs', function () {
  let service: TestService;
  const ids = { succeeded: [] as string[], failed: '', high: '' };
  before(async function () {
    service = await TestService.start();
    for (let i = 0; i < 5; i++) {
      const jobId = uniqueJobId('list-ok');
      ids.succeeded.push(jobId);
      await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId }, '?wait=10');
    }
    ids.failed = uniqueJobId('list-failed');
    await service.submit(
      { type: 'sleep', input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' }, jobId: ids.failed },
      '?wait=10',
    );
    ids.high = uniqueJobId('list-high');
    await service.submit(
      { type: 'command', input: { command: 'echo-args' }, priority: 'high', jobId: ids.high },
      '?wait=10',
    );
    // Visibility is eventually consistent: wait until it has every job's final status (the failed one's too: the
    // server applies different workflows' updates concurrently, in no set order).
    const deadline = Date.now() + 10_000;
    while (
      ((await service.countWorkflows(`JobStatus = 'succeeded'`)) < 6 ||
        (await service.countWorkflows(`JobStatus = 'failed'`)) < 1) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  after(async function () {
    await service.teardown();
  });

  it('lists jobs as full job objects, newest first, filtered by status, type and priority', async function () {
    const failed = await service.request<JobListBody>('GET', '/api/v1/jobs?status=failed');
    assert.equal(failed.status, 200);
    assert.deepEqual(
      failed.body.jobs.map((job) => job.jobId),
      [ids.failed],
    );
    assert.equal(failed.body.jobs[0]?.error?.type, 'UnrecoverableError');
    assert.equal(failed.body.nextCursor, null);

    const commands = await service.request<JobListBody>(
      'GET',
      '/api/v1/jobs?type=command&priority=high&status=succeeded',
    );
    assert.deepEqual(
      commands.body.jobs.map((job) => job.jobId),
      [ids.high],
    );
    assert.equal((commands.body.jobs[0]?.result as { exitCode: number }).exitCode, 0);

    const sleeps = await service.request<JobListBody>('GET', '/api/v1/jobs?type=sleep&status=succeeded');
    assert.deepEqual(
      sleeps.body.jobs.map((job) => job.jobId),
      [...ids.succeeded].reverse(),
    );
    for (const job of sleeps.body.jobs) assert.deepEqual(job.result, { sleptSeconds: 0, message: null });
  });

  it('pages with limit and an opaque cursor, without repeats', async function () {
    const seen: string[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const query: string = `/api/v1/jobs?status=succeeded&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await service.request<JobListBody>('GET', query);
      assert.equal(page.status, 200);
      assert.ok(page.body.jobs.length <= 2);
      seen.push(...page.body.jobs.map((job) => job.jobId));
      cursor = page.body.nextCursor;
      pages++;
    }
    assert.equal(new Set(seen).size, seen.length);
    assert.deepEqual(new Set(seen), new Set([...ids.succeeded, ids.high]));
    assert.ok(pages >= 3);
  });

  for (const query of [
    'status=done',
    'priority=urgent',
    'type=teleport',
    'limit=0',
    'limit=101',
    'limit=ten',
    'cursor=not*a*cursor',
    'cursor=bm90LWEtdG9rZW4',
    'cursor=bm90LWEtdG9rZW4.AAAAAAAAAAAA',
    'colour=red',
  ]) {
    it(`answers 400 invalid_request for ?${query}`, async function () {
      const response = await service.request<ErrorBody>('GET', `/api/v1/jobs?${query}`);
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'invalid_request');
    });
  }

  it('keeps filter values inert: a value with quotes is refused, never spliced into the query', async function () {
    const response = await service.request<ErrorBody>(
      'GET',
      `/api/v1/jobs?type=${encodeURIComponent("sleep' OR JobStatus = 'failed")}`,
    );
    assert.equal(response.status, 400);
  });
});

describe("Following a job's events", function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start();
  });
  after(async function () {
    await service.teardown();
  });

  it('streams a job event on each change of status, attempt or progress, and ends after the finished state', async function () {
    const jobId = uniqueJobId('events');
    await service.submit({
      type: 'sleep',
      input: { seconds: 3, failAttempts: 1 },
      retry: { initialIntervalSeconds: 0.5 },
      jobId,
    });
    const { jobs, contentType } = await readJobEvents(`${service.baseUrl}/api/v1/jobs/${jobId}/events`);
    assert.match(contentType ?? '', /^text\/event-stream/);
    const statuses = jobs.map((job) => job.status);
    assert.equal(statuses.at(-1), 'succeeded');
    assert.ok(statuses.includes('running'));
    assert.ok(
      jobs.some((job) => job.lastError?.type === 'TransientError'),
      'the failed first attempt was streamed',
    );
    assert.ok(
      jobs.filter((job) => job.status === 'running' && job.attempt === 2 && job.progress).length >= 2,
      'progress was streamed',
    );
    for (let i = 1; i < jobs.length; i++) {
      assert.notDeepEqual(
        [jobs[i]!.status, jobs[i]!.attempt, jobs[i]!.progress, jobs[i]!.lastError],
        [jobs[i - 1]!.status, jobs[i - 1]!.attempt, jobs[i - 1]!.progress, jobs[i - 1]!.lastError],
        'each event carries a change',
      );
    }
  });

  it('sends one event and ends for a job that already finished, and 404 for an unknown one', async function () {
    const jobId = uniqueJobId('events-done');
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId }, '?wait=10');
    const { jobs } = await readJobEvents(`${service.baseUrl}/api/v1/jobs/${jobId}/events`);
    assert.deepEqual(
      jobs.map((job) => job.status),
      ['succeeded'],
    );
    const missing = await service.request<ErrorBody>('GET', '/api/v1/jobs/no-such-job/events');
    assert.equal(missing.status, 404);
  });

  it('sends a keep-alive comment on a quiet stream within the interval', async function () {
    this.timeout(keepAliveIntervalMs + 15_000);
    const jobId = uniqueJobId('events-quiet');
    // Delayed by an hour: queued, and nothing about it changes while the stream is read.
    await service.submit({ type: 'sleep', input: { seconds: 0 }, delaySeconds: 3600, jobId });
    const controller = new AbortController();
    const opened = Date.now();
    const response = await fetch(`${service.baseUrl}/api/v1/jobs/${jobId}/events`, { signal: controller.signal });
    let text = '';
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        text += Buffer.from(chunk).toString('utf8');
        if (/^: keep-alive$/m.test(text) || Date.now() - opened > keepAliveIntervalMs + 5000) break;
      }
    } finally {
      controller.abort();
    }
    assert.match(text, /^: keep-alive$/m, 'no keep-alive comment arrived');
    assert.ok(Date.now() - opened <= keepAliveIntervalMs + 2000, `the keep-alive came after ${Date.now() - opened} ms`);
    await service.cancel(jobId);
  });

  it('stops its work when clients go away: no read of Temporal once the streams are closed', async function () {
    const jobId = uniqueJobId('events-leave');
    await service.submit({ type: 'sleep', input: { seconds: 60 }, jobId });
    const baseline = await service.openConnections();
    const readsBefore = await service.temporalReads();
    // Each client reads the first event and a change (the job's reader has read Temporal), and goes away.
    await Promise.all(
      Array.from({ length: 50 }, () => readJobEvents(`${service.baseUrl}/api/v1/jobs/${jobId}/events`, 2)),
    );
    const deadline = Date.now() + 5000;
    while ((await service.openConnections()) > baseline && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok((await service.openConnections()) <= baseline, 'every stream was closed');
    // A read already under way when its client left may still end; none starts after.
    await new Promise((resolve) => setTimeout(resolve, eventPollIntervalMs));
    const readsAfterClose = await service.temporalReads();
    assert.ok(readsAfterClose > readsBefore, 'the streams read the job from Temporal while they were open');
    await new Promise((resolve) => setTimeout(resolve, 6 * eventPollIntervalMs));
    assert.equal(
      await service.temporalReads(),
      readsAfterClose,
      'the API kept reading Temporal for streams nobody follows',
    );
    await service.cancel(jobId);
  });
});

describe('Job types', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start({ workers: false });
  });
  after(async function () {
    await service.teardown();
  });

  it('lists each registered type with its input JSON Schema and defaults', async function () {
    const { status, body } = await service.request<{
      types: Array<{
        name: string;
        inputSchema: { type: string; properties: Record<string, unknown>; required?: string[] };
        defaults: { retry: { maxAttempts: number } };
      }>;
    }>('GET', '/api/v1/job-types');
    assert.equal(status, 200);
    // In name order: the registry keeps them by name, whichever worker declared them first.
    assert.deepEqual(
      body.types.map((type) => type.name),
      ['command', 'sleep'],
    );
    const [command, sleep] = body.types as [(typeof body.types)[number], (typeof body.types)[number]];
    assert.equal(sleep.inputSchema.type, 'object');
    assert.deepEqual(sleep.inputSchema.required, ['seconds']);
    assert.deepEqual(sleep.inputSchema.properties['seconds'], { type: 'number', minimum: 0, maximum: 86_400 });
    assert.equal(sleep.defaults.retry.maxAttempts, 3);
    assert.deepEqual(command.inputSchema.required, ['command']);
  });
});
