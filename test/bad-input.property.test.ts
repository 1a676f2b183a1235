// Property-based bad input against the API running as its own process (`src/api/main.ts`): every refusal is the
// contract's 4xx error body, never a 5xx, the process stays up, and no refused request starts a workflow.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import fc from 'fast-check';
import { z } from 'zod';
import { maxInputBytes } from '../src/jobs/index.js';
import { maxJsonDepth } from '../src/api/body.js';
import { commandJobType } from '../src/activities/command.js';
import { sleepJob } from '../src/activities/sleep.js';
import { ErrorBody, type ErrorCode } from '../src/contract/errors.js';
import { JobId, RetrySettings, SubmitJobBody } from '../src/contract/job.js';
import { startDevServer } from '../dev/temporal/dev-server.js';
import { freePort, httpRequest, startApiPart, startWorkerPart, stopAllParts, type Part } from './support/processes.js';
import { commandsDir } from './support/service.js';

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

/** One API process under test, with the body limit it was started with. */
interface ApiUnderTest {
  readonly part: Part;
  readonly baseUrl: string;
  readonly bodyLimitBytes: number;
}

const defaultBodyLimitBytes = 1024 * 1024;
/** Room for a job input past Temporal's 2 MB payload limit, to show the API refuses it by itself. */
const roomyBodyLimitBytes = 3 * 1024 * 1024;
const temporalPayloadLimitBytes = 2 * 1024 * 1024;

/** A submit body that is valid in every respect: each property breaks exactly one thing about it. */
const validBody = { type: 'sleep', input: { seconds: 1 } };

/** JSON text of `value`, with infinities written as numbers too large for a double (JSON has no Infinity). */
function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v === Infinity ? '__inf__' : v === -Infinity ? '__-inf__' : v))
    .replaceAll('"__inf__"', '1e400')
    .replaceAll('"__-inf__"', '-1e400');
}

function isJson(bytes: Uint8Array): boolean {
  try {
    JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return true;
  } catch {
    return false;
  }
}

describe('Bad input, property-based, against the API process', function () {
  this.timeout(60_000);

  let temporal: TestWorkflowEnvironment;
  const taskQueuePrefix = `bad-input-${process.pid}`;
  let api: ApiUnderTest;
  let roomyApi: ApiUnderTest;

  async function startApi(bodyLimitBytes: number): Promise<ApiUnderTest> {
    const port = await freePort();
    const part = await startApiPart({
      port,
      temporalAddress: temporal.address,
      taskQueuePrefix,
      commandsDir,
      env: { BODY_LIMIT_BYTES: String(bodyLimitBytes) },
    });
    return { part, baseUrl: `http://127.0.0.1:${port}`, bodyLimitBytes };
  }

  async function send(
    target: ApiUnderTest,
    method: string,
    path: string,
    body?: string | Uint8Array,
    contentType = 'application/json',
  ): Promise<Reply> {
    const { status, text } = await httpRequest(target.baseUrl + path, {
      method,
      ...(body === undefined ? {} : { body, contentType }),
    });
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Left as text: the assertion below shows it.
    }
    return { status, body: parsed };
  }

  /** The reply is the contract's error body with this status and code; returns the error for further checks. */
  function assertRefused(reply: Reply, status: number, code: ErrorCode): ErrorBody['error'] {
    assert.ok(reply.status < 500, `a server error: ${reply.status} ${JSON.stringify(reply.body)}`);
    assert.equal(reply.status, status, JSON.stringify(reply.body));
    const { error } = ErrorBody.parse(reply.body);
    assert.equal(error.code, code);
    assert.ok(error.message.length > 0);
    return error;
  }

  const submit = (body: string | Uint8Array, query = '', target = api): Promise<Reply> =>
    send(target, 'POST', `/api/v1/jobs${query}`, body);

  before(async function () {
    temporal = await startDevServer();
    // The service's worker declares the built-in types to the registry the APIs read.
    await startWorkerPart({
      temporalAddress: temporal.address,
      taskQueuePrefix,
      commandsDir,
      queues: { normal: 1 },
      client: temporal.client,
    });
    [api, roomyApi] = await Promise.all([startApi(defaultBodyLimitBytes), startApi(roomyBodyLimitBytes)]);
  });

  afterEach(function () {
    assert.ok(api.part.isRunning && roomyApi.part.isRunning, 'an API process died');
  });

  after(async function () {
    await stopAllParts();
    await temporal?.teardown();
  });

  it('answers 400 to a body that is not JSON', async function () {
    const notJson = fc
      .oneof(
        fc.string({ unit: 'binary', minLength: 1 }).map((text) => new TextEncoder().encode(text)),
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.json().chain((text) => fc.nat(text.length).map((cut) => new TextEncoder().encode(`${text.slice(0, cut)}}`))),
      )
      .filter((bytes) => !isJson(bytes));
    await fc.assert(
      fc.asyncProperty(notJson, async (bytes) => {
        const error = assertRefused(await submit(bytes), 400, 'invalid_request');
        assert.match(error.message, /^malformed JSON|not valid UTF-8/);
      }),
      { numRuns: 100 },
    );
  });

  it('answers 415 to any content type but JSON, even with a valid body', async function () {
    const token = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9.+-]{0,20}$/);
    const contentType = fc
      .oneof(
        fc.constantFrom(
          'text/plain',
          'text/json',
          'application/x-www-form-urlencoded',
          'multipart/form-data',
          'application/xml',
          'application/vnd.api+json',
          'application/jsonp',
          'json',
        ),
        fc.tuple(token, token).map(([type, subtype]) => `${type}/${subtype}`),
        token,
      )
      .chain((type) => fc.constantFrom(type, `${type}; charset=utf-8`))
      .filter((type) => !/^application\/json\s*(;|$)/i.test(type));
    await fc.assert(
      fc.asyncProperty(contentType, async (type) => {
        const reply = await send(api, 'POST', '/api/v1/jobs', jsonText(validBody), type);
        assertRefused(reply, 415, 'unsupported_media_type');
      }),
      { numRuns: 100 },
    );
  });

  it('answers 413 to a body over the limit, the default 1 MiB and a configured one', async function () {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(api, roomyApi),
        fc.integer({ min: 1, max: 32 * 1024 }),
        async (target, excess) => {
          const prefix = '{"type":"sleep","input":{"seconds":1,"message":"';
          const suffix = '"}}';
          const body = prefix + 'x'.repeat(target.bodyLimitBytes + excess - prefix.length - suffix.length) + suffix;
          const error = assertRefused(await submit(body, '', target), 413, 'payload_too_large');
          assert.match(error.message, new RegExp(`request body is larger than ${target.bodyLimitBytes} bytes`));
        },
      ),
      { numRuns: 8 },
    );
  });

  it("answers 413 to an input over 512 KiB, up to past Temporal's 2 MB payload limit, before Temporal sees it", async function () {
    const inputBytes = fc.oneof(
      fc.integer({ min: maxInputBytes + 1, max: maxInputBytes + 4096 }),
      fc.integer({ min: temporalPayloadLimitBytes, max: roomyBodyLimitBytes - 4096 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('sleep', 'command'), inputBytes, async (type, bytes) => {
        const error = assertRefused(
          await submit(jsonText({ type, input: { blob: 'x'.repeat(bytes) } }), '', roomyApi),
          413,
          'payload_too_large',
        );
        assert.match(error.message, /^input is larger than/);
      }),
      { numRuns: 6 },
    );
  });

  it(`answers 400 to JSON nested deeper than ${maxJsonDepth} levels, wherever it is`, async function () {
    const nested = fc
      .array(fc.boolean(), { minLength: maxJsonDepth + 1, maxLength: 400 })
      .map((levels) => levels.reduce<unknown>((inner, asArray) => (asArray ? [inner] : { a: inner }), 1));
    const where = fc.constantFrom('input', 'input.message', 'retry', 'unknown field');
    await fc.assert(
      fc.asyncProperty(nested, where, async (value, at) => {
        const body =
          at === 'input'
            ? { type: 'sleep', input: value }
            : at === 'input.message'
              ? { type: 'sleep', input: { seconds: 1, message: value } }
              : at === 'retry'
                ? { ...validBody, retry: value }
                : { ...validBody, extra: value };
        const error = assertRefused(await submit(jsonText(body)), 400, 'invalid_request');
        assert.match(error.message, /nested deeper/);
      }),
      { numRuns: 50 },
    );
  });

  it('answers 400 to a jobId with a control character, over 128 characters or otherwise malformed, in the body and in the path', async function () {
    const validId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,60}$/);
    const controlCharacter = fc
      .oneof(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f }))
      .map((code) => String.fromCharCode(code));
    const badId = fc
      .oneof(
        fc
          .tuple(validId, controlCharacter, fc.nat())
          .map(([id, control, at]) => id.slice(0, at % (id.length + 1)) + control + id.slice(at % (id.length + 1))),
        fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{128,600}$/),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
      )
      // "." and ".." are path segments the URL itself resolves, before any request is made.
      .filter((id) => !JobId.safeParse(id).success && id !== '.' && id !== '..');
    await fc.assert(
      fc.asyncProperty(badId, async (jobId) => {
        const inBody = assertRefused(await submit(jsonText({ ...validBody, jobId })), 400, 'invalid_request');
        assert.equal((inBody.details?.[0] as { path?: string } | undefined)?.path, 'jobId');
        const path = `/api/v1/jobs/${encodeURIComponent(jobId)}`;
        for (const [method, suffix] of [
          ['GET', ''],
          ['POST', '/cancel'],
          ['GET', '/events'],
        ] as const) {
          const error = assertRefused(await send(api, method, path + suffix), 400, 'invalid_request');
          assert.match(error.message, /^jobId: /, `${method} ${suffix}`);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("answers 400 to an unknown field at the top, in retry and in each job type's input", async function () {
    const knownFields = (schema: z.ZodType): string[] => declaredFields(z.toJSONSchema(schema, { io: 'input' }));
    const declaredFields = (schema: object): string[] =>
      Object.keys((schema as { properties?: object }).properties ?? {});
    const commandJob = await commandJobType({ commandsDir });
    const places = [
      { path: [] as string[], base: validBody as Record<string, unknown>, known: knownFields(SubmitJobBody) },
      { path: ['retry'], base: { maxAttempts: 2 }, known: knownFields(RetrySettings) },
      {
        path: ['input'],
        base: { seconds: 1 },
        known: declaredFields(sleepJob.declaration.inputSchema),
        type: 'sleep',
      },
      {
        path: ['input'],
        base: { command: 'echo-args' },
        known: declaredFields(commandJob.declaration.inputSchema),
        type: 'command',
      },
    ];
    const field = fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'Type', 'jobID', 'input ', ''),
      fc.string({ unit: 'grapheme', maxLength: 30 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...places), field, fc.jsonValue({ maxDepth: 3 }), async (place, key, value) => {
        fc.pre(!place.known.includes(key));
        // Written as text: an object literal would turn "__proto__" into a prototype rather than a field.
        const withField = `${jsonText(place.base).slice(0, -1)},${JSON.stringify(key)}:${jsonText(value)}}`;
        const body =
          place.path.length === 0
            ? withField
            : place.path[0] === 'retry'
              ? `{"type":"sleep","input":{"seconds":1},"retry":${withField}}`
              : `{"type":${JSON.stringify(place.type)},"input":${withField}}`;
        const error = assertRefused(await submit(body), 400, 'invalid_request');
        const expectedPath = [...place.path, key].join('.');
        assert.ok(
          error.details?.some((detail) => (detail as { path?: string; message?: string }).path === expectedPath),
          `no detail for ${expectedPath}: ${JSON.stringify(error)}`,
        );
      }),
      { numRuns: 100 },
    );
  });

  it('answers 400 to a number out of range or not an integer where one is required', async function () {
    const fields = [
      { path: ['timeoutSeconds'], min: 1, max: 604_800, integer: true },
      { path: ['heartbeatTimeoutSeconds'], min: 1, max: 86_400, integer: true },
      { path: ['retry', 'maxAttempts'], min: 1, max: 100, integer: true },
      { path: ['retry', 'initialIntervalSeconds'], min: 0, max: 86_400, integer: false },
      { path: ['retry', 'backoffCoefficient'], min: 1, max: 100, integer: false },
      { path: ['retry', 'maximumIntervalSeconds'], min: 0, max: 86_400, integer: false },
      { path: ['input', 'seconds'], min: 0, max: 86_400, integer: false },
      { path: ['input', 'failAttempts'], min: 0, max: 100, integer: true },
    ];
    const badNumber = fc.constantFrom(...fields).chain((field) =>
      fc
        .oneof(
          // -0 is below 0 for fast-check but not for JSON or zod.
          fc.double({ max: field.min, maxExcluded: true, noNaN: true }).filter((n) => n < field.min),
          fc.double({ min: field.max, minExcluded: true, noNaN: true }),
          ...(field.integer
            ? [fc.double({ min: field.min, max: field.max, noNaN: true }).filter((n) => !Number.isInteger(n))]
            : []),
        )
        .map((value) => ({ field, value })),
    );
    await fc.assert(
      fc.asyncProperty(badNumber, async ({ field, value }) => {
        const body: Record<string, unknown> = { type: 'sleep', input: { seconds: 1 } };
        const [first, second] = field.path as [string, string | undefined];
        if (second === undefined) body[first] = value;
        else body[first] = { ...(body[first] as Record<string, unknown> | undefined), [second]: value };
        const error = assertRefused(await submit(jsonText(body)), 400, 'invalid_request');
        assert.ok(error.message.startsWith(`${field.path.join('.')}: `), error.message);
      }),
      { numRuns: 100 },
    );
  });

  it('answers 400 to a bad query string on submit, and never a 5xx to any query string on the list', async function () {
    const isValidWait = (text: string): boolean =>
      Number.isInteger(Number(text)) && Number(text) >= 0 && Number(text) <= 60;
    const badSubmitQuery = fc.oneof(
      fc
        .string({ unit: 'grapheme', maxLength: 12 })
        .filter((text) => !isValidWait(text))
        .map((wait) => new URLSearchParams({ wait })),
      fc
        .tuple(
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((key) => key !== 'wait'),
          fc.string({ maxLength: 12 }),
        )
        .map(([key, value]) => new URLSearchParams([[key, value]])),
      fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 })).map(
        ([a, b]) =>
          new URLSearchParams([
            ['wait', String(a)],
            ['wait', String(b)],
          ]),
      ),
    );
    await fc.assert(
      fc.asyncProperty(badSubmitQuery, async (query) => {
        assertRefused(await submit(jsonText(validBody), `?${query.toString()}`), 400, 'invalid_request');
      }),
      { numRuns: 100 },
    );

    const anyListQuery = fc.array(
      fc.tuple(
        fc.oneof(fc.constantFrom('status', 'type', 'priority', 'limit', 'cursor'), fc.string({ maxLength: 10 })),
        fc.oneof(
          fc.constantFrom(
            'queued',
            'succeeded',
            'sleep',
            'high',
            '0',
            '1',
            '100',
            '101',
            '-1',
            '1e400',
            'abc.def012345678',
          ),
          fc.string({ unit: 'grapheme', maxLength: 20 }),
        ),
      ),
      { maxLength: 4 },
    );
    await fc.assert(
      fc.asyncProperty(anyListQuery, async (pairs) => {
        const reply = await send(api, 'GET', `/api/v1/jobs?${new URLSearchParams(pairs).toString()}`);
        assert.ok(reply.status === 200 || reply.status === 400, `${reply.status} ${JSON.stringify(reply.body)}`);
        if (reply.status === 400) assertRefused(reply, 400, 'invalid_request');
      }),
      { numRuns: 100 },
    );
  });

  it('started no workflow for any of it, and both API processes are alive and healthy', async function () {
    // Visibility is written a moment after a start: give a wrongly started workflow the time to show.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal((await temporal.client.workflow.count('WorkflowType = "jobWorkflow"')).count, 0);
    for (const target of [api, roomyApi]) assert.equal((await send(target, 'GET', '/healthz')).status, 200);
  });
});
