// Growth: at each backlog size, `normal`'s slots are filled with long jobs (a saturated worker), the backlog's
// zero-second jobs are submitted behind them and measured while they wait (submits, polls of queued jobs, the first
// page of a list filtered by status, counts, memory, the database), then the long jobs are cancelled and the backlog
// drains. Sizes run one after the other, so the server's database holds every earlier size's jobs too.
import { JobStatus } from '../../src/contract/job.js';
import { JobPriorityKey, JobStatusKey } from '../../src/workflows/search-attributes.js';
import { GatewayReplyUnexpectedError, type JobBody } from '../gateway.js';
import { delay, runConcurrently, runPaced, timed } from '../load.js';
import type { BenchParams } from '../options.js';
import { rssMb } from '../proc.js';
import type { BacklogFigures, BacklogPoint, ScenarioRun } from '../results.js';
import type { BenchStack } from '../stack.js';
import { rounded, summarize } from '../stats.js';

/** Thrown when a backlog's jobs do not do what the scenario waits for in time. */
export class BacklogStalledError extends Error {
  override readonly name = 'BacklogStalledError';
}

const priority = 'normal';
/** Long enough to outlast any size's submits and measurements: the blockers are cancelled, never finished. */
const blocker: JobBody = { type: 'sleep', input: { seconds: 86_400 }, priority };
const backlogJob: JobBody = { type: 'sleep', input: { seconds: 0 }, priority };
/** Clients polling queued jobs, each a GET per 100 ms, as the `poll` scenario's. */
const pollers = 16;
const pollIntervalMs = 100;

async function waitFor(what: string, timeoutMs: number, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new BacklogStalledError(`${what}: not after ${Math.round(timeoutMs / 1000)} s`);
    await delay(250);
  }
}

export async function backlog(stack: BenchStack, params: BenchParams): Promise<ScenarioRun<BacklogFigures>> {
  const { sizes, submitters, pollSamples, listSamples } = params.backlog;
  const slots = (params.workerQueues[priority] ?? 0) * stack.workers.length;
  const count = (status: string): Promise<number> =>
    stack.bare.count(
      `WorkflowType = 'jobWorkflow' AND ${JobPriorityKey.name} = '${priority}' AND ${JobStatusKey.name} = '${status}'`,
    );
  const points: BacklogPoint[] = [];
  const pollMs: number[] = [];
  const listMs: number[] = [];
  for (const size of sizes) {
    console.log(`  backlog of ${size}…`);
    const blockers: string[] = [];
    const run = `backlog-${process.pid}-${size}`;
    await runConcurrently(slots, submitters, async (index) => {
      blockers.push((await stack.gateway.submit({ ...blocker, jobId: `${run}-blocker-${index}` })).jobId);
    });
    await waitFor(`${slots} long jobs running`, 60_000, async () => (await count('running')) >= slots);

    const databaseBefore = stack.temporal.databaseBytes();
    const jobIds: string[] = [];
    const submitMs = await runConcurrently(size, submitters, async (index) => {
      jobIds.push((await stack.gateway.submit({ ...backlogJob, jobId: `${run}-${index}` })).jobId);
    });

    const polls: number[] = [];
    await runPaced(Math.ceil(pollSamples / pollers), pollers, pollIntervalMs, async () => {
      const jobId = jobIds[Math.floor(Math.random() * jobIds.length)]!;
      const job = await timed(polls, () => stack.gateway.getJob(jobId));
      if (job.status !== 'queued') throw new BacklogStalledError(`backlog job ${jobId} is ${job.status}, not queued`);
    });
    const lists: number[] = [];
    for (let i = 0; i < listSamples; i++) {
      const reply = await timed(lists, () =>
        stack.gateway.request<{ jobs: unknown[] }>('GET', `/api/v1/jobs?status=queued&priority=${priority}&limit=20`),
      );
      if (reply.status !== 200) throw new GatewayReplyUnexpectedError('list queued', reply.status, reply.body);
    }
    const countsByStatus = Object.fromEntries(
      await Promise.all(JobStatus.options.map(async (status) => [status, await count(status)] as const)),
    );
    const databaseAfter = stack.temporal.databaseBytes();
    const memory = (pids: readonly number[]): number => rounded(Math.max(...pids.map((pid) => rssMb(pid) ?? 0)));

    const drainStarted = performance.now();
    await runConcurrently(blockers.length, submitters, async (index) => {
      await stack.gateway.cancel(blockers[index]!);
    });
    // At least 5 jobs a second, or the drain has stalled.
    await waitFor(`the backlog of ${size} drained`, 120_000 + size * 200, async () => {
      const [queued, running] = await Promise.all([count('queued'), count('running')]);
      return queued + running === 0;
    });
    const drainMs = performance.now() - drainStarted;

    const poll = summarize(polls);
    const list = summarize(lists);
    pollMs.push(...polls);
    listMs.push(...lists);
    points.push({
      backlog: size,
      submitPerSec: rounded((size * 1000) / submitMs),
      queuedPollP99Ms: rounded(poll.p99),
      listP99Ms: rounded(list.p99),
      countsByStatus,
      apiRssMb: memory(stack.apis.map((api) => api.pid)),
      workerRssMb: memory(stack.workers.map((worker) => worker.pid)),
      databaseBytesPerJob:
        databaseBefore === undefined || databaseAfter === undefined
          ? undefined
          : Math.round((databaseAfter - databaseBefore) / size),
      drainPerSec: rounded((size * 1000) / drainMs),
    });
    console.log(`  ${JSON.stringify(points.at(-1))}`);
  }
  return {
    figures: { points },
    distributions: [
      { label: 'GET queued job, every backlog size', side: 'gateway', samplesMs: pollMs },
      { label: 'list ?status=queued, every backlog size', side: 'gateway', samplesMs: listMs },
    ],
  };
}
