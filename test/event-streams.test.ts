// Event streams under load: every stream of a job on the API process follows one reader of it, and a tenant's open
// streams are capped (JOBS_MAX_STREAMS_PER_TENANT).
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { ErrorBody } from '../src/contract/errors.js';
import type { Job } from '../src/contract/job.js';
import { TestService, uniqueJobId } from './support/service.js';

const maxStreams = 40;

/** An open event stream: the `job` events it has received so far, and `ended` once the server ended it. */
class OpenStream {
  readonly jobs: Job[] = [];
  private readonly controller = new AbortController();
  readonly ended: Promise<void>;

  private constructor(readonly response: Response) {
    this.ended = this.read();
  }

  static async open(url: string): Promise<OpenStream> {
    const controller = new AbortController();
    const response = await fetch(url, { signal: controller.signal });
    const stream = new OpenStream(response);
    stream.controller.signal.addEventListener('abort', () => controller.abort());
    return stream;
  }

  close(): void {
    this.controller.abort();
  }

  private async read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of this.response.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^event: job\ndata: (.*)$/m.exec(block)?.[1];
          if (data) this.jobs.push(JSON.parse(data) as Job);
        }
      }
    } catch (err) {
      if (!this.controller.signal.aborted) throw err;
    }
  }
}

describe('Event streams share one reader per job', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start({ env: { JOBS_MAX_STREAMS_PER_TENANT: String(maxStreams) } });
  });
  after(async function () {
    await service.teardown();
  });

  const eventsUrl = (jobId: string): string => `${service.baseUrl}/api/v1/jobs/${jobId}/events`;

  async function openStreams(jobId: string, count: number): Promise<OpenStream[]> {
    return Promise.all(Array.from({ length: count }, () => OpenStream.open(eventsUrl(jobId))));
  }

  async function closeAll(streams: readonly OpenStream[]): Promise<void> {
    for (const stream of streams) stream.close();
    await Promise.all(streams.map((stream) => stream.ended));
  }

  it('reads Temporal about as often for many streams of a job as for one', async function () {
    this.timeout(60_000);
    const jobId = uniqueJobId('shared-reader');
    // Progress every second: the job changes while it is followed.
    await service.submit({ type: 'sleep', input: { seconds: 60 }, heartbeatTimeoutSeconds: 1, jobId });
    await service.waitFor(jobId, ['running']);
    const readsWhileOpen = async (count: number): Promise<number> => {
      const streams = await openStreams(jobId, count);
      await delay(1000);
      const before = await service.temporalReads();
      await delay(4000);
      const reads = (await service.temporalReads()) - before;
      assert.ok(
        streams.every((stream) => stream.jobs.length >= 2),
        'every stream was sent the job and at least one change',
      );
      await closeAll(streams);
      return reads;
    };
    const one = await readsWhileOpen(1);
    const many = await readsWhileOpen(maxStreams);
    assert.ok(one > 0, 'one stream reads the job');
    assert.ok(many <= one * 2 + 4, `${one} reads of Temporal in 4 s for one stream, ${many} for ${maxStreams}`);
    await service.cancel(jobId);
  });

  it(`answers 429 rate_limited past ${maxStreams} streams of a tenant, and takes a new one once one closes`, async function () {
    this.timeout(60_000);
    const jobId = uniqueJobId('stream-cap');
    // Delayed by an hour: the streams stay open and quiet.
    await service.submit({ type: 'sleep', input: { seconds: 0 }, delaySeconds: 3600, jobId });
    const streams = await openStreams(jobId, maxStreams);
    try {
      assert.ok(streams.every((stream) => stream.response.status === 200));
      const refused = await service.request<ErrorBody>('GET', `/api/v1/jobs/${jobId}/events`);
      assert.equal(refused.status, 429);
      assert.equal(refused.body.error.code, 'rate_limited');
      assert.match(refused.body.error.message, /JOBS_MAX_STREAMS_PER_TENANT/);
      assert.match(refused.body.error.message, /close one first, or poll/);
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);

      streams.shift()?.close();
      let again: OpenStream | undefined;
      for (const deadline = Date.now() + 5000; !again && Date.now() < deadline;) {
        const stream = await OpenStream.open(eventsUrl(jobId));
        if (stream.response.status === 200) again = stream;
        else await delay(100);
      }
      assert.ok(again, 'a closed stream gave its place back');
      streams.push(again);
    } finally {
      await closeAll(streams);
    }
    await service.cancel(jobId);
  });

  it('sends every stream every change, and ends each after the finished state', async function () {
    this.timeout(60_000);
    const jobId = uniqueJobId('every-change');
    await service.submit({
      type: 'sleep',
      input: { seconds: 3, failAttempts: 1 },
      retry: { initialIntervalSeconds: 0.5 },
      jobId,
    });
    const streams = await openStreams(jobId, 20);
    // One more joins later, while the others are being fed: it starts from the job as it is then.
    await delay(1500);
    streams.push(await OpenStream.open(eventsUrl(jobId)));
    await Promise.all(streams.map((stream) => stream.ended));
    for (const [index, { jobs }] of streams.entries()) {
      assert.equal(jobs.at(-1)?.status, 'succeeded', `stream ${index} ended with the finished state`);
      assert.ok(
        jobs.filter((job) => job.status === 'running' && job.attempt === 2 && job.progress).length >= 2,
        `stream ${index} saw the progress`,
      );
      for (let i = 1; i < jobs.length; i++) {
        assert.notDeepEqual(
          [jobs[i]!.status, jobs[i]!.attempt, jobs[i]!.progress, jobs[i]!.lastError],
          [jobs[i - 1]!.status, jobs[i - 1]!.attempt, jobs[i - 1]!.progress, jobs[i - 1]!.lastError],
          `each event of stream ${index} carries a change`,
        );
      }
    }
    assert.ok(
      streams[0]!.jobs.some((job) => job.lastError?.type === 'TransientError'),
      'the failed first attempt was streamed',
    );
  });
});
