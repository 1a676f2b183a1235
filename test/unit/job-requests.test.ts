// Request building (src/jobs/request.ts) and list cursors (src/jobs/cursor.ts): pure, no Temporal server.
import assert from 'node:assert/strict';
import type { JobTypeDeclaration } from '../../src/contract/job-type-declaration.js';
import type { SubmitJobBody } from '../../src/contract/job.js';
import { ListCursors } from '../../src/jobs/cursor.js';
import { PayloadTooLargeError, RequestInvalidError } from '../../src/jobs/errors.js';
import { declaredJobTypes } from '../../src/jobs/job-types.js';
import {
  jobStartOptions,
  maxInputBytes,
  requestHash,
  resolveJob,
  resolveSubmit,
  runAtSkewMs,
  type RequestSettings,
} from '../../src/jobs/request.js';
import { workflowVersion } from '../../src/workflows/version.js';

// A declaration as a handler worker sends it: a JSON Schema (with a default the check fills in) and per-value defaults.
const echo: JobTypeDeclaration = {
  name: 'echo',
  description: 'echoes its text',
  inputSchema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: {
      text: { type: 'string', default: '', not: { const: 'forbidden' }, description: 'the text; never "forbidden"' },
      env: { type: 'object', additionalProperties: { type: 'string' } },
    },
    additionalProperties: false,
  },
  resultSchema: null,
  defaults: {
    timeoutSeconds: 60,
    heartbeatTimeoutSeconds: 10,
    retry: { maxAttempts: 3, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 30 },
  },
  defaultsWhen: [{ field: 'text', equals: 'hi', defaults: { retry: { maxAttempts: 5 } } }],
};

const now = Date.parse('2026-11-30T12:00:00.000Z');
let ids = 0;
const settings: RequestSettings = {
  ...declaredJobTypes([echo]),
  taskQueuePrefix: 'test',
  callbacks: { enabled: true, refusal: (url) => (url.hostname === 'localhost' ? 'is not public' : undefined) },
  now: () => now,
  newJobId: () => `job-${++ids}`,
};

const body = (fields: Partial<SubmitJobBody> = {}): SubmitJobBody => ({
  type: 'echo',
  priority: 'normal',
  input: { text: 'hi' },
  ...fields,
});

async function refusal(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  assert.fail('was not refused');
}

describe('Building a job request from a submit body', function () {
  it("applies the job type's defaults, its defaultsWhen case, and the body's fields over them", async function () {
    const request = await resolveJob(settings, 'acme', body({ jobId: 'a', retry: { initialIntervalSeconds: 2 } }));
    assert.equal(request.jobId, 'a');
    assert.equal(request.tenant, 'acme');
    assert.equal(request.timeoutSeconds, 60);
    assert.deepEqual(request.retry, {
      maxAttempts: 5,
      initialIntervalSeconds: 2,
      backoffCoefficient: 2,
      maximumIntervalSeconds: 30,
    });
    // The type's own queue at the priority: only workers with its handler poll it.
    assert.equal(request.taskQueue, 'test:echo:normal');
    assert.equal((await resolveJob(settings, 'acme', body({ input: { text: 'other' } }))).retry.maxAttempts, 3);
    assert.deepEqual((await resolveJob(settings, 'acme', body({ input: {} }))).input, { text: '' });
    assert.equal(request.submittedAt, '2026-11-30T12:00:00.000Z');
    assert.equal((await resolveJob(settings, 'acme', body())).jobId.startsWith('job-'), true);
  });

  it('refuses an unknown type, a bad input, an input over the limit and a refused callback URL', async function () {
    assert.match(
      (await refusal(resolveJob(settings, 't', body({ type: 'nope' })))).message,
      /unknown job type "nope"; known: echo/,
    );
    const bad = await refusal(resolveJob(settings, 't', body({ input: { text: 1 } })));
    assert.ok(bad instanceof RequestInvalidError);
    assert.equal(bad.message, 'input.text: must be string');
    const unknown = await refusal(resolveJob(settings, 't', body({ input: { text: 'a', color: 'red' } })));
    assert.ok(unknown instanceof RequestInvalidError);
    assert.deepEqual(unknown.details, [{ path: 'input.color', message: 'unknown field "color"' }]);
    assert.match(
      (await refusal(resolveJob(settings, 't', body({ input: { text: 'forbidden' } })))).message,
      /forbidden/,
    );
    const big = { text: 'x'.repeat(maxInputBytes) };
    assert.ok((await refusal(resolveJob(settings, 't', body({ input: big })))) instanceof PayloadTooLargeError);
    const local = body({ callbackUrl: 'http://localhost:9/hook' });
    assert.match((await refusal(resolveJob(settings, 't', local))).message, /callbackUrl: is not public/);
    const off = { ...settings, callbacks: { enabled: false, refusal: () => undefined } };
    assert.match(
      (await refusal(resolveJob(off, 't', body({ callbackUrl: 'https://example.com/' })))).message,
      /not enabled/,
    );
  });

  it('turns delaySeconds and runAt into runAt, on the given clock', async function () {
    assert.equal((await resolveJob(settings, 't', body({ delaySeconds: 30 }))).runAt, '2026-11-30T12:00:30.000Z');
    const slightlyPast = new Date(now - runAtSkewMs / 2).toISOString();
    assert.equal((await resolveJob(settings, 't', body({ runAt: slightlyPast }))).runAt, undefined);
    const past = new Date(now - runAtSkewMs - 1).toISOString();
    assert.match((await refusal(resolveJob(settings, 't', body({ runAt: past })))).message, /in the past/);
    const both = body({ delaySeconds: 1, runAt: new Date(now + 1000).toISOString() });
    assert.match((await refusal(resolveJob(settings, 't', both))).message, /not both/);
  });

  it("names children after their parent, hashes each, and prefixes a child's refusal with its index", async function () {
    const parent = await resolveSubmit(
      settings,
      't',
      body({ jobId: 'p', children: [{ type: 'echo' }, { type: 'echo' }] } as never),
    );
    assert.deepEqual(
      parent.children?.map((child) => child.request.jobId),
      ['p.0', 'p.1'],
    );
    assert.equal(parent.children?.[0]?.requestHash, requestHash(parent.children[0]!.request));
    const bad = body({ jobId: 'p', children: [{ type: 'echo' }, { type: 'nope' }] } as never);
    assert.match((await refusal(resolveSubmit(settings, 't', bad))).message, /^children\.1\.type: unknown job type/);
    const clash = body({ jobId: 'p', children: [{ type: 'echo', jobId: 'p' }] } as never);
    assert.match((await refusal(resolveSubmit(settings, 't', clash))).message, /must differ/);
  });

  it('hashes the same request alike whenever it is submitted, whichever run and by whichever version, and a different one apart', async function () {
    const first = await resolveJob({ ...settings, commandsVersion: workflowVersion }, 't', body({ jobId: 'a' }));
    assert.equal(first.commandsVersion, workflowVersion, 'a request stamped with JOBS_WORKFLOW_VERSION');
    const later = { ...(await resolveJob({ ...settings, now: () => now + 5000 }, 't', body({ jobId: 'a' }))), run: 2 };
    assert.equal(requestHash(first), requestHash(later));
    const unstamped = await resolveJob(settings, 't', body({ jobId: 'a' }));
    assert.equal(
      unstamped.commandsVersion,
      undefined,
      'no stamp unless JOBS_WORKFLOW_VERSION says every worker has it',
    );
    assert.equal(requestHash(first), requestHash(unstamped), 'a repeat of a request stamped otherwise');
    const ahead = await resolveJob({ ...settings, commandsVersion: workflowVersion + 1 }, 't', body());
    assert.equal(ahead.commandsVersion, workflowVersion, 'never stamped above the workflows this code knows');
    assert.notEqual(requestHash(first), requestHash({ ...first, input: { text: 'other' } }));
    const options = jobStartOptions('test', 'acme', first);
    assert.equal(options.workflowId, 'acme/a');
    assert.equal(options.taskQueue, 'test-workflows');
    assert.equal(options.memo['requestHash'], requestHash(first));
  });
});

describe('List cursors', function () {
  const token = Uint8Array.from([1, 2, 3, 250, 251]);
  const query = "WorkflowType = 'jobWorkflow' AND JobTenant = 'acme'";
  const cursors = new ListCursors(Buffer.alloc(32, 7));

  it('give back the page token for the query they were made for, under the same key', function () {
    assert.deepEqual([...cursors.pageTokenOf(cursors.cursorOf(token, query), query)], [...token]);
    assert.deepEqual(
      [...new ListCursors(Buffer.alloc(32, 7)).pageTokenOf(cursors.cursorOf(token, query), query)],
      [...token],
    );
  });

  it('are refused for another query, mangled, truncated or made up', function () {
    const cursor = cursors.cursorOf(token, query);
    assert.throws(() => cursors.pageTokenOf(cursor, `${query} AND JobStatus = 'failed'`), RequestInvalidError);
    assert.throws(() => cursors.pageTokenOf(`A${cursor}`, query), RequestInvalidError);
    assert.throws(() => cursors.pageTokenOf(cursor.slice(0, -1), query), RequestInvalidError);
    assert.throws(() => cursors.pageTokenOf(`${cursor}.x`, query), RequestInvalidError);
    assert.throws(() => cursors.pageTokenOf('not-a-cursor', query), RequestInvalidError);
  });

  it('are refused under another key, and an unkeyed check is no key', function () {
    const cursor = cursors.cursorOf(token, query);
    assert.throws(() => new ListCursors(Buffer.alloc(32, 8)).pageTokenOf(cursor, query), RequestInvalidError);
    assert.throws(() => new ListCursors().pageTokenOf(cursor, query), RequestInvalidError);
  });
});
