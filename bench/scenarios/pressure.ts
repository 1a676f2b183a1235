// Issue 21's load at once, not in the smoke run: `streams` event streams on one running job, `bigJobs` command jobs
// with ≈ 480 KB inputs run and polled, `parallelLists` lists of 100 at a time, and a command printing 48 MB without a
// newline; meanwhile `/healthz` is asked every 100 ms (from a thread of its own) and the API's and worker's RSS sampled every 100 ms. Every
// answer's status is counted: a 5xx is a failure of the service, a 429 (the stream cap) is not. An idle process
// asked the same way is the floor the load leaves to any process on the machine.
import { request, type ClientRequest } from 'node:http';
import type { Job } from '../../src/contract/job.js';
import { finishedStatuses } from '../../src/workflows/job-state.js';
import { temporalReadsByCall } from '../../dev/api-metrics.js';
import { delay, runConcurrently } from '../load.js';
import { probeInThread, startIdleServer, type ProbeResult } from '../probe.js';
import type { BenchParams } from '../options.js';
import { rssMb } from '../proc.js';
import type { PressureFigures, ScenarioRun } from '../results.js';
import type { BenchStack } from '../stack.js';
import { rounded, summarize } from '../stats.js';

/** The most characters one command argument may have. */
const argumentChars = 32_000;

/**
 * One scrape of the API's /metrics: its event loop delay (prom-client's, from monitorEventLoopDelay) since the last
 * scrape, in ms (high while `/healthz` is slow, the API's own work blocks it; low, the process waited for a core), and
 * its reads of Temporal so far, by kind.
 */
async function scrapeApi(
  stack: BenchStack,
): Promise<{ eventLoopDelayMs: { p99: number; max: number }; temporalReads: Record<string, number> }> {
  const text = await (await fetch(stack.gateway.urlOf('/metrics'))).text();
  const seconds = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    eventLoopDelayMs: {
      p99: rounded(seconds('nodejs_eventloop_lag_p99_seconds') * 1000),
      max: rounded(seconds('nodejs_eventloop_lag_max_seconds') * 1000),
    },
    temporalReads: temporalReadsByCall(text),
  };
}

export async function pressure(stack: BenchStack, params: BenchParams): Promise<ScenarioRun<PressureFigures>> {
  const { streams, parallelLists, bigJobs, bigInputBytes, noNewlineOutputBytes } = params.pressure;
  const statuses = new Map<number, number>();
  const serverErrorsByRequest = new Map<string, number>();
  // `what` names the request; a 5xx is counted by it and by the error's code and message, to find its cause.
  const counted = <T extends { status: number; body?: unknown }>(what: string, reply: T): T => {
    statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
    if (reply.status >= 500) {
      const { error } = (reply.body ?? {}) as { error?: { code?: string; message?: string } };
      const key = `${what} ${reply.status} ${error?.code ?? '?'}: ${error?.message ?? JSON.stringify(reply.body)}`;
      serverErrorsByRequest.set(key, (serverErrorsByRequest.get(key) ?? 0) + 1);
    }
    return reply;
  };
  const pids = { api: stack.apis.map((api) => api.pid), worker: stack.workers.map((worker) => worker.pid) };
  const peaks = { api: 0, worker: 0 };
  const sampler = setInterval(() => {
    for (const role of ['api', 'worker'] as const)
      peaks[role] = Math.max(peaks[role], ...pids[role].map((pid) => rssMb(pid) ?? 0));
  }, 100);
  // A scrape resets the event loop delay: what the next one reads is this scenario's.
  const { temporalReads: readsBefore } = await scrapeApi(stack);
  const idle = await startIdleServer();
  const probe = probeInThread(stack.gateway.urlOf('/healthz'), 100);
  const floorProbe = probeInThread(idle.url, 100);
  let probed: ProbeResult | undefined;
  let floor: ProbeResult | undefined;
  let submitsEndedAt = Number.POSITIVE_INFINITY;

  const open: ClientRequest[] = [];
  let notSucceeded = 0;
  try {
    const followed = counted(
      'POST /api/v1/jobs (the followed job)',
      await stack.gateway.request<Job>('POST', '/api/v1/jobs', { type: 'sleep', input: { seconds: 120 } }),
    ).body;
    // Each stream on a connection of its own, read and thrown away; its status counted once it answers.
    for (let i = 0; i < streams; i++) {
      const req = request(
        stack.gateway.urlOf(`/api/v1/jobs/${followed.jobId}/events`),
        { agent: false, headers: { accept: 'text/event-stream' } },
        (res) => {
          counted('GET /api/v1/jobs/{id}/events', { status: res.statusCode ?? 0 });
          res.resume();
        },
      );
      req.on('error', () => undefined).end();
      open.push(req);
    }

    const args = Array.from({ length: Math.ceil(bigInputBytes / argumentChars) }, (_, i) =>
      String(i % 10).repeat(argumentChars),
    );
    const bigIds: string[] = [];
    await runConcurrently(bigJobs, 10, async () => {
      const reply = counted(
        'POST /api/v1/jobs (480 KB input)',
        await stack.gateway.request<Job>('POST', '/api/v1/jobs', {
          type: 'command',
          input: { command: 'spew', args: ['0', ...args] },
        }),
      );
      bigIds.push(reply.body.jobId);
    });
    submitsEndedAt = Date.now();
    const noNewline = counted(
      'POST /api/v1/jobs (48 MB without a newline)',
      await stack.gateway.request<Job>('POST', '/api/v1/jobs', {
        type: 'command',
        input: { command: 'spew', args: [String(noNewlineOutputBytes)] },
      }),
    ).body;
    // The big jobs polled until each is finished, as their callers would; the lists run meanwhile.
    const lists = (async () => {
      for (let round = 0; round < 3; round++)
        await Promise.all(
          Array.from({ length: parallelLists }, async () =>
            counted('GET /api/v1/jobs?limit=100', await stack.gateway.request('GET', '/api/v1/jobs?limit=100')),
          ),
        );
    })();
    await runConcurrently(bigIds.length + 1, 10, async (index) => {
      const jobId = bigIds[index] ?? noNewline.jobId;
      for (;;) {
        const reply = counted(
          'GET /api/v1/jobs/{id}',
          await stack.gateway.request<Job>('GET', `/api/v1/jobs/${jobId}`),
        );
        if (reply.status === 200 && finishedStatuses.has(reply.body.status)) {
          if (reply.body.status !== 'succeeded') {
            notSucceeded++;
            console.log(`  job ${jobId} ${reply.body.status}: ${reply.body.error?.message ?? ''}`);
          }
          return;
        }
        await delay(250);
      }
    });
    await lists;
    await stack.gateway.cancel(followed.jobId);
  } finally {
    for (const req of open) req.destroy();
    clearInterval(sampler);
    probed = await probe.stop();
    floor = await floorProbe.stop();
    idle.stop();
  }
  const healthz = probed.samplesMs;
  const whileSubmitting = healthz.filter((_, i) => (probed?.startedAtMs[i] ?? 0) < submitsEndedAt);
  const afterSubmits = healthz.filter((_, i) => (probed?.startedAtMs[i] ?? 0) >= submitsEndedAt);
  for (const status of probed.statuses) counted('GET /healthz', { status });
  const { eventLoopDelayMs: eventLoopDelay, temporalReads: readsAfter } = await scrapeApi(stack);
  const temporalReads = Object.fromEntries(
    Object.entries(readsAfter).map(([call, n]) => [call, n - (readsBefore[call] ?? 0)]),
  );
  const serverErrors = [...statuses].filter(([status]) => status >= 500).reduce((sum, [, n]) => sum + n, 0);
  console.log(`  answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`);
  for (const [what, n] of serverErrorsByRequest) console.log(`  ${n} × ${what}`);
  return {
    figures: {
      apiPeakRssMb: rounded(peaks.api),
      workerPeakRssMb: rounded(peaks.worker),
      healthzP99Ms: rounded(summarize(healthz).p99),
      healthzWhileSubmittingP99Ms: rounded(summarize(whileSubmitting).p99),
      healthzAfterSubmitsP99Ms: rounded(summarize(afterSubmits).p99),
      idleProcessP99Ms: rounded(summarize(floor.samplesMs).p99),
      apiEventLoopDelayP99Ms: eventLoopDelay.p99,
      apiEventLoopDelayMaxMs: eventLoopDelay.max,
      serverErrors,
      jobsNotSucceeded: notSucceeded,
      apiHistoryReads: temporalReads['history'] ?? 0,
      apiTemporalReads: temporalReads,
      answersByStatus: Object.fromEntries(statuses),
      serverErrorsByRequest: Object.fromEntries(serverErrorsByRequest),
    },
    distributions: [{ label: 'GET /healthz under pressure', side: 'floor', samplesMs: healthz }],
  };
}
