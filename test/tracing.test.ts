// Traces from a caller to a handler: the API, the service's worker, a TypeScript and a Python handler worker run as
// the processes a user runs, exporting to a real OTLP/HTTP receiver in this test (JSON from the TypeScript exporter,
// protobuf from the Python one), decoded here.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startTracing } from '@durable-jobs/worker/serve';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Env } from '../src/config.js';
import { workflowBundleFile } from '../src/worker/workflow-bundle.js';
import { freePort, startApiPart, startWorkerPart, stopAllParts } from '../dev/parts.js';
import { ensurePythonEnv } from '../dev/python-env.js';
import { startDevServer } from '../dev/temporal/dev-server.js';
import { buildWorkflowBundles } from '../dev/workflow-bundle.js';
import { projectRoot } from '../dev/project-root.js';
import { launchChromium } from './support/chromium.js';
import { commandsDir } from './support/service.js';
import { HandlerWorker } from './support/handler-worker.js';

const fixtureDir = fileURLToPath(new URL('fixtures/traced-workers/', import.meta.url));
/** The API's TRACE_UI_URL here: Jaeger's address of one trace. */
const traceUiUrl = 'http://jaeger.test:16686/trace/{traceId}';

interface SubmittedJob {
  jobId: string;
  status: string;
  traceId: string | null;
  links: { trace?: string };
}

interface ReceivedSpan {
  readonly service: string;
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
}

interface OtlpAttribute {
  key: string;
  value?: { stringValue?: string };
}
interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}
interface OtlpRequest {
  resourceSpans?: { resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

// The OTLP messages, as the OpenTelemetry exporters' own generated protobufjs code has them.
const otlpRoot = createRequire(import.meta.url)('@opentelemetry/otlp-transformer/build/src/generated/root') as {
  opentelemetry: {
    proto: {
      collector: {
        trace: {
          v1: {
            ExportTraceServiceRequest: {
              decode(bytes: Uint8Array): unknown;
              toObject(message: unknown, options: { bytes: typeof String }): OtlpRequest;
            };
          };
        };
      };
    };
  };
};

/** An OTLP/HTTP trace receiver: every span of every export, from JSON or protobuf bodies. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  requests = 0;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpReceiver> {
    const server = createServer();
    const receiver = new OtlpReceiver(server);
    server.on('request', (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        receiver.requests += 1;
        const body = Buffer.concat(chunks);
        const isJson = req.headers['content-type']?.startsWith('application/json') ?? false;
        receiver.take(isJson ? (JSON.parse(body.toString()) as OtlpRequest) : receiver.decode(body), !isJson);
        res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' }).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private decode(body: Buffer): OtlpRequest {
    const request = otlpRoot.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
    return request.toObject(request.decode(body), { bytes: String });
  }

  /** Protobuf ids come as base64 of their bytes, JSON's as hex. */
  private take(request: OtlpRequest, base64Ids: boolean): void {
    const id = (value: string | undefined) =>
      !value ? '' : base64Ids ? Buffer.from(value, 'base64').toString('hex') : value.toLowerCase();
    for (const { resource, scopeSpans } of request.resourceSpans ?? []) {
      const service = resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue ?? '';
      for (const { spans } of scopeSpans ?? [])
        for (const span of spans ?? [])
          this.spans.push({
            service,
            name: span.name,
            traceId: id(span.traceId),
            spanId: id(span.spanId),
            parentSpanId: id(span.parentSpanId),
          });
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The chain of spans from `span` up to the caller's, by parent links; ends where a parent was not received. */
function ancestry(spans: readonly ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const chain = [span];
  for (;;) {
    const parent = spans.find((each) => each.spanId === chain.at(-1)!.parentSpanId);
    if (!parent) return chain;
    chain.push(parent);
  }
}

describe('Traces from the caller to the handler (OTEL_EXPORTER_OTLP_ENDPOINT)', function () {
  let temporal: TestWorkflowEnvironment;
  let receiver: OtlpReceiver;
  let apiUrl: string;
  const handlers: HandlerWorker[] = [];

  before(async function () {
    this.timeout(300_000);
    const python = await ensurePythonEnv((line) => console.log(`      ${line}`));
    [temporal, receiver] = await Promise.all([startDevServer(), OtlpReceiver.start()]);
    const taskQueuePrefix = `traced-${process.pid}`;
    // Spans leave in batches every 200 ms rather than 5 s: the test waits for them.
    const tracingEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200' };
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    const common = { temporalAddress: temporal.address, taskQueuePrefix, commandsDir };
    await Promise.all([
      startApiPart({ ...common, port: apiPort, env: { ...tracingEnv, TRACE_UI_URL: traceUiUrl } }),
      startWorkerPart({ ...common, queues: { normal: 1 }, client: temporal.client, env: tracingEnv }),
    ]);
    const env = {
      ...process.env,
      ...tracingEnv,
      TEMPORAL_ADDRESS: temporal.address,
      JOBS_TASK_QUEUE_PREFIX: taskQueuePrefix,
    };
    handlers.push(
      new HandlerWorker(
        spawn(process.execPath, ['--import', 'tsx', 'worker.ts'], { cwd: fixtureDir, env, stdio: 'pipe' }),
      ),
      new HandlerWorker(
        spawn(python.bin('durable-jobs'), ['worker', 'traced_handlers', '--queues', 'normal:1'], {
          cwd: fixtureDir,
          env: { ...env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
          stdio: 'pipe',
        }),
      ),
    );
    const deadline = Date.now() + 90_000;
    for (;;) {
      const { types } = (await (await fetch(`${apiUrl}/api/v1/job-types`)).json()) as {
        types: { name: string; workers: { normal: number } }[];
      };
      const served = types.filter((view) => view.name.startsWith('traced.') && view.workers.normal > 0);
      if (served.length === 2) break;
      if (Date.now() > deadline)
        throw new Error(
          `the handler workers did not declare their types\n${handlers.map((h) => h.output.join('')).join('\n')}`,
        );
      await delay(200);
    }
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.all(handlers.map((handler) => handler.stop()));
    await stopAllParts();
    await temporal?.teardown();
    await receiver?.close();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') for (const handler of handlers) console.log(handler.output.join(''));
  });

  for (const [type, handlerService, handlerSpan] of [
    ['traced.ts', 'durable-jobs-handler-worker', 'typescript handler work'],
    ['traced.py', 'durable-jobs-python-worker', 'python handler work'],
  ] as const) {
    it(`continues the caller's traceparent through the API, the workflow and the ${type} handler's own span`, async function () {
      this.timeout(90_000);
      const traceId = randomBytes(16).toString('hex');
      const callerSpanId = randomBytes(8).toString('hex');
      const response = await fetch(`${apiUrl}/api/v1/jobs?wait=30`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpanId}-01` },
        body: JSON.stringify({ type, input: { label: 'hello' } }),
      });
      const job = (await response.json()) as SubmittedJob;
      assert.equal(response.status, 200, JSON.stringify(job));
      assert.equal(job.status, 'succeeded');
      // The job JSON names the trace to open, links to it in the trace viewer, and each line the job logged names it.
      assert.equal(job.traceId, traceId);
      assert.equal(job.links.trace, `http://jaeger.test:16686/trace/${traceId}`);
      const logs = (await (await fetch(`${apiUrl}/api/v1/jobs/${job.jobId}/logs`)).json()) as {
        lines: { message: string; traceId: string | null }[];
      };
      assert.deepEqual(
        logs.lines.map((line) => [line.message, line.traceId]),
        [['working on hello', traceId]],
      );

      // The workflow's spans leave when it ends; every process sends within a batch delay.
      const deadline = Date.now() + 30_000;
      let chain: ReceivedSpan[];
      for (;;) {
        const spans = receiver.spans.filter((span) => span.traceId === traceId);
        const handler = spans.find((span) => span.name === handlerSpan);
        chain = handler ? ancestry(spans, handler) : [];
        if (chain.at(-1)?.parentSpanId === callerSpanId) break;
        if (Date.now() > deadline)
          assert.fail(`no unbroken chain to the caller's span in ${JSON.stringify(spans, null, 1)}`);
        await delay(200);
      }
      const services = chain.map((span) => span.service);
      // From the handler up: its span, its attempt, the workflow's schedule of it, the workflow, its start, the request.
      assert.equal(chain[0]!.service, handlerService);
      assert.match(chain[1]!.name, new RegExp(`^RunActivity:${type.replace('.', '\\.')}$`));
      assert.equal(chain[1]!.service, handlerService);
      assert.ok(
        chain.some((span) => span.name === 'RunWorkflow:jobWorkflow' && span.service === 'durable-jobs-worker'),
        services.join(' < '),
      );
      assert.ok(chain.some((span) => span.name === 'StartWorkflow:jobWorkflow' && span.service === 'durable-jobs-api'));
      const request = chain.at(-1)!;
      assert.equal(request.service, 'durable-jobs-api');
      assert.equal(request.name, 'POST /api/v1/jobs');
    });
  }

  it("links a job submitted without a traceparent to the API's own trace of the submit", async function () {
    this.timeout(60_000);
    const response = await fetch(`${apiUrl}/api/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'traced.ts', input: { label: 'untraced' } }),
    });
    const job = (await response.json()) as SubmittedJob;
    assert.equal(response.status, 202, JSON.stringify(job));
    assert.match(job.traceId ?? '', /^[0-9a-f]{32}$/);
    assert.equal(job.links.trace, `http://jaeger.test:16686/trace/${job.traceId}`);
  });

  it("shows the trace id on the job's page, with an Open trace link to the trace viewer", async function () {
    this.timeout(90_000);
    const browser = await launchChromium(this);
    try {
      const traceId = randomBytes(16).toString('hex');
      const response = await fetch(`${apiUrl}/api/v1/jobs`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
        },
        body: JSON.stringify({ type: 'traced.ts', input: { label: 'page' } }),
      });
      const job = (await response.json()) as SubmittedJob;
      assert.equal(response.status, 202, JSON.stringify(job));
      const page = await browser.newPage();
      await page.goto(`${apiUrl}/ui/jobs/${encodeURIComponent(job.jobId)}`);
      const link = page.getByRole('link', { name: 'Open trace' });
      await link.waitFor({ timeout: 30_000 });
      assert.equal(await link.getAttribute('href'), `http://jaeger.test:16686/trace/${traceId}`);
      assert.equal(await page.getByTestId('trace-id').innerText(), traceId);
    } finally {
      await browser.close();
    }
  });

  it('costs nothing when the variable is unset: no tracing set up, and a workflow bundle without the interceptors', async function () {
    this.timeout(120_000);
    assert.equal(await startTracing('durable-jobs-worker', {}), undefined);
    const dir = Env.shape.WORKFLOW_BUNDLE_DIR.parse(undefined);
    await buildWorkflowBundles(dir, [{ encodeFailures: false }, { encodeFailures: false, traced: true }], () => {});
    const read = (traced: boolean) =>
      readFile(workflowBundleFile(resolve(projectRoot, dir), { encodeFailures: false, traced }), 'utf8');
    const [plain, traced] = await Promise.all([read(false), read(true)]);
    assert.ok(traced.includes('OpenTelemetryInboundInterceptor'));
    assert.ok(!plain.includes('OpenTelemetryInboundInterceptor'));
  });
});
