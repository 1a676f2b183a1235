import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import type { ErrorBody } from '../src/contract/errors.js';
import {
  freePort,
  httpRequest,
  startApiPart,
  startTemporalPart,
  startWorkerPart,
  stopAllParts,
  type Part,
} from './support/processes.js';
import { commandsDir, TestService, uniqueJobId } from './support/service.js';
import { until } from './support/until.js';

describe('When Temporal is unreachable', function () {
  let service: TestService;
  let jobId: string;
  before(async function () {
    service = await TestService.start();
    jobId = uniqueJobId('before-outage');
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId }, '?wait=10');
    await service.stopTemporal();
  });
  after(async function () {
    await service.teardown();
  });

  const timed = async <T>(call: () => Promise<T>): Promise<{ value: T; ms: number }> => {
    const started = performance.now();
    const value = await call();
    return { value, ms: performance.now() - started };
  };

  it('answers a submit with 503 unavailable within a few seconds', async function () {
    const { value, ms } = await timed(() =>
      service.request<ErrorBody>('POST', '/api/v1/jobs', { type: 'sleep', input: { seconds: 1 } }),
    );
    assert.equal(value.status, 503);
    assert.equal(value.body.error.code, 'unavailable');
    assert.ok(ms < 7000, `answered after ${Math.round(ms)} ms`);
  });

  it('answers a poll and a cancel with 503 unavailable', async function () {
    for (const call of [() => service.getJob(jobId), () => service.cancel(jobId)]) {
      const { value, ms } = await timed(call);
      assert.equal(value.status, 503);
      assert.equal((value.body as unknown as ErrorBody).error.code, 'unavailable');
      assert.ok(ms < 7000, `answered after ${Math.round(ms)} ms`);
    }
  });

  it('is not ready, with the reason, but still alive', async function () {
    const ready = await service.request<ErrorBody>('GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.match(ready.body.error.message, /unreachable/);
    assert.equal((await service.request('GET', '/healthz')).status, 200);
  });
});

describe('When the Temporal server stalls (SIGSTOP) or restarts on its file', function () {
  this.timeout(60_000);

  const taskQueuePrefix = `stall-${process.pid}-${Date.now().toString(36)}`;
  let dataDir: string;
  let ports: { temporal: number; ui: number; api: number };
  let temporal: Part;
  let api: Part;
  let connection: Connection | undefined;

  const temporalAddress = (): string => `127.0.0.1:${ports.temporal}`;
  const startTemporal = async (): Promise<Part> =>
    (temporal = await startTemporalPart({
      port: ports.temporal,
      uiPort: ports.ui,
      dbFile: join(dataDir, 'temporal.sqlite'),
    }));

  const call = async (method: string, path: string, body?: unknown) => {
    const started = performance.now();
    const { status, text } = await httpRequest(`http://127.0.0.1:${ports.api}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      method,
      path,
      status,
      body: (text ? JSON.parse(text) : undefined) as ErrorBody,
      ms: performance.now() - started,
    };
  };

  /** A submit (its job type read from the registry more than 5 s ago), lists and counts at once: each a prompt 503. */
  async function assertPromptRefusals(): Promise<void> {
    const replies = await Promise.all([
      call('POST', '/api/v1/jobs', { type: 'sleep', input: { seconds: 0 } }),
      ...['', '?status=running', '?type=sleep', '?limit=5'].map((query) => call('GET', `/api/v1/jobs${query}`)),
      call('GET', '/api/v1/jobs/counts'),
      call('GET', '/readyz'),
    ]);
    for (const reply of replies) {
      assert.equal(reply.status, 503, `${reply.method} ${reply.path}: ${JSON.stringify(reply.body)}`);
      assert.ok(['unavailable', 'outcome_unknown'].includes(reply.body.error.code), JSON.stringify(reply.body));
      assert.ok(reply.ms < 7000, `${reply.method} ${reply.path} answered after ${Math.round(reply.ms)} ms`);
    }
  }

  async function untilReady(): Promise<void> {
    await until(
      'the API ready again',
      () => call('GET', '/readyz'),
      (reply) => reply.status === 200,
    );
  }

  before(async function () {
    dataDir = await mkdtemp(join(tmpdir(), 'durable-jobs-stall-'));
    const [temporalPort, uiPort, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
    ports = { temporal: temporalPort, ui: uiPort, api: apiPort };
    await startTemporal();
    connection = await Connection.connect({ address: temporalAddress() });
    const client = new Client({ connection });
    const partOptions = { temporalAddress: temporalAddress(), taskQueuePrefix, commandsDir };
    [, api] = await Promise.all([
      startWorkerPart({ ...partOptions, queues: { normal: 2 }, client }),
      startApiPart({ ...partOptions, port: apiPort }),
    ]);
    const job = await call('POST', '/api/v1/jobs?wait=20', { type: 'sleep', input: { seconds: 0 } });
    assert.equal(job.status, 200, JSON.stringify(job.body));
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') for (const part of [temporal, api]) console.error(part?.recentOutput());
  });

  after(async function () {
    temporal?.signalGroup('SIGCONT');
    await stopAllParts();
    await connection?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('answers submits, lists and counts with 503 within a few seconds while the server is stopped, and serves once it continues', async function () {
    // Past the time a registry read is served without a new one (serveStaleMs).
    await delay(5500);
    temporal.signalGroup('SIGSTOP');
    try {
      await assertPromptRefusals();
    } finally {
      temporal.signalGroup('SIGCONT');
    }
    await untilReady();
    assert.equal((await call('GET', '/api/v1/jobs?limit=5')).status, 200);
    assert.equal((await call('POST', '/api/v1/jobs?wait=20', { type: 'sleep', input: { seconds: 0 } })).status, 200);
  });

  it('answers them with 503 within a few seconds while the server is down, and is ready within seconds of its return to its file after half a minute', async function () {
    await delay(5500);
    await temporal.kill();
    const down = Date.now();
    await assertPromptRefusals();
    // Probed as a kubelet probes, every 10 s, for half a minute: each probe's failed connection lengthened the wait
    // before the next attempt to connect.
    while (Date.now() - down < 30_000) {
      await delay(Math.min(10_000, down + 30_000 - Date.now()));
      assert.equal((await call('GET', '/readyz')).status, 503);
    }
    await startTemporal();
    const back = Date.now();
    await untilReady();
    const readyAfterMs = Date.now() - back;
    assert.ok(readyAfterMs < 4000, `ready ${readyAfterMs} ms after the server was back`);
    assert.equal((await call('POST', '/api/v1/jobs?wait=20', { type: 'sleep', input: { seconds: 0 } })).status, 200);
  });
});
