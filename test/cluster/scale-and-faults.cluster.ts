// A real Temporal cluster (PostgreSQL, then frontend, two history, matching and worker services as processes of
// their own), the API as two processes and three worker processes started with the project's own entry points:
// 300 jobs, one jobId submitted 50 times at once, then faults while jobs run. No accepted job may be lost.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { decodeTimeoutType } from '@temporalio/common';
import { pollMaxAgeMs } from '../../src/jobs/index.js';
import type { ErrorBody } from '../../src/contract/errors.js';
import type { Job } from '../../src/contract/job.js';
import { buildClusterBinaries } from '../../dev/cluster/build.js';
import { LocalCluster } from '../../dev/cluster/cluster.js';
import { pickClusterPorts } from '../../dev/cluster/services.js';
import { commandScratchDir } from '../support/command-scratch.js';
import { freePort, httpRequest, startApiPart, startWorkerPart, stopAllParts, type Part } from '../support/processes.js';

const commandsDir = fileURLToPath(new URL('./commands', import.meta.url));
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

interface LedgerLine {
  readonly kind: 'start' | 'done';
  readonly jobId: string;
  readonly pid: number;
  readonly atMs: number;
}

/** A span of time during which a fault may cut an attempt's completion short. */
interface FaultWindow {
  readonly name: string;
  readonly fromMs: number;
  toMs: number;
}

async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await fn(items[index]!, index);
      }
    }),
  );
}

describe('A real cluster: two API processes, three workers, faults while jobs run', function () {
  this.timeout(180_000);

  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const taskQueuePrefix = `cluster-${tag}`;
  const ledger = {
    accepted: new Set<string>(),
    faults: 0,
    lost: new Set<string>(),
    duplicates: new Map<string, LedgerLine[]>(),
    /** Each killed worker's pid, with when the kill was sent. */
    killedWorkers: new Map<number, number>(),
    windows: [] as FaultWindow[],
  };
  let dir: string;
  let ledgerDir: string;
  let ledgerFile: string;
  let cluster: LocalCluster | undefined;
  let client: Client;
  const apis: { url: string; part: Part }[] = [];
  const workers: Part[] = [];

  const startWorker = (): Promise<Part> =>
    startWorkerPart({
      temporalAddress: cluster!.address,
      taskQueuePrefix,
      commandsDir,
      queues: { normal: 10 },
      client,
    });

  before(async function () {
    // A cold build of the Temporal server takes minutes; `.ci/run` builds it in a step of its own first.
    this.timeout(20 * 60_000);
    dir = await mkdtemp(join(tmpdir(), 'durable-jobs-cluster-'));
    // PostgreSQL runs as the `postgres` user when the test runs as root: it must be able to reach its data directory.
    await chmod(dir, 0o755);
    // Outside /tmp, which is private to each attempt of a root worker; commands run as another user.
    ledgerDir = await commandScratchDir();
    ledgerFile = join(ledgerDir, 'ledger.txt');
    await writeFile(ledgerFile, '', { mode: 0o666 });
    await chmod(ledgerFile, 0o666);
    cluster = await LocalCluster.start({
      dir: join(dir, 'cluster'),
      binaries: await buildClusterBinaries(),
      ports: await pickClusterPorts(2),
      namespace: 'default',
      log: () => undefined,
    });
    client = new Client({ connection: cluster.connection, namespace: 'default' });
    workers.push(...(await Promise.all([startWorker(), startWorker(), startWorker()])));
    for (const port of [await freePort(), await freePort()]) {
      const part = await startApiPart({ port, temporalAddress: cluster.address, taskQueuePrefix, commandsDir });
      apis.push({ url: `http://127.0.0.1:${port}`, part });
    }
  });

  after(async function () {
    this.timeout(120_000);
    const causes = new Map<string, number>();
    for (const dones of ledger.duplicates.values()) {
      const cause = faultCutting(dones) ?? 'unexplained';
      causes.set(cause, (causes.get(cause) ?? 0) + 1);
    }
    const byCause = [...causes]
      .map(([cause, count]) => (cause === 'unexplained' ? `${count} unexplained` : `${count} from the ${cause}`))
      .join(', ');
    console.log(
      `cluster summary: jobs accepted ${ledger.accepted.size}, faults injected ${ledger.faults}, jobs lost ${ledger.lost.size}, ` +
        `duplicate completions ${ledger.duplicates.size}${byCause ? ` (${byCause})` : ''}`,
    );
    await stopAllParts();
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (ledgerDir) await rm(ledgerDir, { recursive: true, force: true });
  });

  async function call(api: { url: string }, method: string, path: string, body?: unknown): Promise<Reply> {
    const { status, text } = await httpRequest(`${api.url}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status, body: text ? (JSON.parse(text) as unknown) : undefined };
  }

  /**
   * A 503 the same request answers again: Temporal unavailable, or a start whose outcome is unknown (the job may have
   * been created; the same request with its jobId then answers 200).
   */
  const isUnavailable = (reply: Reply): boolean =>
    reply.status === 503 && ['unavailable', 'outcome_unknown'].includes((reply.body as ErrorBody).error.code);

  /** Counts and logs a fault; returns when it happened. */
  function noteFault(description: string): number {
    ledger.faults++;
    const atMs = Date.now();
    console.log(`  fault ${ledger.faults}: ${description} at ${new Date(atMs).toISOString()}`);
    return atMs;
  }

  /** A job whose handler appends to the ledger; attempts are retried quickly when a worker dies. */
  function ledgerJob(jobId: string, seconds: number): Record<string, unknown> {
    return {
      type: 'command',
      jobId,
      input: { command: 'ledger-sleep', args: [jobId, String(seconds)], env: { LEDGER: ledgerFile } },
      timeoutSeconds: 120,
      heartbeatTimeoutSeconds: 5,
      retry: { maxAttempts: 10, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 5 },
    };
  }

  /**
   * Submits as a client behind a load balancer would: on 503 the same request goes again, to the other API
   * process. 202 or 200 means accepted, and from then on the job must not be lost.
   */
  async function submit(firstApi: number, body: Record<string, unknown>, timeoutMs = 60_000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const reply = await call(apis[(firstApi + attempt) % apis.length]!, 'POST', '/api/v1/jobs', body);
      if (reply.status === 202 || reply.status === 200) {
        ledger.accepted.add(body['jobId'] as string);
        return reply;
      }
      assert.ok(
        isUnavailable(reply),
        `submit of ${String(body['jobId'])} answered ${reply.status}: ${JSON.stringify(reply.body)}`,
      );
      if (Date.now() > deadline)
        assert.fail(`submit of ${String(body['jobId'])} still answered 503 after ${timeoutMs} ms`);
      await delay(300);
    }
  }

  /** Waits for each job's workflow to close (long polls, retried through faults), then reads each through both APIs. */
  async function finalJobs(jobIds: readonly string[], timeoutMs: number): Promise<Map<string, Job>> {
    const deadline = Date.now() + timeoutMs;
    await inParallel(jobIds, 64, async (jobId) => {
      for (;;) {
        const closed = await client.workflow
          .getHandle(jobId)
          .result()
          .then(
            () => true,
            (err: unknown) => err instanceof Error && err.name === 'WorkflowFailedError',
          );
        if (closed || Date.now() > deadline) return;
        await delay(500);
      }
    });
    // Either API process may answer a poll with its read of the job from under a second ago.
    await delay(pollMaxAgeMs);
    const jobs = new Map<string, Job>();
    await inParallel(jobIds, 16, async (jobId, i) => {
      const replies: Reply[] = [];
      for (const api of [apis[i % 2]!, apis[(i + 1) % 2]!]) {
        let reply = await call(api, 'GET', `/api/v1/jobs/${jobId}`);
        while (isUnavailable(reply) && Date.now() < deadline)
          reply = await delay(500).then(() => call(api, 'GET', `/api/v1/jobs/${jobId}`));
        replies.push(reply);
      }
      assert.equal(replies[0]!.status, 200, `GET ${jobId}: ${JSON.stringify(replies[0]!.body)}`);
      assert.deepEqual(replies[1], replies[0], `the two API processes disagree about ${jobId}`);
      const job = replies[0]!.body as Job;
      jobs.set(jobId, job);
      if (job.status !== 'succeeded') ledger.lost.add(jobId);
    });
    return jobs;
  }

  async function readLedger(): Promise<LedgerLine[]> {
    return (await readFile(ledgerFile, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [kind, jobId, pid, atMs] = line.split(' ');
        return { kind: kind as LedgerLine['kind'], jobId: jobId!, pid: Number(pid), atMs: Number(atMs) };
      });
  }

  /**
   * Why a job's handler completed more than once, if a fault explains it: its first completion was cut off
   * because its worker was killed before it could report it, or because it fell in a server fault's window.
   * A first run of a killed worker that finished after the kill outlived its worker: nothing explains that.
   */
  function faultCutting(dones: readonly LedgerLine[]): string | undefined {
    const first = [...dones].sort((a, b) => a.atMs - b.atMs)[0]!;
    const killedAt = ledger.killedWorkers.get(first.pid);
    if (killedAt !== undefined) return first.atMs <= killedAt ? 'worker kill' : undefined;
    // The latest fault that began before the completion, if the completion came during it or shortly after.
    const window = [...ledger.windows].reverse().find((candidate) => first.atMs >= candidate.fromMs - 2000);
    return window && first.atMs <= window.toMs + 10_000 ? window.name : undefined;
  }

  /** How each attempt of the job ended, from its history: why a handler had to run again. */
  async function attemptEnds(jobId: string): Promise<string[]> {
    const history = await client.workflow.getHandle(jobId).fetchHistory();
    return (history.events ?? []).flatMap((event) => {
      if (event.activityTaskCompletedEventAttributes) return ['completed'];
      if (event.activityTaskTimedOutEventAttributes)
        return [
          `timed out (${decodeTimeoutType(event.activityTaskTimedOutEventAttributes.failure?.timeoutFailureInfo?.timeoutType)})`,
        ];
      if (event.activityTaskFailedEventAttributes)
        return [`failed (${event.activityTaskFailedEventAttributes.failure?.message})`];
      return [];
    });
  }

  /** Records every job with more than one completed handler run, and says why each ran again. */
  async function countDuplicates(jobIds: Iterable<string>): Promise<void> {
    const dones = new Map<string, LedgerLine[]>();
    for (const line of await readLedger())
      if (line.kind === 'done') dones.set(line.jobId, [...(dones.get(line.jobId) ?? []), line]);
    for (const jobId of jobIds) {
      const lines = dones.get(jobId) ?? [];
      if (lines.length <= 1) continue;
      ledger.duplicates.set(jobId, lines);
      const runs = lines.map((line) => `pid ${line.pid} at ${new Date(line.atMs).toISOString()}`).join(', ');
      console.log(
        `  ${jobId}: handler completed ${lines.length} times (${runs}); attempts ${(await attemptEnds(jobId)).join(', ')}`,
      );
    }
  }

  it('runs 300 jobs submitted through both API processes on all three workers, and both APIs agree on each', async function () {
    this.timeout(240_000);
    const jobIds = Array.from({ length: 300 }, (_, i) => `scale-${tag}-${i}`);
    await inParallel(jobIds, 24, async (jobId, i) => {
      await submit(i % 2, ledgerJob(jobId, 1));
    });
    const jobs = await finalJobs(jobIds, 180_000);
    assert.deepEqual([...ledger.lost], [], 'every job succeeds');
    assert.equal(jobs.size, 300);

    const donePids = new Set(
      (await readLedger())
        .filter((line) => line.kind === 'done' && line.jobId.startsWith(`scale-${tag}-`))
        .map((line) => line.pid),
    );
    for (const worker of workers)
      assert.ok(
        donePids.has(worker.pid),
        `worker ${worker.pid} ran none of the jobs (ran: ${[...donePids].join(', ')})`,
      );
    await countDuplicates(jobIds);
    assert.equal(ledger.duplicates.size, 0, 'no fault yet, so no handler completed twice');
  });

  it('starts exactly one execution for 50 concurrent submits of one jobId across both API processes', async function () {
    const jobId = `once-${tag}`;
    const body = ledgerJob(jobId, 1);
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => submit(i % 2, body)));
    const statuses = replies.map((reply) => reply.status);
    assert.equal(
      statuses.filter((status) => status === 202).length,
      1,
      `exactly one submit created the job: ${statuses.join(' ')}`,
    );
    assert.equal(statuses.filter((status) => status === 200).length, 49);

    await finalJobs([jobId], 60_000);
    const runs = [];
    for await (const execution of client.workflow.list({ query: `WorkflowId = "${jobId}"` }))
      runs.push(execution.runId);
    assert.equal(runs.length, 1, 'one workflow execution');
    const handlerStarts = (await readLedger()).filter((line) => line.jobId === jobId && line.kind === 'start');
    assert.equal(handlerStarts.length, 1, 'the handler ran once');
  });

  it('loses no accepted job while a worker is killed, matching restarts and a history process is killed', async function () {
    this.timeout(420_000);
    let submitting = true;
    let submitted = 0;
    // Jobs keep arriving through both APIs during every fault, about as fast as the workers' 30 slots run 3 s jobs,
    // so there is little backlog and a retried attempt runs soon after its fault.
    const submitter = inParallel([0, 1, 2, 3, 4, 5], 6, async (lane) => {
      while (submitting) {
        await submit(lane % 2, ledgerJob(`fault-${tag}-${lane}-${submitted++}`, 3), 120_000);
        await delay(1000);
      }
    });
    /** Waits until jobs complete on the live workers again after the fault, and enough attempts are in flight that the next fault cuts some. */
    const recoveredAndBusy = async (faultAtMs: number): Promise<void> => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const lines = await readLedger();
        const live = (line: LedgerLine): boolean => workers.some((worker) => worker.pid === line.pid);
        const done = new Set(lines.filter((line) => line.kind === 'done').map((line) => `${line.jobId} ${line.pid}`));
        const inFlight = lines.filter(
          (line) => line.kind === 'start' && live(line) && !done.has(`${line.jobId} ${line.pid}`),
        ).length;
        const completedSince = lines.filter(
          (line) => line.kind === 'done' && live(line) && line.atMs > faultAtMs,
        ).length;
        if (completedSince >= 10 && inFlight >= 10) {
          if (faultAtMs > 0)
            console.log(`    jobs completing again, ${((Date.now() - faultAtMs) / 1000).toFixed(1)} s after it`);
          return;
        }
        assert.ok(
          Date.now() < deadline,
          `jobs did not run again within 120 s of the fault (${completedSince} completed since, ${inFlight} in flight)`,
        );
        await delay(250);
      }
    };
    try {
      await recoveredAndBusy(0);
      const victim = workers.shift()!;
      ledger.killedWorkers.set(victim.pid, Date.now());
      await victim.kill();
      await recoveredAndBusy(noteFault(`SIGKILL worker pid ${victim.pid}`));
      workers.push(await startWorker());

      const matching = cluster!.service('matching');
      const matchingWindow: FaultWindow = { name: 'matching restart', fromMs: Date.now(), toMs: Infinity };
      ledger.windows.push(matchingWindow);
      await matching.stop('SIGTERM');
      await matching.start();
      matchingWindow.toMs = Date.now();
      await recoveredAndBusy(noteFault('matching restarted (SIGTERM, start)'));

      const history = cluster!.service('history-2');
      const historyWindow: FaultWindow = { name: 'history kill', fromMs: Date.now(), toMs: Infinity };
      ledger.windows.push(historyWindow);
      await history.stop('SIGKILL');
      const historyKilledAt = noteFault('SIGKILL history-2 (of two history processes; started again 5 s later)');
      await delay(5000);
      await history.start();
      historyWindow.toMs = Date.now();
      await recoveredAndBusy(historyKilledAt);
    } finally {
      submitting = false;
      await submitter;
    }

    const jobIds = [...ledger.accepted].filter((jobId) => jobId.startsWith(`fault-${tag}-`));
    assert.ok(jobIds.length >= 50, `only ${jobIds.length} jobs were accepted during the faults`);
    await finalJobs(jobIds, 240_000);
    assert.deepEqual([...ledger.lost], [], 'every accepted job ends succeeded');
    await countDuplicates(jobIds);
    const unexplained = [...ledger.duplicates]
      .filter(([, dones]) => faultCutting(dones) === undefined)
      .map(([jobId]) => jobId);
    assert.deepEqual(unexplained, [], 'a handler completed twice only when a fault cut its first completion');
  });

  it('answers 503 unavailable while the frontend is stopped for 10 s, and recovers on its own', async function () {
    this.timeout(180_000);
    const apiPids = apis.map((api) => api.part.pid);
    const frontend = cluster!.service('frontend');
    await frontend.stop('SIGTERM');
    noteFault('frontend stopped for 10 s');
    const stoppedAt = Date.now();
    const refusedIds: string[] = [];
    const checks: string[] = [];
    while (Date.now() - stoppedAt < 10_000) {
      await Promise.all(
        apis.map(async (api, i) => {
          const jobId = `outage-${tag}-${refusedIds.length}-${i}`;
          refusedIds.push(jobId);
          const [submitted, ready] = await Promise.all([
            call(api, 'POST', '/api/v1/jobs', ledgerJob(jobId, 1)),
            call(api, 'GET', '/readyz'),
          ]);
          assert.ok(
            isUnavailable(submitted),
            `submit during the outage answered ${submitted.status} ${JSON.stringify(submitted.body)}`,
          );
          assert.equal(ready.status, 503, `/readyz during the outage answered ${ready.status}`);
          checks.push(`${api.url} ${submitted.status}/${ready.status}`);
        }),
      );
    }
    await frontend.start();

    for (const api of apis) {
      const deadline = Date.now() + 60_000;
      while ((await call(api, 'GET', '/readyz')).status !== 200) {
        assert.ok(Date.now() < deadline, `${api.url} was not ready 60 s after the frontend came back`);
        await delay(250);
      }
    }
    assert.deepEqual(
      apis.map((api) => api.part.pid),
      apiPids,
      'the API processes recovered without a restart',
    );
    const afterIds = [`after-outage-${tag}-0`, `after-outage-${tag}-1`];
    await Promise.all(afterIds.map((jobId, i) => submit(i, ledgerJob(jobId, 1))));
    await finalJobs(afterIds, 60_000);
    assert.deepEqual([...ledger.lost], []);
    for (const jobId of refusedIds)
      assert.equal(
        (await call(apis[0]!, 'GET', `/api/v1/jobs/${jobId}`)).status,
        404,
        `${jobId} was refused, so it must not exist`,
      );
    assert.ok(checks.length >= 2, `only ${checks.length} checks ran during the outage`);
  });
});
