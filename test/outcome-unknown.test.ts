// A start whose answer is lost (issue 21, item 4): the API reaches Temporal through a TCP proxy that forwards what the
// API sends and loses what Temporal answers. The start happened, so the API must not say Temporal is unreachable: it
// answers `outcome_unknown` with the job id, and the same request submitted again answers 200 with the job.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import { createApp, type App } from '../src/api/app.js';
import type { ErrorBody } from '../src/contract/errors.js';
import { createLazyClient } from '../src/temporal/connection.js';
import { TestService, uniqueJobId } from './support/service.js';

/**
 * What the proxy does with Temporal's answers: pass them; lose them (the call runs past its deadline); or lose them and
 * break the connection half a second after the API next sends something (time for Temporal to have acted on it).
 */
type Answers = 'pass' | 'lose' | 'break';

/** A TCP proxy in front of Temporal whose treatment of the server's bytes the test switches. */
class FaultProxy {
  answers: Answers = 'pass';
  /** Connections are closed as soon as they open, before anything is forwarded. */
  refuse = false;
  private readonly sockets = new Set<Socket>();
  private constructor(readonly server: Server) {}

  static async start(target: string): Promise<FaultProxy> {
    const [host, port] = target.split(':') as [string, string];
    const proxy: FaultProxy = new FaultProxy(
      createServer((client) => {
        if (proxy.refuse) {
          client.destroy();
          return;
        }
        const upstream = connect(Number(port), host);
        for (const socket of [client, upstream]) {
          proxy.sockets.add(socket);
          socket.on('close', () => proxy.sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        client.on('data', (chunk: Buffer) => {
          upstream.write(chunk);
          if (proxy.answers === 'break')
            setTimeout(() => {
              client.destroy();
              upstream.destroy();
            }, 500);
        });
        upstream.on('data', (chunk: Buffer) => {
          if (proxy.answers === 'pass') client.write(chunk);
        });
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      }),
    );
    proxy.server.listen(0, '127.0.0.1');
    await new Promise((resolve) => proxy.server.once('listening', resolve));
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Closes every connection through it: the API's client connects again on its next call. */
  dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

interface Reply<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

describe('A start whose outcome is unknown', function () {
  this.timeout(60_000);
  let service: TestService;
  let proxy: FaultProxy;
  let apiClient: Client;
  let app: App;
  let server: HttpServer;
  let baseUrl: string;

  before(async function () {
    // The service's dev server and workers (which declare the job types); the API under test reaches them through the proxy.
    service = await TestService.start();
    proxy = await FaultProxy.start(service.temporal.address);
    const config = { ...service.config, TEMPORAL_ADDRESS: proxy.address };
    apiClient = createLazyClient(proxy.address, config.TEMPORAL_NAMESPACE);
    app = createApp({ client: apiClient, config, logger: pino({ level: 'silent' }) });
    server = app.koa.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(function () {
    proxy.answers = 'pass';
    proxy.refuse = false;
    proxy.dropAll();
  });
  after(async function () {
    app.close();
    await new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    });
    await apiClient.connection.close();
    await proxy.close();
    await service.teardown();
  });

  async function post<T>(path: string, body: unknown): Promise<Reply<T>> {
    const response = await fetch(baseUrl + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as T };
  }

  /** Whether Temporal has the job's workflow, asked directly (not through the proxy). */
  async function exists(jobId: string): Promise<boolean> {
    return (await service.countWorkflows(`WorkflowId = '${jobId}'`)) > 0;
  }

  /** A first call through the proxy, so the API's connection is up before the fault. */
  async function warmUp(): Promise<void> {
    const reply = await post('/api/v1/jobs', { type: 'sleep', input: { seconds: 1 }, jobId: uniqueJobId('warm-up') });
    assert.equal(reply.status, 202);
  }

  for (const answers of ['lose', 'break'] as const) {
    const what = answers === 'lose' ? 'its answer never comes (the deadline passes)' : 'the connection breaks';
    it(`answers a submit whose start was sent and ${what} with outcome_unknown, and the same request again with 200`, async function () {
      await warmUp();
      const body = { type: 'sleep', input: { seconds: 1 }, jobId: uniqueJobId(`unknown-${answers}`) };
      proxy.answers = answers;
      const refused = await post<ErrorBody>('/api/v1/jobs', body);
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.error.code, 'outcome_unknown');
      assert.deepEqual(refused.body.error.details, [{ jobId: body.jobId }]);
      assert.match(refused.body.error.message, /submitting the same request .* again is safe/i);
      assert.doesNotMatch(refused.body.error.message, /unreachable/);
      assert.match(refused.headers.get('retry-after') ?? '', /^[1-9]\d*$/);

      proxy.answers = 'pass';
      proxy.dropAll();
      assert.ok(await exists(body.jobId), 'the start reached Temporal: the job exists');
      const again = await post<{ jobId: string }>('/api/v1/jobs', body);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.jobId, body.jobId);
    });
  }

  it('answers a batch item whose start was sent and whose connection broke with its own outcome_unknown', async function () {
    await warmUp();
    const body = { type: 'sleep', input: { seconds: 1 }, jobId: uniqueJobId('unknown-batch') };
    proxy.answers = 'break';
    const reply = await post<{ results: Array<{ status: number } & Partial<ErrorBody>> }>('/api/v1/job-batches', {
      jobs: [body],
    });
    assert.equal(reply.status, 200);
    const [item] = reply.body.results;
    assert.equal(item?.status, 503, JSON.stringify(item));
    assert.equal(item.error?.code, 'outcome_unknown');
    assert.deepEqual(item.error.details, [{ jobId: body.jobId }]);

    proxy.answers = 'pass';
    proxy.dropAll();
    assert.ok(await exists(body.jobId));
    const again = await post<{ results: Array<{ status: number }> }>('/api/v1/job-batches', { jobs: [body] });
    assert.equal(again.body.results[0]?.status, 200);
  });

  it('still answers unavailable when nothing could be sent', async function () {
    proxy.refuse = true;
    proxy.dropAll();
    const body = { type: 'sleep', input: { seconds: 1 }, jobId: uniqueJobId('unreachable') };
    const refused = await post<ErrorBody>('/api/v1/jobs', body);
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'unavailable');
    assert.equal(await exists(body.jobId), false);
  });
});
