import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import proto from '@temporalio/proto';
import type { Browser } from 'playwright-core';
import type { CommandResult } from '../src/activities/command.js';
import type { CodecPayloads } from '../src/contract/codec.js';
import type { ErrorBody } from '../src/contract/errors.js';
import type { Job } from '../src/contract/job.js';
import type { Schedule } from '../src/contract/schedule.js';
import { createLazyClient } from '../src/temporal/connection.js';
import { encryptedEncoding, keyIdField, PayloadEncryptionCodec, payloadKeyId } from '../src/temporal/payload-codec.js';
import { launchChromium } from './support/chromium.js';
import { TestService, uniqueJobId } from './support/service.js';
import { until } from './support/until.js';

const { History } = proto.temporal.api.history.v1;
const { DescribeWorkflowExecutionResponse } = proto.temporal.api.workflowservice.v1;

const newKey = (): Buffer => randomBytes(32);
/** A value no part of the service makes up: finding it in stored bytes means it was stored in clear text. */
const marker = (label: string): string => `${label}-${randomBytes(8).toString('hex')}`;

function workflowIdOf(job: Job): string {
  return decodeURIComponent(job.links.ui.split('/').at(-1)!);
}

/** Every event of a workflow's history as Temporal stores and serves it, read without any codec. */
async function rawHistory(service: TestService, workflowId: string): Promise<Buffer> {
  const events = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await service.temporal.client.workflowService.getWorkflowExecutionHistory({
      namespace: service.config.TEMPORAL_NAMESPACE,
      execution: { workflowId },
      nextPageToken,
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  assert.ok(events.length > 5, 'the history was read');
  return Buffer.from(History.encode({ events }).finish());
}

/** The job's start input exactly as stored, in the codec protocol's JSON form. */
async function storedInput(service: TestService, workflowId: string): Promise<CodecPayloads['payloads'][number]> {
  const { history } = await service.temporal.client.workflowService.getWorkflowExecutionHistory({
    namespace: service.config.TEMPORAL_NAMESPACE,
    execution: { workflowId },
    maximumPageSize: 1,
  });
  const payload = history!.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

const fromBase64 = (text: string | undefined): string => Buffer.from(text ?? '', 'base64').toString();

describe('With PAYLOAD_ENCRYPTION_KEY, Temporal stores no job data in clear text', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start({ env: { PAYLOAD_ENCRYPTION_KEY: newKey().toString('base64') } });
  });
  after(async function () {
    await service?.teardown();
  });

  it('keeps input, env values and result out of the raw history, while the API answers the job as usual', async function () {
    const argument = marker('argument');
    const secret = marker('secret');
    const { body } = await service.submit(
      { type: 'command', input: { command: 'echo-args', args: [argument], env: { GREETING: secret } } },
      '?wait=10',
    );
    assert.equal(body.status, 'succeeded');
    // The whole value, masked in the result as every env value is.
    assert.equal(
      (body.result as CommandResult).stdout,
      `${argument}\ngreeting=***\nhome=unset\n`,
      'the handler had the real env value',
    );

    const stored = await rawHistory(service, workflowIdOf(body));
    // Search attributes (type, priority, status, tenant) are not payloads: they stay readable, and filterable.
    for (const [what, value] of [
      ['an argument', argument],
      ['an env value', secret],
      ['a result field', '"exitCode"'],
    ] as const) {
      assert.equal(stored.includes(value), false, `${what} is in the stored history in clear text`);
    }
    const input = await storedInput(service, workflowIdOf(body));
    assert.equal(fromBase64(input.metadata?.['encoding']), encryptedEncoding);
    // The final state in the memo, which describe and visibility serve, is encrypted as every payload is.
    const described = await service.temporal.client.workflowService.describeWorkflowExecution({
      namespace: service.config.TEMPORAL_NAMESPACE,
      execution: { workflowId: workflowIdOf(body) },
    });
    const finalJob = described.workflowExecutionInfo?.memo?.fields?.['finalJob'];
    assert.ok(finalJob, 'the memo has the final state');
    assert.equal(Buffer.from(finalJob.metadata?.['encoding'] ?? []).toString(), encryptedEncoding);
    const describedBytes = Buffer.from(DescribeWorkflowExecutionResponse.encode(described).finish());
    for (const value of [argument, secret, '"exitCode"']) {
      assert.equal(describedBytes.includes(value), false, `${value} is in the described memo in clear text`);
    }

    const polled = await service.getJob(body.jobId);
    assert.equal(polled.body.status, 'succeeded');
    assert.deepEqual(polled.body.input, { command: 'echo-args', args: [argument], env: { GREETING: '***' } });
    assert.equal((polled.body.result as CommandResult).exitCode, 0);
  });

  it('decodes through the codec endpoint for anyone while the API is open (no API keys, loopback only)', async function () {
    const secret = marker('secret');
    const { body } = await service.submit(
      { type: 'command', input: { command: 'echo-args', env: { GREETING: secret } } },
      '?wait=10',
    );
    const decoded = await service.request<CodecPayloads>('POST', '/api/v1/codec/decode', {
      payloads: [await storedInput(service, workflowIdOf(body))],
    });
    assert.equal(decoded.status, 200);
    assert.ok(fromBase64(decoded.body.payloads[0]!.data).includes(secret));
  });

  it("keeps a failed job's error message and stack traces out of the raw history, while the API shows the message", async function () {
    // The command's stderr tail becomes the attempt's error message, and so its stack trace and the job's failure.
    const secret = marker('secret');
    const jobId = uniqueJobId('encrypted-failure');
    const retry = { maxAttempts: 2, initialIntervalSeconds: 2 };
    await service.submit({ type: 'command', input: { command: 'exit-with', args: [secret] }, jobId, retry });
    const expected = new RegExp(`^"exit-with" exited with code 2: exiting with ${secret}`);
    // Between the attempts, the first one's error (from the workflow's state, answered to a query).
    const backingOff = await service.waitFor(jobId, (job) => job.lastError !== null);
    assert.equal(backingOff.lastError?.type, 'CommandExitedError');
    assert.match(backingOff.lastError.message, expected);

    const failed = await service.waitFor(jobId, ['failed']);
    assert.equal(failed.error?.type, 'CommandExitedError');
    assert.match(failed.error.message, expected);
    const stored = await rawHistory(service, workflowIdOf(failed));
    assert.equal(stored.includes(secret), false, 'the error message is in the stored history in clear text');
    assert.equal(stored.includes('exit-with'), false, "the message's command is in the stored history in clear text");
  });

  it("reads a running job's progress from its encrypted heartbeat", async function () {
    const jobId = uniqueJobId('encrypted-progress');
    await service.submit({
      type: 'command',
      input: { command: 'wait-forever', env: { PID_FILE: `/tmp/${jobId}.pid` } },
      jobId,
    });
    try {
      // The first polls join a query; later ones take the lean describe path, which decodes the heartbeat itself.
      for (let poll = 0; poll < 5; poll++) {
        const job = await service.waitFor(jobId, (candidate) => candidate.progress?.percent === 10);
        assert.equal(job.progress?.message, 'waiting');
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
    } finally {
      await service.cancel(jobId);
    }
  });
});

/** An http receiver of completion callbacks on 127.0.0.1. */
async function startReceiver(): Promise<{ server: Server; url: string; hostPort: string; bodies: string[] }> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/hook`, hostPort: `127.0.0.1:${port}`, bodies };
}

/** The `job` events of a job's stream, read until the server ends it (the job finished). */
async function jobEvents(url: string): Promise<Job[]> {
  const text = await (await fetch(url, { signal: AbortSignal.timeout(20_000) })).text();
  return text
    .split('\n\n')
    .flatMap((block) => (/^event: job$/m.test(block) ? [JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as Job] : []));
}

describe('A command job\'s env values read "***" everywhere the API shows the job', function () {
  let service: TestService;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async function () {
    receiver = await startReceiver();
    service = await TestService.start({
      env: { CALLBACK_SECRET: 'callback-secret-0123456789', CALLBACK_ALLOW_HOSTS: receiver.hostPort },
    });
  });
  after(async function () {
    await service?.teardown();
    receiver?.server.close();
  });

  it('in the submit answer, a poll, the list, the event stream and the callback body; the handler gets the real value', async function () {
    const secret = marker('secret');
    const jobId = uniqueJobId('redacted');
    const input = { command: 'echo-args', args: ['visible'], env: { GREETING: secret } };
    const submitted = await service.submit({ type: 'command', input, jobId, callbackUrl: receiver.url }, '?wait=10');
    assert.equal(submitted.body.status, 'succeeded');
    // The command printed its value, which only the declared value itself is masked as.
    assert.equal(
      (submitted.body.result as CommandResult).stdout,
      'visible\ngreeting=***\nhome=unset\n',
      'the handler had the real env value',
    );
    const redactedInput = { ...input, env: { GREETING: '***' } };

    const shown: Array<[string, unknown]> = [['the submit answer', submitted.body]];
    shown.push(['a poll', (await service.getJob(jobId)).body]);
    // The list reads visibility, which lags writes by about a second: it may not have the job yet.
    const listed = await until(
      'the job listed',
      async () =>
        (await service.request<{ jobs: Job[] }>('GET', '/api/v1/jobs?type=command&limit=100')).body.jobs.find(
          (job) => job.jobId === jobId,
        ),
      () => true,
    );
    shown.push(['the list', listed]);
    const events = await jobEvents(`${service.baseUrl}/api/v1/jobs/${jobId}/events`);
    assert.ok(events.length > 0);
    for (const event of events) shown.push(['an event', event]);
    const delivered = await service.waitFor(jobId, (job) => job.callback?.status === 'delivered', 30_000);
    shown.push(['the callback body', JSON.parse(receiver.bodies.at(-1)!) as Job], ['a poll after delivery', delivered]);
    for (const [where, job] of shown) {
      assert.deepEqual((job as Job).input, redactedInput, where);
      assert.equal(JSON.stringify((job as Job).input).includes(secret), false, where);
    }
  });

  it("in a schedule's job", async function () {
    const secret = marker('secret');
    const scheduleId = uniqueJobId('redacted-schedule');
    const created = await service.request<Schedule>('POST', '/api/v1/schedules', {
      scheduleId,
      intervalSeconds: 3600,
      paused: true,
      job: { type: 'command', input: { command: 'echo-args', env: { GREETING: secret } } },
    });
    assert.equal(created.status, 201);
    const read = await service.request<Schedule>('GET', `/api/v1/schedules/${scheduleId}`);
    for (const schedule of [created.body, read.body])
      assert.deepEqual(schedule.job['input'], { command: 'echo-args', env: { GREETING: '***' } });
  });
});

describe('The codec endpoint for the Temporal Web UI', function () {
  const apiKey = 'codec-tenant-key-0123456789';
  const otherKey = 'other-tenant-key-0123456789';
  let service: TestService;
  let uiOrigin: string;
  before(async function () {
    service = await TestService.start({
      env: {
        PAYLOAD_ENCRYPTION_KEY: newKey().toString('hex'),
        API_KEYS: `acme:${apiKey},other:${otherKey}`,
        CODEC_TENANTS: 'ops, acme',
      },
    });
    uiOrigin = new URL(service.config.TEMPORAL_UI_URL).origin;
  });
  after(async function () {
    await service?.teardown();
  });

  it('decodes a stored payload for a tenant named in CODEC_TENANTS, and refuses a caller without a key (401)', async function () {
    service.apiKey = apiKey;
    const secret = marker('secret');
    const { body } = await service.submit(
      { type: 'command', input: { command: 'echo-args', env: { GREETING: secret } } },
      '?wait=10',
    );
    const payload = await storedInput(service, workflowIdOf(body));
    assert.equal(fromBase64(payload.data).includes(secret), false);

    const decoded = await service.request<CodecPayloads>(
      'POST',
      '/api/v1/codec/decode',
      { payloads: [payload] },
      { 'x-namespace': 'default' },
    );
    assert.equal(decoded.status, 200);
    assert.equal(fromBase64(decoded.body.payloads[0]!.metadata?.['encoding']), 'json/plain');
    assert.equal(
      (JSON.parse(fromBase64(decoded.body.payloads[0]!.data)) as { input: { env: Record<string, string> } }).input.env[
        'GREETING'
      ],
      secret,
    );

    const encoded = await service.request<CodecPayloads>('POST', '/api/v1/codec/encode', {
      payloads: decoded.body.payloads,
    });
    assert.equal(encoded.status, 200);
    assert.equal(fromBase64(encoded.body.payloads[0]!.metadata?.['encoding']), encryptedEncoding);
    assert.equal(fromBase64(encoded.body.payloads[0]!.data).includes(secret), false);

    service.apiKey = undefined;
    const refused = await service.request<ErrorBody>(
      'POST',
      '/api/v1/codec/decode',
      { payloads: [payload] },
      { origin: uiOrigin },
    );
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error.code, 'unauthorized');
  });

  it('refuses a tenant not named in CODEC_TENANTS (403), both ways: payloads are not per tenant', async function () {
    service.apiKey = apiKey;
    const secret = marker('secret');
    const { body } = await service.submit(
      { type: 'command', input: { command: 'echo-args', env: { GREETING: secret } } },
      '?wait=10',
    );
    const payload = await storedInput(service, workflowIdOf(body));
    const plain = {
      metadata: { encoding: Buffer.from('json/plain').toString('base64') },
      data: Buffer.from('"forged"').toString('base64'),
    };
    try {
      service.apiKey = otherKey;
      for (const [direction, payloads] of [
        ['decode', [payload]],
        ['encode', [plain]],
      ] as const) {
        const refused = await service.request<ErrorBody>('POST', `/api/v1/codec/${direction}`, { payloads });
        assert.equal(refused.status, 403, direction);
        assert.equal(refused.body.error.code, 'forbidden', direction);
        assert.equal(JSON.stringify(refused.body).includes(secret), false);
      }
    } finally {
      service.apiKey = undefined;
    }
  });

  it("answers CORS for the UI's origin only, its preflight without a key", async function () {
    service.apiKey = undefined;
    const preflight = (origin: string) =>
      fetch(`${service.baseUrl}/api/v1/codec/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,x-namespace',
        },
      });
    const allowed = await preflight(uiOrigin);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), uiOrigin);
    assert.match(allowed.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /x-namespace/i);

    const other = await preflight('http://evil.example');
    assert.equal(other.headers.get('access-control-allow-origin'), null);

    service.apiKey = apiKey;
    const fromUi = await service.request('POST', '/api/v1/codec/decode', { payloads: [] }, { origin: uiOrigin });
    assert.equal(fromUi.status, 200);
    assert.equal(fromUi.headers.get('access-control-allow-origin'), uiOrigin);
    const fromOther = await service.request(
      'POST',
      '/api/v1/codec/decode',
      { payloads: [] },
      { origin: 'http://evil.example' },
    );
    assert.equal(fromOther.headers.get('access-control-allow-origin'), null);
    service.apiKey = undefined;
  });
});

describe('Rotating the payload key', function () {
  const oldKey = newKey();
  const currentKey = newKey();
  let service: TestService;
  before(async function () {
    service = await TestService.start({ workers: false, env: { PAYLOAD_ENCRYPTION_KEY: oldKey.toString('base64') } });
  });
  after(async function () {
    await service?.teardown();
  });

  it('runs and reads a job written with the old key once that key is listed in PAYLOAD_DECRYPTION_KEYS', async function () {
    const secret = marker('secret');
    const submitted = await service.submit({
      type: 'command',
      input: { command: 'echo-args', env: { GREETING: secret } },
    });
    assert.equal(submitted.status, 202);
    const workflowId = workflowIdOf(submitted.body);
    assert.equal(fromBase64((await storedInput(service, workflowId)).metadata?.[keyIdField]), payloadKeyId(oldKey));

    // Workers and a client of the rotated configuration: the new key writes, the old one still reads.
    const rotated = [new PayloadEncryptionCodec(currentKey, [oldKey])];
    // All of them: the workflows too, which read the attempts' results written with the new key.
    await service.stopWorkers();
    await service.startWorkers(undefined, rotated);
    const client = createLazyClient(service.temporal.address, service.config.TEMPORAL_NAMESPACE, rotated);
    try {
      const state = (await client.workflow.getHandle(workflowId).result()) as { status: string; result: CommandResult };
      assert.equal(state.status, 'succeeded');
      assert.equal(
        state.result.stdout,
        'greeting=***\nhome=unset\n',
        'the command had the real value, masked in its output',
      );
    } finally {
      await client.connection.close();
    }
    const stored = await rawHistory(service, workflowId);
    assert.ok(stored.includes(payloadKeyId(currentKey)), 'the result was written with the current key');

    // Without the old key, its payloads cannot be read.
    const withoutOld = new PayloadEncryptionCodec(currentKey);
    const input = await storedInput(service, workflowId);
    await assert.rejects(
      withoutOld.decode([
        {
          metadata: {
            encoding: Buffer.from(encryptedEncoding),
            [keyIdField]: Buffer.from(fromBase64(input.metadata?.[keyIdField])),
          },
          data: Buffer.from(input.data!, 'base64'),
        },
      ]),
      /PAYLOAD_DECRYPTION_KEYS/,
    );
  });
});

describe('The Temporal Web UI with the codec endpoint', function () {
  let service: TestService;
  let browser: Browser;
  before(async function () {
    browser = await launchChromium(this, { dashboard: false });
    // The UI cannot send an API key, so the API is open here.
    service = await TestService.start({
      webUi: true,
      uiCodec: true,
      env: { PAYLOAD_ENCRYPTION_KEY: newKey().toString('base64') },
    });
  });
  after(async function () {
    await browser?.close();
    await service?.teardown();
  });

  it("shows a job's input decoded on its workflow page", async function () {
    const argument = marker('argument');
    const { body } = await service.submit(
      { type: 'command', input: { command: 'echo-args', args: [argument] } },
      '?wait=10',
    );
    assert.equal(body.status, 'succeeded');
    assert.equal(
      fromBase64((await storedInput(service, workflowIdOf(body))).metadata?.['encoding']),
      encryptedEncoding,
      'Temporal holds the input encrypted',
    );
    const page = await browser.newPage();
    // The page long-polls its history, so it never goes network-idle: wait for load, then for the text.
    await page.goto(body.links.ui, { waitUntil: 'load' });
    await page.getByText(argument).first().waitFor({ timeout: 20_000 });
  });

  it("shows a failed job's encoded failure message decoded on its workflow page", async function () {
    const secret = marker('secret');
    const { body } = await service.submit(
      { type: 'command', input: { command: 'exit-with', args: [secret] }, retry: { maxAttempts: 1 } },
      '?wait=10',
    );
    assert.equal(body.status, 'failed');
    assert.equal(
      (await rawHistory(service, workflowIdOf(body))).includes(secret),
      false,
      'Temporal holds the message encrypted',
    );
    const page = await browser.newPage();
    await page.goto(body.links.ui, { waitUntil: 'load' });
    await page.getByText(`exiting with ${secret}`).first().waitFor({ timeout: 20_000 });
  });
});
