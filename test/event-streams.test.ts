// Event streams under load: every stream of a job on the API process follows one reader of it, and a tenant's open
// streams are capped (JOBS_MAX_STREAMS_PER_TENANT).
import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { ErrorBody } from '../src/contract/errors.js';
import type { Job } from '../src/contract/job.js';
import { TestService, uniqueJobId } from './support/service.js';
import { until } from './support/until.js';

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

/** A stream whose reader stops once the answer's head arrives, until `readToEnd`. */
class StalledStream {
  private readonly received: Buffer[] = [];

  private constructor(private readonly response: IncomingMessage) {}

  static open(url: string): Promise<StalledStream> {
    return new Promise((resolve, reject) => {
      get(url, { headers: { accept: 'text/event-stream' } }, (response) => {
        response.pause();
        resolve(new StalledStream(response));
      }).once('error', reject);
    });
  }

  /** Reads on until the server ends the stream, or breaks it: the whole `job` events' jobs. */
  async readToEnd(): Promise<Job[]> {
    await new Promise<void>((resolve) => {
      this.response.on('data', (chunk: Buffer) => this.received.push(chunk));
      this.response.once('close', resolve);
      this.response.once('error', () => resolve());
      this.response.resume();
    });
    return [
      ...Buffer.concat(this.received)
        .toString('utf8')
        .matchAll(/^event: job\ndata: (.*)\n\n/gm),
    ].map((match) => JSON.parse(match[1]!) as Job);
  }

  destroy(): void {
    this.response.destroy();
  }
}

describe('Event streams whose readers stop reading', function () {
  this.timeout(120_000);
  let service: TestService;
  before(async function () {
    service = await TestService.start();
  });
  after(async function () {
    await service.teardown();
  });

  /** 14 arguments of 32,000 characters: every job event is about 450 KB. */
  const bigArgs = Array.from({ length: 14 }, (_, index) => String.fromCharCode(97 + index).repeat(32_000));

  async function startStalled(label: string, args: string[]): Promise<{ jobId: string; stream: StalledStream }> {
    const jobId = uniqueJobId(label);
    await service.submit({ type: 'command', jobId, input: { command: 'progress-steps', args: [...args, ...bigArgs] } });
    await service.waitFor(jobId, ['running']);
    return { jobId, stream: await StalledStream.open(`${service.baseUrl}/api/v1/jobs/${jobId}/events`) };
  }

  async function metric(name: string): Promise<number> {
    const { body } = await service.request<string>('GET', '/metrics');
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(body)?.[1] ?? Number.NaN);
  }

  it('holds at most a state and a little more per stream, and sends the newest state once the reader reads again', async function () {
    // Three jobs of 30 s, each a 450 KB state at every progress change (about one a second).
    const stalled = await Promise.all([1, 2, 3].map(() => startStalled('stalled-reader', ['150', '0'])));
    try {
      let mostUnsent = 0;
      while ((await service.getJob(stalled[0]!.jobId)).body.status === 'running') {
        mostUnsent = Math.max(mostUnsent, await metric('durable_jobs_event_stream_unsent_bytes'));
        await delay(500);
      }
      // Unbounded, each stream held every state its reader missed: 15 MB and more in 30 s.
      assert.ok(mostUnsent < 3 * 1024 * 1024, `${mostUnsent} bytes unsent at most`);
      const jobs = await stalled[0]!.stream.readToEnd();
      assert.equal(jobs.at(-1)?.status, 'succeeded', 'the last event is the finished state');
      assert.equal(jobs.at(-1)?.progress?.percent, 100);
      for (let index = 1; index < jobs.length; index++)
        assert.ok((jobs[index]!.progress?.percent ?? 0) >= (jobs[index - 1]!.progress?.percent ?? 0), 'in order');
      assert.equal(await metric('durable_jobs_event_streams_closed_behind_total'), 0);
    } finally {
      for (const { stream } of stalled) stream.destroy();
    }
  });

  it('closes a stream whose reader stopped while the job logs more than the stream may hold, and gives its place back', async function () {
    // Ten 8,000-byte lines every 0.2 s: about 400 KB of log lines a second, which no stream may skip.
    const closedBefore = await metric('durable_jobs_event_streams_closed_behind_total');
    const { jobId, stream } = await startStalled('stalled-logs', ['150', '10']);
    try {
      // The reader reads nothing, so the server's side says when it closed the stream.
      await until(
        'the stream closed',
        () => metric('durable_jobs_event_streams_closed_behind_total'),
        (closed) => closed === closedBefore + 1,
        60_000,
      );
      assert.equal((await service.getJob(jobId)).body.status, 'running', 'closed while the job still ran');
      assert.equal(await metric('durable_jobs_event_stream_unsent_bytes'), 0, 'the closed stream holds nothing');
      await stream.readToEnd();
      const again = await OpenStream.open(`${service.baseUrl}/api/v1/jobs/${jobId}/events`);
      assert.equal(again.response.status, 200, 'a reader reconnecting gets a stream again');
      again.close();
      await again.ended;
    } finally {
      stream.destroy();
      await service.cancel(jobId);
    }
  });
});
