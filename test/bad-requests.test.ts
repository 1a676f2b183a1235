import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { ErrorBody } from '../src/contract/errors.js';
import { TestService, uniqueJobId } from './support/service.js';

describe('Refusing bad requests', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start();
  });
  after(async function () {
    await service.teardown();
  });

  const cases: Array<{ name: string; body: unknown; status: number; code: string; message?: RegExp }> = [
    {
      name: 'an unknown field',
      body: { type: 'sleep', input: { seconds: 1 }, colour: 'red' },
      status: 400,
      code: 'invalid_request',
      message: /colour/,
    },
    {
      name: 'an unknown field in input',
      body: { type: 'sleep', input: { seconds: 1, extra: true } },
      status: 400,
      code: 'invalid_request',
      message: /input/,
    },
    { name: 'a missing type', body: { input: { seconds: 1 } }, status: 400, code: 'invalid_request', message: /type/ },
    {
      name: 'an unknown type',
      body: { type: 'teleport' },
      status: 400,
      code: 'invalid_request',
      message: /unknown job type "teleport"/,
    },
    {
      name: 'input out of range',
      body: { type: 'sleep', input: { seconds: 86_401 } },
      status: 400,
      code: 'invalid_request',
      message: /^input\.seconds: /,
    },
    {
      name: 'input of the wrong type',
      body: { type: 'sleep', input: { seconds: 'five' } },
      status: 400,
      code: 'invalid_request',
      message: /^input\.seconds: /,
    },
    {
      name: 'a bad priority',
      body: { type: 'sleep', input: { seconds: 1 }, priority: 'urgent' },
      status: 400,
      code: 'invalid_request',
      message: /priority/,
    },
    {
      name: 'a bad jobId',
      body: { type: 'sleep', input: { seconds: 1 }, jobId: 'has space' },
      status: 400,
      code: 'invalid_request',
      message: /jobId/,
    },
    {
      name: 'a zero timeout',
      body: { type: 'sleep', input: { seconds: 1 }, timeoutSeconds: 0 },
      status: 400,
      code: 'invalid_request',
      message: /timeoutSeconds/,
    },
    {
      name: 'a retry interval above its maximum',
      body: { type: 'sleep', input: { seconds: 1 }, retry: { initialIntervalSeconds: 10, maximumIntervalSeconds: 5 } },
      status: 400,
      code: 'invalid_request',
      message: /maximumIntervalSeconds/,
    },
    { name: 'a body that is not an object', body: [1, 2], status: 400, code: 'invalid_request' },
  ];
  for (const { name, body, status, code, message } of cases) {
    it(`answers ${status} ${code} for ${name}, and starts nothing`, async function () {
      const before = await service.countWorkflows('WorkflowType = "jobWorkflow"');
      const response = await service.request<ErrorBody>('POST', '/api/v1/jobs', body);
      assert.equal(response.status, status);
      assert.equal(response.body.error.code, code);
      if (message) assert.match(response.body.error.message, message);
      assert.equal(await service.countWorkflows('WorkflowType = "jobWorkflow"'), before);
    });
  }

  it('answers 400 for malformed JSON and for no body', async function () {
    const malformed = await service.request<ErrorBody>('POST', '/api/v1/jobs', '{"type": "sleep",');
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.error.message, /malformed JSON/);
    const empty = await service.request<ErrorBody>('POST', '/api/v1/jobs');
    assert.equal(empty.status, 400);
  });

  it('answers 415 for a body that is not JSON', async function () {
    const response = await service.request<ErrorBody>('POST', '/api/v1/jobs', 'type=sleep', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(response.status, 415);
    assert.equal(response.body.error.code, 'unsupported_media_type');
  });

  it('answers 413 for a body over the limit', async function () {
    const response = await service.request<ErrorBody>('POST', '/api/v1/jobs', {
      type: 'sleep',
      input: { seconds: 1, message: 'x'.repeat(2 * 1024 * 1024) },
    });
    assert.equal(response.status, 413);
    assert.equal(response.body.error.code, 'payload_too_large');
  });

  it('answers 413 for a body over the limit sent in chunks, with no length declared', async function () {
    const { hostname, port } = new URL(service.baseUrl);
    const chunk = `"${'x'.repeat(64 * 1024)}",`;
    const answer = await new Promise<{ status: number; body: ErrorBody }>((resolve, reject) => {
      const req = request(
        { host: hostname, port, method: 'POST', path: '/api/v1/jobs', headers: { 'content-type': 'application/json' } },
        (res) => {
          let text = '';
          res
            .setEncoding('utf8')
            .on('data', (part: string) => (text += part))
            .on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as ErrorBody }));
        },
      );
      req.on('error', reject);
      req.write('{"type": "sleep", "input": {"seconds": 1, "message": [');
      for (let i = 0; i < 32; i++) req.write(chunk); // 2 MiB, each write a chunk of its own
      req.end('"end"]}}');
    });
    assert.equal(answer.status, 413);
    assert.equal(answer.body.error.code, 'payload_too_large');
  });

  it('answers 400 for JSON nested too deeply', async function () {
    const deep = JSON.parse(`${'['.repeat(100)}${']'.repeat(100)}`) as unknown;
    const response = await service.request<ErrorBody>('POST', '/api/v1/jobs', {
      type: 'sleep',
      input: { seconds: 1, message: deep },
    });
    assert.equal(response.status, 400);
    assert.match(response.body.error.message, /nested deeper/);
  });

  it('answers 404 not_found for an unknown route and 405 for a wrong method', async function () {
    const route = await service.request<ErrorBody>('GET', '/api/v1/nothing-here');
    assert.equal(route.status, 404);
    assert.equal(route.body.error.code, 'not_found');
    const method = await service.request<ErrorBody>('DELETE', `/api/v1/jobs/${uniqueJobId('x')}`);
    assert.equal(method.status, 405);
    assert.equal(method.body.error.code, 'method_not_allowed');
    assert.match(method.headers.get('allow') ?? '', /GET/);
  });
});
