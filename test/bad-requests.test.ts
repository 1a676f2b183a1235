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
    {
      // Its child would be <jobId>.0, 129 characters: it ran, but no route could read or cancel it.
      name: "a parent's jobId that leaves no room for a child's <jobId>.<index>",
      body: {
        type: 'sleep',
        input: { seconds: 0 },
        jobId: 'p'.repeat(127),
        children: [{ type: 'sleep', input: { seconds: 0 } }],
      },
      status: 400,
      code: 'invalid_request',
      message: /^jobId: .*children/,
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
    const method = await service.request<ErrorBody>('PUT', `/api/v1/jobs/${uniqueJobId('x')}`);
    assert.equal(method.status, 405);
    assert.equal(method.body.error.code, 'method_not_allowed');
    assert.match(method.headers.get('allow') ?? '', /GET/);
    assert.match(method.headers.get('allow') ?? '', /DELETE/);
  });

  describe('saying what to do, in the words a newcomer typed', function () {
    /** The refusal of a submit (status, code, message), after checking it started nothing. */
    async function refusal(body: unknown, query = ''): Promise<{ message: string; details: unknown[] }> {
      const before = await service.countWorkflows('WorkflowType = "jobWorkflow"');
      const response = await service.request<ErrorBody>('POST', `/api/v1/jobs${query}`, body);
      assert.equal(response.status, 400, JSON.stringify(response.body));
      assert.equal(response.body.error.code, 'invalid_request');
      assert.equal(await service.countWorkflows('WorkflowType = "jobWorkflow"'), before);
      return { message: response.body.error.message, details: response.body.error.details ?? [] };
    }

    it("says a flat body's arguments go under input, shown on the body sent", async function () {
      const { message } = await refusal({ type: 'sleep', seconds: 1 });
      assert.equal(
        message,
        `seconds: "seconds" is not a field of a job request: a job's arguments go under "input": {"type":"sleep","input":{"seconds":1}}`,
      );
      const child = await refusal({ type: 'sleep', input: { seconds: 1 }, children: [{ type: 'sleep', seconds: 2 }] });
      assert.match(child.message, /^children\.0\.seconds: .*"input": \{"type":"sleep","input":\{"seconds":2\}\}$/);
    });

    it('suggests the near field, at the top, in retry and in input', async function () {
      const top = await refusal({ type: 'sleep', input: { seconds: 1 }, priorty: 'high' });
      assert.equal(top.message, 'priorty: unknown field "priorty"; did you mean "priority"?');
      const cased = await refusal({ type: 'sleep', input: { seconds: 1 }, jobID: 'a' });
      assert.equal(cased.message, 'jobID: unknown field "jobID"; did you mean "jobId"?');
      const retry = await refusal({ type: 'sleep', input: { seconds: 1 }, retry: { maxAttempt: 2 } });
      assert.equal(retry.message, 'retry.maxAttempt: unknown field "maxAttempt"; did you mean "maxAttempts"?');
      const input = await refusal({ type: 'sleep', input: { second: 1 } });
      assert.equal(input.message, 'input.second: unknown field "second"; did you mean "seconds"?');
      const far = await refusal({ type: 'sleep', input: { seconds: 1 }, retry: { colour: 'red' } });
      assert.match(far.message, /^retry\.colour: unknown field "colour"; the fields here are maxAttempts, /);
    });

    it('lists the known job types and suggests the near one', async function () {
      const { message } = await refusal({ type: 'slep', input: { seconds: 1 } });
      assert.match(message, /^type: unknown job type "slep"; known: .*\bsleep\b.*; did you mean "sleep"\?$/);
      const listed = await service.request<ErrorBody>('GET', '/api/v1/jobs?type=slep');
      assert.equal(listed.status, 400);
      assert.match(listed.body.error.message, /did you mean "sleep"\?$/);
    });

    it("lists the commands folder's commands for an unknown command, and suggests the near one", async function () {
      const { message } = await refusal({ type: 'command', input: { command: 'echo-arg' } });
      assert.match(message, /^input\.command: must be one of: "chatter", /);
      assert.match(message, /\(a command of the commands directory\); did you mean "echo-args"\?$/);
      assert.match(message, / and \d+ more /, 'at most 20 commands listed');
    });

    it('names the unit and range of ?wait', async function () {
      for (const wait of ['10s', '1000', '-1', '2.5']) {
        const { message } = await refusal({ type: 'sleep', input: { seconds: 1 } }, `?wait=${wait}`);
        assert.match(
          message,
          new RegExp(
            `^wait: is a whole number of seconds from 0 to \\d+ \\(\\?wait=10 waits up to 10 s\\), not "${wait}"$`,
          ),
        );
      }
    });

    it('names a query parameter given twice, on every route that reads a query; tag may repeat', async function () {
      const jobId = uniqueJobId('query');
      for (const [path, name] of [
        ['/api/v1/jobs?limit=1&limit=2', 'limit'],
        ['/api/v1/jobs?include=input&include=result', 'include'],
        ['/api/v1/jobs?cursor=a&cursor=b&limit=3', 'cursor'],
        ['/api/v1/jobs/counts?status=queued&status=failed', 'status'],
        [`/api/v1/jobs/${jobId}/logs?after=1&after=2&after=3`, 'after'],
      ] as const) {
        const { status, body } = await service.request<ErrorBody>('GET', path);
        assert.equal(status, 400, path);
        const times = path.split(`${name}=`).length - 1;
        assert.equal(body.error.message, `${name}: given ${times} times; give it once`);
        assert.deepEqual(body.error.details, [{ path: name, message: `given ${times} times; give it once` }]);
      }
      const wait = await refusal({ type: 'sleep', input: { seconds: 1 } }, '?wait=1&wait=2');
      assert.equal(wait.message, 'wait: given 2 times; give it once');
      assert.equal((await service.request('GET', '/api/v1/jobs?tag=team:data&tag=env:prod')).status, 200);
      assert.equal((await service.request('GET', '/api/v1/jobs/counts?tag=team:data&tag=env:prod')).status, 200);
    });

    it("names a whole number's bounds once, whatever was sent", async function () {
      const jobId = uniqueJobId('query');
      for (const [path, message] of [
        [
          '/api/v1/jobs?limit=99999999999999999999999',
          'limit: is a whole number from 1 to 100, not "99999999999999999999999"',
        ],
        ['/api/v1/jobs?limit=0', 'limit: is a whole number from 1 to 100, not "0"'],
        ['/api/v1/jobs?limit=ten', 'limit: is a whole number from 1 to 100, not "ten"'],
        [`/api/v1/jobs/${jobId}/logs?limit=1.5`, 'limit: is a whole number from 1 to 1000, not "1.5"'],
        [`/api/v1/jobs/${jobId}/logs?attempt=1e30`, 'attempt: is a whole number from 1 to 100, not "1e30"'],
      ] as const) {
        const { status, body } = await service.request<ErrorBody>('GET', path);
        assert.equal(status, 400, path);
        assert.equal(body.error.message, message);
        assert.equal(body.error.details?.length, 1, JSON.stringify(body.error.details));
      }
      // Spellings JavaScript reads as numbers are left as they were.
      assert.equal((await service.request('GET', '/api/v1/jobs?limit=0x10')).status, 200);
    });

    it('points an unknown path to the API, its reference and the dashboard', async function () {
      for (const path of ['/api/v2/jobs', '/jobs', '/api/v1']) {
        const { status, body } = await service.request<ErrorBody>('GET', path);
        assert.equal(status, 404, path);
        assert.equal(body.error.code, 'not_found');
        assert.equal(
          body.error.message,
          `no route GET "${path}"; the API is under /api/v1 (its reference at /docs, the OpenAPI document at /openapi.json), the dashboard at /ui/`,
        );
      }
    });

    it('quotes no more of what was sent than a short name, and lists no more than 20 names', async function () {
      const long = 'x'.repeat(5000);
      const field = await refusal({ type: 'sleep', input: { seconds: 1 }, [long]: 1 });
      const flat = await refusal({ type: 'sleep', [long]: long });
      const inInput = await refusal({ type: 'sleep', input: { seconds: 1, [long]: 1 } });
      const wait = await refusal({ type: 'sleep', input: { seconds: 1 } }, `?wait=${long}`);
      const manyFields = await refusal({
        type: 'sleep',
        input: { seconds: 1 },
        ...Object.fromEntries(Array.from({ length: 500 }, (_, index) => [`field${index}`, index])),
      });
      for (const { message, details } of [field, flat, inInput, wait]) {
        assert.ok(message.length < 700, message);
        assert.ok(JSON.stringify(details).length < 1400, JSON.stringify(details));
      }
      assert.ok(manyFields.details.length <= 20, `${manyFields.details.length} details`);
      const path = await service.request<ErrorBody>('GET', `/${long}`);
      assert.ok(path.body.error.message.length < 400);
    });
  });
});
