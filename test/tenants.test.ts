import assert from 'node:assert/strict';
import type { ErrorBody } from '../src/contract/errors.js';
import type { Job, QueueFigures } from '../src/contract/job.js';
import { JobTenantKey } from '../src/workflows/search-attributes.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDevServer } from '../dev/temporal/dev-server.js';
import { freePort, httpRequest, startApiPart, startWorkerPart, stopAllParts } from './support/processes.js';
import { commandsDir, TestService, uniqueJobId } from './support/service.js';
import { until } from './support/until.js';

const keys = { acme: 'acme-key-0123456789abcdef', globex: 'globex-key-0123456789abcdef' };
const apiKeys = `acme:${keys.acme},globex:${keys.globex}`;

describe('API keys', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start({ workers: false, env: { API_KEYS: apiKeys } });
  });
  after(async function () {
    await service.teardown();
  });

  it('answers 401 unauthorized with WWW-Authenticate under /api/v1 without a key or with a wrong one', async function () {
    for (const apiKey of [undefined, 'not-a-key-of-anybody-at-all', keys.acme.slice(0, -1)]) {
      service.apiKey = apiKey;
      for (const [method, path] of [
        ['GET', '/api/v1/jobs'],
        ['POST', '/api/v1/jobs'],
        ['GET', '/api/v1/jobs/x'],
        ['GET', '/api/v1/queues'],
        ['GET', '/api/v1/job-types'],
      ] as const) {
        const response = await service.request<ErrorBody>(
          method,
          path,
          method === 'POST' ? { type: 'sleep', input: { seconds: 0 } } : undefined,
        );
        assert.equal(response.status, 401, `${method} ${path}`);
        assert.equal(response.body.error.code, 'unauthorized');
        assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
    }
    assert.equal(await service.countWorkflows(`WorkflowType = 'jobWorkflow'`), 0);
  });

  it('leaves health, readiness, metrics and the API document open', async function () {
    service.apiKey = undefined;
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs']) {
      assert.equal((await service.request('GET', path)).status, 200, path);
    }
  });
});

describe('Tenant isolation', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start({ env: { API_KEYS: apiKeys } });
  });
  after(async function () {
    await service.teardown();
  });

  it('lets two tenants use the same jobId independently, each in its own workflow', async function () {
    const jobId = uniqueJobId('shared-id');
    service.apiKey = keys.acme;
    const acme = await service.submit({ type: 'sleep', input: { seconds: 0, message: 'acme' }, jobId }, '?wait=10');
    service.apiKey = keys.globex;
    const globex = await service.submit({ type: 'sleep', input: { seconds: 0, message: 'globex' }, jobId }, '?wait=10');
    assert.equal(acme.status, 200);
    assert.equal(globex.status, 200, "a different tenant's request is not a conflict");
    assert.deepEqual((acme.body.result as { message: string }).message, 'acme');
    assert.deepEqual((globex.body.result as { message: string }).message, 'globex');
    assert.notEqual(acme.body.links.ui, globex.body.links.ui);
    assert.ok(acme.body.links.ui.endsWith(`/workflows/${encodeURIComponent(`acme/${jobId}`)}`));
    const description = await service.temporal.client.workflow.getHandle(`globex/${jobId}`).describe();
    assert.equal(description.typedSearchAttributes.get(JobTenantKey), 'globex');
  });

  it("answers 404 for another tenant's job on every route, exactly as for a missing one", async function () {
    const jobId = uniqueJobId('private');
    service.apiKey = keys.acme;
    await service.submit({ type: 'sleep', input: { seconds: 30 }, jobId });
    service.apiKey = keys.globex;
    const missing = await service.getJob('never-submitted');
    for (const response of [
      await service.getJob(jobId),
      await service.cancel(jobId),
      await service.request<ErrorBody>('GET', `/api/v1/jobs/${jobId}/events`),
    ]) {
      assert.equal(response.status, 404);
      assert.deepEqual(response.body, {
        error: {
          code: 'not_found',
          message: `no job with id "${jobId}": it never existed, was deleted, or finished longer ago than the retention (JOB_RETENTION_HOURS)`,
        },
      });
    }
    assert.equal(missing.status, 404);
    service.apiKey = keys.acme;
    assert.equal(
      (await service.getJob(jobId)).body.status === 'cancelled',
      false,
      "the other tenant's cancel did nothing",
    );
    await service.cancel(jobId);
  });

  it("scopes lists and queue figures to the caller's tenant", async function () {
    service.apiKey = keys.globex;
    const globexOnly = uniqueJobId('globex-only');
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: globexOnly }, '?wait=10');
    service.apiKey = keys.acme;
    const acmeList = await service.request<{ jobs: Job[] }>('GET', '/api/v1/jobs?limit=100');
    assert.ok(acmeList.body.jobs.length > 0);
    assert.ok(acmeList.body.jobs.every((job) => job.jobId !== globexOnly));
    assert.ok(
      acmeList.body.jobs.every((job) => ['acme'].includes(job.links.ui.split('/workflows/')[1]!.split('%2F')[0]!)),
    );
    service.apiKey = keys.globex;
    // The list reads visibility, which lags writes by about a second: it may not have the new job yet.
    await until(
      "globex's job listed",
      async () => (await service.request<{ jobs: Job[] }>('GET', '/api/v1/jobs?limit=100')).body.jobs,
      (jobs) => jobs.some((job) => job.jobId === globexOnly),
      10_000,
    );
  });

  it("counts only the caller's jobs in the queue figures", async function () {
    const unfinished = async (apiKey: string): Promise<number> => {
      service.apiKey = apiKey;
      const { body } = await service.request<{ queues: QueueFigures[] }>('GET', '/api/v1/queues');
      return body.queues.reduce((sum, queue) => sum + queue.queuedJobs + queue.runningJobs, 0);
    };
    // globex's jobs have all finished; acme starts three that keep running.
    service.apiKey = keys.acme;
    const acmeJobs = Array.from({ length: 3 }, () => uniqueJobId('acme-busy'));
    for (const jobId of acmeJobs)
      assert.equal((await service.submit({ type: 'sleep', input: { seconds: 60 }, jobId })).status, 202);
    const deadline = Date.now() + 10_000;
    while ((await unfinished(keys.acme)) < acmeJobs.length && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await unfinished(keys.acme), acmeJobs.length, "acme's own figures count its jobs");
    assert.equal(await unfinished(keys.globex), 0, "globex's figures count acme's jobs");
    service.apiKey = keys.acme;
    for (const jobId of acmeJobs) await service.cancel(jobId);
  });
});

describe('Submit limits', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start({
      workers: false,
      env: {
        API_KEYS: apiKeys,
        RATE_LIMIT_SUBMITS_PER_SEC: '1',
        RATE_LIMIT_BURST: '3',
        MAX_UNFINISHED_JOBS_PER_TENANT: '4',
      },
    });
  });
  after(async function () {
    await service.teardown();
  });

  it('answers 429 rate_limited with Retry-After over the submit rate, per tenant, and starts nothing', async function () {
    service.apiKey = keys.acme;
    const statuses: number[] = [];
    let refused: { headers: Headers; body: ErrorBody } | undefined;
    for (let i = 0; i < 5; i++) {
      const response = await service.request<ErrorBody>('POST', '/api/v1/jobs', {
        type: 'sleep',
        input: { seconds: 1 },
      });
      statuses.push(response.status);
      if (response.status === 429) refused = response;
    }
    assert.deepEqual(statuses.slice(0, 3), [202, 202, 202]);
    assert.ok(
      statuses.slice(3).every((status) => status === 429),
      statuses.join(),
    );
    assert.equal(refused?.body.error.code, 'rate_limited');
    assert.ok(Number(refused?.headers.get('retry-after')) >= 1);
    assert.equal(await service.countWorkflows(`JobTenant = 'acme'`), 3);
    service.apiKey = keys.globex;
    assert.equal(
      (await service.submit({ type: 'sleep', input: { seconds: 1 } })).status,
      202,
      'another tenant has its own bucket',
    );
  });

  it('answers 429 once a tenant has its cap of unfinished jobs', async function () {
    service.apiKey = keys.globex;
    await new Promise((resolve) => setTimeout(resolve, 3000)); // refill the bucket
    // globex has one unfinished job (no worker runs them); three more reach the cap of four.
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await service.submit({ type: 'sleep', input: { seconds: 1 } })).status);
    assert.deepEqual(statuses, [202, 202, 202]);
    const deadline = Date.now() + 5000;
    while (
      (await service.countWorkflows(`JobTenant = 'globex' AND ExecutionStatus = 'Running'`)) < 4 &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000)); // a token for the next submit
    const over = await service.request<ErrorBody>('POST', '/api/v1/jobs', { type: 'sleep', input: { seconds: 1 } });
    assert.equal(over.status, 429);
    assert.match(over.body.error.message, /unfinished/);
    assert.ok(over.headers.get('retry-after'));
    assert.equal(await service.countWorkflows(`JobTenant = 'globex'`), 4);
  });
});

describe('The unfinished cap across API processes', function () {
  this.timeout(90_000);
  let temporal: TestWorkflowEnvironment;
  const apis: string[] = [];
  before(async function () {
    temporal = await startDevServer();
    // The service's worker declares the built-in types; it serves only low, so the normal jobs here stay queued.
    await startWorkerPart({
      temporalAddress: temporal.address,
      taskQueuePrefix: `cap-${process.pid}`,
      commandsDir,
      queues: { low: 1 },
      client: temporal.client,
    });
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      await startApiPart({
        port,
        temporalAddress: temporal.address,
        taskQueuePrefix: `cap-${process.pid}`,
        commandsDir,
        env: { API_KEYS: apiKeys, MAX_UNFINISHED_JOBS_PER_TENANT: '4' },
      });
      apis.push(`http://127.0.0.1:${port}`);
    }
  });
  after(async function () {
    await stopAllParts();
    await temporal?.teardown();
  });

  it('holds a tenant to its cap when its submits alternate between two API processes (no worker runs them)', async function () {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const reply = await httpRequest(`${apis[i % 2]}/api/v1/jobs`, {
        method: 'POST',
        body: JSON.stringify({ type: 'sleep', input: { seconds: 1 } }),
        headers: { authorization: `Bearer ${keys.acme}` },
      });
      statuses.push(reply.status);
      if (reply.status === 429) assert.ok(reply.headers['retry-after'], 'Retry-After');
      // The cap counts what visibility has recorded, which follows a start by a moment (docs/api.md): the next submit,
      // through the other process, is sent once this one's job is counted, as a client's would be a moment later.
      const accepted = statuses.filter((status) => status === 202).length;
      const deadline = Date.now() + 10_000;
      while ((await temporal.client.workflow.count(`JobTenant = 'acme'`)).count < accepted) {
        assert.ok(Date.now() < deadline, `visibility did not count ${accepted} jobs in 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    assert.deepEqual(statuses, [202, 202, 202, 202, 429, 429, 429, 429, 429, 429]);
    assert.equal((await temporal.client.workflow.count(`JobTenant = 'acme'`)).count, 4);
  });
});

describe('Fair sharing between tenants', function () {
  let service: TestService;
  before(async function () {
    // The normal slot comes once the first test has queued its jobs (the job workflows run from the start).
    service = await TestService.start({ workers: false, env: { API_KEYS: apiKeys } });
  });
  after(async function () {
    await service.teardown();
  });

  it("runs another tenant's jobs of the same priority before one tenant's flood drains", async function () {
    service.apiKey = keys.acme;
    const flood = Array.from({ length: 8 }, () => uniqueJobId('flood'));
    for (const jobId of flood) await service.submit({ type: 'sleep', input: { seconds: 1 }, jobId });
    service.apiKey = keys.globex;
    const fair = [uniqueJobId('fair'), uniqueJobId('fair')];
    for (const jobId of fair) await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId });
    // One normal slot, started now that every job is queued: with it running from the start, the flood's 1 s jobs
    // could run while a busy machine took seconds over the ten submits, leaving fewer than 4 to wait.
    await service.startWorkers({ normal: 1 });
    for (const jobId of fair) await service.waitFor(jobId, ['succeeded'], 30_000);
    service.apiKey = keys.acme;
    const floodStatuses = await Promise.all(flood.map(async (jobId) => (await service.getJob(jobId)).body.status));
    const waiting = floodStatuses.filter((status) => status === 'queued').length;
    assert.ok(waiting >= 4, `only ${waiting} of the flood were still queued when the other tenant's jobs finished`);
    for (const jobId of flood) await service.cancel(jobId);
  });
  it("sets the priority key and the tenant as fairness key on the job's workflow and on its attempt", async function () {
    service.apiKey = keys.acme;
    const jobId = uniqueJobId('keys');
    const { body } = await service.submit(
      { type: 'sleep', input: { seconds: 0 }, priority: 'normal', jobId },
      '?wait=20',
    );
    assert.equal(body.status, 'succeeded');
    const events = (await service.temporal.client.workflow.getHandle(`acme/${jobId}`).fetchHistory()).events ?? [];
    const started = events.find(
      (event) => event.workflowExecutionStartedEventAttributes,
    )?.workflowExecutionStartedEventAttributes;
    const scheduled = events
      .filter((event) => event.activityTaskScheduledEventAttributes)
      .map((event) => event.activityTaskScheduledEventAttributes!);
    assert.ok(scheduled.length >= 1, 'the attempt was scheduled');
    // normal is priority key 3 (high 1, low 5).
    for (const priority of [started?.priority, ...scheduled.map((attributes) => attributes.priority)]) {
      assert.deepEqual(
        { priorityKey: priority?.priorityKey, fairnessKey: priority?.fairnessKey },
        { priorityKey: 3, fairnessKey: 'acme' },
      );
    }
  });
});
