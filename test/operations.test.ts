import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { operations } from '../src/api/operations.js';
import { TestService, uniqueJobId } from './support/service.js';

describe('The OpenAPI document', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start({ workers: false });
  });
  after(async function () {
    await service.teardown();
  });

  it('names every route the router serves, and nothing else', function () {
    const served = new Set<string>();
    for (const router of service.app.routers) {
      for (const layer of router.stack) {
        const path = String(layer.path)
          .replace(/:(\w+)/g, '{$1}')
          .replace(/(.)\/$/, '$1');
        if (path.startsWith('/docs/assets/')) continue;
        for (const method of layer.methods) if (method !== 'HEAD') served.add(`${method.toLowerCase()} ${path}`);
      }
    }
    const documented = new Set(operations.map((operation) => `${operation.method} ${operation.path}`));
    assert.deepEqual([...served].sort(), [...documented].sort());
  });

  it('is served as OpenAPI 3.1 made from the validation schemas, and rendered at /docs', async function () {
    const { status, body } = await service.request<{
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    }>('GET', '/openapi.json');
    assert.equal(status, 200);
    assert.equal(body.openapi, '3.1.0');
    assert.ok(body.paths['/api/v1/jobs/{jobId}/cancel']);
    assert.deepEqual(Object.keys(body.components.schemas['SubmitJobBody']?.properties ?? {}), [
      'type',
      'input',
      'jobId',
      'priority',
      'timeoutSeconds',
      'heartbeatTimeoutSeconds',
      'retry',
      'callbackUrl',
      'delaySeconds',
      'runAt',
      'tags',
      'children',
      'onChildFailure',
    ]);
    const docs = await fetch(`${service.baseUrl}/docs`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger-ui-bundle\.js/);
    // The page takes an API key: no other site may frame it.
    assert.match(docs.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(docs.headers.get('x-frame-options'), 'DENY');
    assert.equal(docs.headers.get('x-content-type-options'), 'nosniff');
    for (const asset of ['swagger-ui-bundle.js', 'swagger-ui.css']) {
      const response = await fetch(`${service.baseUrl}/docs/assets/${asset}`);
      assert.equal(response.status, 200, asset);
      assert.ok((await response.arrayBuffer()).byteLength > 10_000);
    }
  });
});

describe('Operating the API', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start();
  });
  after(async function () {
    await service.teardown();
  });

  it('exposes Prometheus metrics: request durations by route and status, jobs submitted, polls and cancels', async function () {
    const jobId = uniqueJobId('metrics');
    await service.submit({ type: 'sleep', input: { seconds: 30 }, priority: 'high', jobId });
    await service.getJob(jobId);
    await service.cancel(jobId);
    const response = await fetch(`${service.baseUrl}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await response.text();
    assert.match(text, /^durable_jobs_jobs_created_total\{type="sleep",priority="high"\} 1$/m);
    assert.match(text, /^job_polls_total [1-9]/m);
    assert.match(text, /^job_cancels_total 1$/m);
    assert.match(
      text,
      /^http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/jobs\/:jobId",status="200"\} [1-9]/m,
    );
    assert.match(text, /^process_resident_memory_bytes /m);
  });

  it("echoes the caller's X-Request-Id, or makes one", async function () {
    const given = await fetch(`${service.baseUrl}/healthz`, { headers: { 'X-Request-Id': 'trace-123' } });
    assert.equal(given.headers.get('x-request-id'), 'trace-123');
    const made = await fetch(`${service.baseUrl}/healthz`);
    assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const unsafe = await fetch(`${service.baseUrl}/healthz`, { headers: { 'X-Request-Id': 'bad id with spaces' } });
    assert.notEqual(unsafe.headers.get('x-request-id'), 'bad id with spaces');
  });
});

describe('Configuration', function () {
  const entry = fileURLToPath(new URL('../src/api/main.ts', import.meta.url));
  for (const [name, value] of [
    ['PORT', 'not-a-port'],
    ['WORKER_QUEUES', 'urgent:5'],
    ['TEMPORAL_ADDRESS', 'no port'],
    ['LOG_LEVEL', 'loud'],
  ] as const) {
    it(`stops start-up with a message naming ${name} when it is bad`, function () {
      const result = spawnSync(process.execPath, ['--import', 'tsx', entry], {
        env: { ...process.env, [name]: value },
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(result.status, 1);
      assert.match(result.stderr, new RegExp(`invalid configuration: .*${name}`));
    });
  }

  it("links jobs to the local dev server's Web UI on its port unless TEMPORAL_UI_URL says otherwise", function () {
    assert.equal(loadConfig({}).TEMPORAL_UI_URL, 'http://localhost:8233');
    assert.equal(loadConfig({ TEMPORAL_DEV_UI_PORT: '18233' }).TEMPORAL_UI_URL, 'http://localhost:18233');
    assert.equal(
      loadConfig({ TEMPORAL_DEV_UI_PORT: '18233', TEMPORAL_UI_URL: 'https://temporal.example.com/' }).TEMPORAL_UI_URL,
      'https://temporal.example.com',
    );
  });
});
