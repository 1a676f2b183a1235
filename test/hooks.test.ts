import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { ErrorBody } from '../src/contract/errors.js';
import { Client, WithStartWorkflowOperation } from '@temporalio/client';
import type { Job } from '../src/contract/job.js';
import { hookRegistryWorkflowId, type CreatedHook, type Hook, type HookDelivery } from '../src/contract/hooks.js';
import { registryTaskQueue } from '../src/contract/job-type-declaration.js';
import { hookRegistryWorkflow } from '../src/workflows/index.js';
import {
  createHookUpdate,
  hookQuery,
  hooksOfQuery,
  setHookEnabledUpdate,
} from '../src/workflows/hook-registry-messages.js';
import { extractShellExamples, parseCurlLog, unexpectedStatuses } from './support/doc-examples.js';
import { httpRequest, type HttpReply } from './support/processes.js';
import { createApp } from '../src/api/app.js';
import { deliveryJobId } from '../src/api/hooks.js';
import { HookDirectory } from '../src/jobs/hooks.js';
import { createLazyClient } from '../src/temporal/connection.js';
import { payloadCodecsFor } from '../src/temporal/payload-codec.js';
import { TestService, uniqueJobId } from './support/service.js';
import { until } from './support/until.js';

const keys = { acme: 'acme-key-0123456789abcdef', globex: 'globex-key-0123456789abcdef' };
const bodyLimitBytes = 64 * 1024;

/** Signed as GitHub signs: HMAC-SHA256 of the raw body, hex, after "sha256=". */
function githubSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Signed as Stripe signs: HMAC-SHA256 of "<t>.<body>", in "t=<t>,v1=<hex>". */
function stripeSignature(secret: string, body: string, atMs = Date.now()): string {
  const t = Math.floor(atMs / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

describe('Inbound webhooks', function () {
  let service: TestService;
  let base: string;
  before(async function () {
    service = await TestService.start({
      env: {
        API_KEYS: `acme:${keys.acme},globex:${keys.globex}`,
        BODY_LIMIT_BYTES: String(bodyLimitBytes),
        MAX_UNFINISHED_JOBS_PER_TENANT: '3',
      },
    });
    base = service.baseUrl;
  });
  after(async function () {
    await service.teardown();
  });

  async function createHook(tenant: keyof typeof keys, body: Record<string, unknown>): Promise<CreatedHook> {
    service.apiKey = keys[tenant];
    const created = await service.request<CreatedHook>('POST', '/api/v1/hooks', body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get('location'), `/api/v1/hooks/${created.body.hookId}`);
    return created.body;
  }

  /** The job as its tenant reads it (with the tenant's key: a delivery's answer holds only its id and status). */
  async function jobOf(jobId: string): Promise<Job> {
    const read = await service.request<Job>('GET', `/api/v1/jobs/${jobId}`);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    return read.body;
  }

  /** A delivery as a third party sends it: no API key, the body as given. */
  function deliver(
    hookId: string,
    body: string,
    headers: Record<string, string>,
    rawPath?: string,
  ): Promise<HttpReply> {
    return httpRequest(`${base}/api/v1/hooks/${hookId}`, {
      method: 'POST',
      body,
      headers,
      ...(rawPath ? { rawPath } : {}),
    });
  }

  async function jobCount(): Promise<number> {
    return service.countWorkflows(`WorkflowType = 'jobWorkflow'`);
  }

  /** Until visibility shows none of the tenant's jobs running: the cap of 3 counts them there, lagging their ends. */
  async function noneRunning(tenant: keyof typeof keys): Promise<void> {
    await until(
      `${tenant}'s earlier jobs finished`,
      () => service.countWorkflows(`JobTenant = '${tenant}' AND ExecutionStatus = 'Running'`),
      (count) => count === 0,
      20_000,
    );
  }

  describe('a GitHub-style delivery', function () {
    it('starts a job of the hook type with the mapped input; a redelivery is the same job, the same body under another delivery id another', async function () {
      const hook = await createHook('acme', {
        type: 'sleep',
        inputFrom: { seconds: '/delay', message: '/repository/full_name' },
        priority: 'high',
      });
      assert.match(hook.hookId, /^hk_[A-Za-z0-9_-]{32}$/);
      assert.ok(hook.secret.length >= 32);
      const body = JSON.stringify({ delay: 0, repository: { full_name: 'acme/site' }, ref: 'refs/heads/main' });
      const headers = {
        'X-Hub-Signature-256': githubSignature(hook.secret, body),
        'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
        'X-GitHub-Event': 'push',
      };
      const first = await deliver(hook.hookId, body, headers);
      assert.equal(first.status, 202, first.text);
      const job = JSON.parse(first.text) as HookDelivery;
      assert.deepEqual(Object.keys(job).sort(), ['jobId', 'status'], "the sender learns the job's id, not the job");
      assert.equal(first.headers['location'], `/api/v1/jobs/${job.jobId}`);

      service.apiKey = keys.acme;
      const finished = await service.waitFor(job.jobId, ['succeeded']);
      assert.equal(finished.type, 'sleep');
      assert.equal(finished.priority, 'high');
      assert.deepEqual(finished.input, { seconds: 0, message: 'acme/site' });
      assert.deepEqual(finished.result, { sleptSeconds: 0, message: 'acme/site' });

      const again = await deliver(hook.hookId, body, headers);
      assert.equal(again.status, 202, again.text);
      assert.deepEqual(JSON.parse(again.text), { jobId: job.jobId, status: 'succeeded' }, 'a replay reads no result');
      assert.equal(await service.countWorkflows(`WorkflowId = 'acme/${job.jobId}'`), 1);

      // GitHub signs the body alone: the captured delivery sent with a delivery id of its sender's choosing is another
      // job (docs/security.md says so, and what to do about it).
      const replayed = await deliver(hook.hookId, body, { ...headers, 'X-GitHub-Delivery': 'chosen-by-the-replayer' });
      assert.equal(replayed.status, 202, replayed.text);
      assert.notEqual((JSON.parse(replayed.text) as HookDelivery).jobId, job.jobId);

      const otherBody = JSON.stringify({ delay: 0, repository: { full_name: 'acme/other' } });
      const reused = await deliver(hook.hookId, otherBody, {
        ...headers,
        'X-Hub-Signature-256': githubSignature(hook.secret, otherBody),
      });
      assert.equal(reused.status, 409, reused.text);
    });
  });

  describe('a Stripe-style delivery', function () {
    it('starts a job with the whole body as input, Idempotency-Key naming it', async function () {
      const hook = await createHook('acme', { type: 'sleep' });
      const body = JSON.stringify({ seconds: 0, message: 'invoice.paid' });
      const headers = { 'Stripe-Signature': stripeSignature(hook.secret, body), 'Idempotency-Key': 'evt_1' };
      const reply = await deliver(hook.hookId, body, headers);
      assert.equal(reply.status, 202, reply.text);
      const job = JSON.parse(reply.text) as HookDelivery;
      service.apiKey = keys.acme;
      assert.deepEqual((await service.waitFor(job.jobId, ['succeeded'])).result, {
        sleptSeconds: 0,
        message: 'invoice.paid',
      });
      const again = await deliver(hook.hookId, body, {
        ...headers,
        'Stripe-Signature': stripeSignature(hook.secret, body),
      });
      assert.equal((JSON.parse(again.text) as HookDelivery).jobId, job.jobId);

      // Without a delivery id each delivery is its own job.
      const unnamed = await deliver(hook.hookId, body, { 'Stripe-Signature': stripeSignature(hook.secret, body) });
      assert.equal(unnamed.status, 202);
      assert.notEqual((JSON.parse(unnamed.text) as HookDelivery).jobId, job.jobId);
    });

    it("names the job after Stripe's event id (the body's evt_…): a retried event answers the first job, on this hook only", async function () {
      const hook = await createHook('acme', {
        type: 'sleep',
        inputFrom: { seconds: '/data/object/seconds', message: '/type' },
      });
      const other = await createHook('acme', {
        type: 'sleep',
        inputFrom: { seconds: '/data/object/seconds', message: '/type' },
      });
      await noneRunning('acme');
      const eventId = `evt_${randomBytes(12).toString('hex')}`;
      const body = JSON.stringify({
        id: eventId,
        object: 'event',
        type: 'invoice.paid',
        data: { object: { seconds: 0 } },
      });
      const first = await deliver(hook.hookId, body, { 'Stripe-Signature': stripeSignature(hook.secret, body) });
      assert.equal(first.status, 202, first.text);
      const job = JSON.parse(first.text) as HookDelivery;
      assert.equal(job.jobId, deliveryJobId(hook.hookId, eventId));
      service.apiKey = keys.acme;
      assert.deepEqual((await jobOf(job.jobId)).input, { seconds: 0, message: 'invoice.paid' });
      // Stripe's retry: the same event, signed again with a later timestamp.
      const retried = await deliver(hook.hookId, body, {
        'Stripe-Signature': stripeSignature(hook.secret, body, Date.now() + 2000),
      });
      assert.equal(retried.status, 202, retried.text);
      assert.equal((JSON.parse(retried.text) as HookDelivery).jobId, job.jobId);
      assert.equal(await service.countWorkflows(`WorkflowId = 'acme/${job.jobId}'`), 1);

      const elsewhere = await deliver(other.hookId, body, { 'Stripe-Signature': stripeSignature(other.secret, body) });
      assert.equal(elsewhere.status, 202, elsewhere.text);
      assert.notEqual(
        (JSON.parse(elsewhere.text) as HookDelivery).jobId,
        job.jobId,
        'the event id is scoped to its hook',
      );

      // A captured delivery replayed within the signature's window with a fresh delivery id header (headers are not
      // signed, the event id is) is still the first job.
      for (const header of ['Idempotency-Key', 'X-GitHub-Delivery']) {
        const replayed = await deliver(hook.hookId, body, {
          'Stripe-Signature': stripeSignature(hook.secret, body),
          [header]: `replay-${randomBytes(8).toString('hex')}`,
        });
        assert.equal(replayed.status, 202, replayed.text);
        assert.equal((JSON.parse(replayed.text) as HookDelivery).jobId, job.jobId, header);
      }
      assert.equal(await service.countWorkflows(`WorkflowId = 'acme/${job.jobId}'`), 1);

      const spaced = JSON.stringify({ id: 'evt_ with spaces', type: 'x', data: { object: { seconds: 0 } } });
      const malformed = await deliver(hook.hookId, spaced, {
        'Stripe-Signature': stripeSignature(hook.secret, spaced),
      });
      assert.equal(malformed.status, 400, malformed.text);
      assert.match(malformed.text, /"path":"id"/);
    });

    it('takes a secret the sender made (Stripe makes its own)', async function () {
      const secret = 'whsec_made-by-the-sender-0123456789';
      const hook = await createHook('acme', { type: 'sleep', secret });
      assert.equal(hook.secret, secret);
      const body = JSON.stringify({ seconds: 0 });
      const reply = await deliver(hook.hookId, body, { 'Stripe-Signature': stripeSignature(secret, body) });
      assert.equal(reply.status, 202, reply.text);
    });
  });

  describe("a GitHub delivery sent form-encoded (the webhook's content type application/x-www-form-urlencoded)", function () {
    let hook: CreatedHook;
    const event = { delay: 0, repository: { full_name: 'acme/café ✓ & co' }, ref: 'refs/heads/main' };
    /** As GitHub sends it: one field, payload, the JSON URL-encoded (spaces as +). */
    const formOf = (json: string): string => new URLSearchParams({ payload: json }).toString();
    const formDelivery = (body: string, headers: Record<string, string> = {}) =>
      deliver(hook.hookId, body, {
        'content-type': 'application/x-www-form-urlencoded',
        'X-Hub-Signature-256': githubSignature(hook.secret, body),
        ...headers,
      });
    before(async function () {
      hook = await createHook('acme', {
        type: 'sleep',
        inputFrom: { seconds: '/delay', message: '/repository/full_name' },
      });
    });

    it('is signed over the raw form; its job takes the decoded payload JSON, and a redelivery is the same job', async function () {
      const body = formOf(JSON.stringify(event));
      assert.match(body, /^payload=%7B.*\+/, 'URL-encoded, a space as +');
      await noneRunning('acme');
      const delivery = { 'X-GitHub-Delivery': randomBytes(8).toString('hex') };
      const first = await formDelivery(body, delivery);
      assert.equal(first.status, 202, first.text);
      const job = JSON.parse(first.text) as HookDelivery;
      service.apiKey = keys.acme;
      assert.deepEqual((await jobOf(job.jobId)).input, { seconds: 0, message: 'acme/café ✓ & co' });
      assert.equal(job.jobId, deliveryJobId(hook.hookId, delivery['X-GitHub-Delivery']));
      const again = await formDelivery(body, delivery);
      assert.equal(again.status, 202, again.text);
      assert.equal((JSON.parse(again.text) as HookDelivery).jobId, job.jobId);
      assert.equal(await service.countWorkflows(`WorkflowId = 'acme/${job.jobId}'`), 1);
      const charset = await formDelivery(body, {
        ...delivery,
        'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
      });
      assert.equal(charset.status, 202, `charset=UTF-8 is what the payload is read in: ${charset.text}`);
    });

    it("refuses every other form, saying what to send, and starts nothing: the attacker's spellings", async function () {
      const before = await jobCount();
      const json = JSON.stringify(event);
      const payload = formOf(json);
      const refusals: Array<
        [what: string, body: string, headers: Record<string, string>, status: number, says: RegExp]
      > = [
        ['two payload fields', `${payload}&${formOf('{"delay":0}')}`, {}, 400, /2 payload fields/],
        ['a payload spelled escaped, twice', `${payload}&pay%6Coad=%7B%7D`, {}, 400, /2 payload fields/],
        ['no payload field', `data=${encodeURIComponent(json)}`, {}, 400, /no payload field/],
        ['a field beside payload', `${payload}&extra=1`, {}, 400, /fields besides payload/],
        ['an empty form', '&', {}, 400, /no payload field/],
        ['a broken escape', `payload=%7B%2`, {}, 400, /% without two hex digits/],
        ['a payload not JSON', 'payload=%7Bdelay', {}, 400, /payload: malformed JSON/],
        ['a payload not UTF-8', 'payload=%7B%22d%22%3A%22%FF%22%7D', {}, 400, /payload: the body is not valid UTF-8/],
        [
          'the JSON unencoded, as a form',
          json,
          {},
          400,
          /no payload field|fields besides payload|% without two hex digits/,
        ],
        [
          'a charset other than UTF-8',
          payload,
          { 'content-type': 'application/x-www-form-urlencoded; charset=utf-16le' },
          415,
          /UTF-8/,
        ],
        [
          'latin-1',
          payload,
          { 'content-type': 'application/x-www-form-urlencoded; charset="ISO-8859-1"' },
          415,
          /UTF-8/,
        ],
        ['multipart', payload, { 'content-type': 'multipart/form-data; boundary=x' }, 415, /payload/],
        [
          'signed over the decoded JSON, not the body sent',
          payload,
          { 'X-Hub-Signature-256': githubSignature(hook.secret, json) },
          401,
          /does not match/,
        ],
        ['unsigned', payload, { 'X-Hub-Signature-256': '' }, 401, /malformed|no signature/],
        [
          'over the body limit',
          formOf(JSON.stringify({ ...event, padding: 'x'.repeat(bodyLimitBytes) })),
          {},
          413,
          /payload_too_large/,
        ],
      ];
      for (const [what, body, headers, status, says] of refusals) {
        const reply = await formDelivery(body, { 'Idempotency-Key': `form-${what.replaceAll(' ', '-')}`, ...headers });
        assert.equal(reply.status, status, `${what}: ${reply.text}`);
        assert.match(reply.text, says, what);
      }
      assert.equal(await jobCount(), before);
    });
  });

  describe('refused deliveries', function () {
    let hook: CreatedHook;
    const body = JSON.stringify({ seconds: 0, message: 'refused' });
    before(async function () {
      hook = await createHook('acme', { type: 'sleep' });
    });

    it('answers 401 and starts nothing for a missing, wrong, other-body or replayed signature', async function () {
      const before = await jobCount();
      const otherBody = JSON.stringify({ seconds: 0, message: 'other' });
      const wrongSecret = 'whsec_not-the-hooks-secret-0000000000';
      const attempts: Record<string, Record<string, string>> = {
        'no signature': {},
        'a wrong secret (GitHub)': { 'X-Hub-Signature-256': githubSignature(wrongSecret, body) },
        'a wrong secret (Stripe)': { 'Stripe-Signature': stripeSignature(wrongSecret, body) },
        'another body (GitHub)': { 'X-Hub-Signature-256': githubSignature(hook.secret, otherBody) },
        'another body (Stripe)': { 'Stripe-Signature': stripeSignature(hook.secret, otherBody) },
        'a replayed timestamp': { 'Stripe-Signature': stripeSignature(hook.secret, body, Date.now() - 6 * 60_000) },
        'a timestamp ahead': { 'Stripe-Signature': stripeSignature(hook.secret, body, Date.now() + 6 * 60_000) },
        'GitHub SHA-1 only': {
          'X-Hub-Signature': `sha1=${createHmac('sha1', hook.secret).update(body).digest('hex')}`,
        },
        'a malformed header': { 'X-Hub-Signature-256': 'sha256=zz' },
        'the signature as a bearer key': { authorization: `Bearer ${hook.secret}` },
      };
      for (const [what, headers] of Object.entries(attempts)) {
        const reply = await deliver(hook.hookId, body, { ...headers, 'Idempotency-Key': what.replaceAll(' ', '-') });
        assert.equal(reply.status, 401, `${what}: ${reply.text}`);
        assert.equal((JSON.parse(reply.text) as ErrorBody).error.code, 'unauthorized');
      }
      assert.equal(await jobCount(), before);
    });

    it('says a signature header was sent twice, where it answered "no signature"', async function () {
      const before = await jobCount();
      for (const [name, signature] of [
        ['Stripe-Signature', stripeSignature(hook.secret, body)],
        ['X-Hub-Signature-256', githubSignature(hook.secret, body)],
      ] as const) {
        const reply = await httpRequest(`${base}/api/v1/hooks/${hook.hookId}`, {
          method: 'POST',
          body,
          headers: { [name]: [signature, signature], 'Idempotency-Key': `twice-${name}` },
        });
        assert.equal(reply.status, 401, `${name}: ${reply.text}`);
        const { error } = JSON.parse(reply.text) as ErrorBody;
        assert.equal(error.code, 'unauthorized');
        assert.match(error.message, new RegExp(`^${name.toLowerCase()} was given 2 times; send it once \\(`));
      }
      assert.equal(await jobCount(), before);
    });

    it('answers 404 for an unknown hook, 409 for a disabled one, 413 and 415 as submits do', async function () {
      const unknown = `hk_${'A'.repeat(32)}`;
      const missing = await deliver(unknown, body, { 'X-Hub-Signature-256': githubSignature(hook.secret, body) });
      assert.equal(missing.status, 404, missing.text);

      const large = JSON.stringify({ seconds: 0, message: 'x'.repeat(bodyLimitBytes) });
      const tooLarge = await deliver(hook.hookId, large, {
        'X-Hub-Signature-256': githubSignature(hook.secret, large),
      });
      assert.equal(tooLarge.status, 413, tooLarge.text);

      const text = await httpRequest(`${base}/api/v1/hooks/${hook.hookId}`, {
        method: 'POST',
        body,
        contentType: 'text/plain',
        headers: { 'X-Hub-Signature-256': githubSignature(hook.secret, body) },
      });
      assert.equal(text.status, 415, text.text);
      assert.match(text.text, /application\/json, or as GitHub does/);

      // Nothing inflates a body (so no small body inflates past the limit): a compressed one, signed as sent, says so.
      const gzipped = gzipSync(body);
      for (const encoding of ['gzip', 'GZip', 'deflate, gzip']) {
        const compressed = await httpRequest(`${base}/api/v1/hooks/${hook.hookId}`, {
          method: 'POST',
          body: gzipped,
          headers: {
            'Content-Encoding': encoding,
            'X-Hub-Signature-256': `sha256=${createHmac('sha256', hook.secret).update(gzipped).digest('hex')}`,
          },
        });
        assert.equal(compressed.status, 415, `${encoding}: ${compressed.text}`);
        assert.match(compressed.text, /Content-Encoding .* is not supported; send the body uncompressed/);
        assert.equal(compressed.headers['accept-encoding'], 'identity');
      }

      service.apiKey = keys.acme;
      const disabled = await service.request<Hook>('PATCH', `/api/v1/hooks/${hook.hookId}`, { enabled: false });
      assert.equal(disabled.status, 200);
      assert.equal(disabled.body.enabled, false);
      const refused = await deliver(hook.hookId, body, { 'X-Hub-Signature-256': githubSignature(hook.secret, body) });
      assert.equal(refused.status, 409, refused.text);
      const enabled = await service.request<Hook>('PATCH', `/api/v1/hooks/${hook.hookId}`, { enabled: true });
      assert.equal(enabled.body.enabled, true);
      const accepted = await deliver(hook.hookId, body, { 'X-Hub-Signature-256': githubSignature(hook.secret, body) });
      assert.equal(accepted.status, 202, accepted.text);
    });

    it("answers 400 with the job type's reason for an input it refuses", async function () {
      const reply = await deliver(hook.hookId, '{"seconds":"soon"}', {
        'X-Hub-Signature-256': githubSignature(hook.secret, '{"seconds":"soon"}'),
      });
      assert.equal(reply.status, 400, reply.text);
      assert.match((JSON.parse(reply.text) as ErrorBody).error.message, /input\.seconds/);
    });
  });

  describe("a hook's tenant", function () {
    it('owns it: another tenant can neither read, change, list nor delete it, and no answer shows the secret', async function () {
      const hook = await createHook('acme', { type: 'sleep', description: 'deploys' });
      service.apiKey = keys.globex;
      assert.equal((await service.request('GET', `/api/v1/hooks/${hook.hookId}`)).status, 404);
      assert.equal((await service.request('PATCH', `/api/v1/hooks/${hook.hookId}`, { enabled: false })).status, 404);
      assert.equal((await service.request('DELETE', `/api/v1/hooks/${hook.hookId}`)).status, 404);
      const theirs = await service.request<{ hooks: Hook[] }>('GET', '/api/v1/hooks');
      assert.ok(!theirs.body.hooks.some((listed) => listed.hookId === hook.hookId));

      service.apiKey = keys.acme;
      const read = await service.request<Hook>('GET', `/api/v1/hooks/${hook.hookId}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.description, 'deploys');
      const listed = await service.request<{ hooks: Hook[] }>('GET', '/api/v1/hooks');
      assert.ok(listed.body.hooks.some((item) => item.hookId === hook.hookId));
      for (const answer of [read.body, ...listed.body.hooks]) {
        assert.ok(!('secret' in answer), 'no secret after creation');
        assert.ok(!JSON.stringify(answer).includes(hook.secret));
      }

      assert.equal((await service.request('DELETE', `/api/v1/hooks/${hook.hookId}`)).status, 204);
      assert.equal((await service.request('GET', `/api/v1/hooks/${hook.hookId}`)).status, 404);
      const body = '{"seconds":0}';
      const gone = await deliver(hook.hookId, body, { 'X-Hub-Signature-256': githubSignature(hook.secret, body) });
      assert.equal(gone.status, 404, 'a deleted hook takes no delivery (this API process forgets it at once)');
    });

    it("holds deliveries to the tenant's unfinished cap", async function () {
      const hook = await createHook('globex', { type: 'sleep' });
      const running: string[] = [];
      for (let i = 0; i < 3; i++) {
        const jobId = uniqueJobId('capped-by-hook');
        assert.equal((await service.submit({ type: 'sleep', input: { seconds: 60 }, jobId })).status, 202);
        running.push(jobId);
      }
      // The cap is counted by Temporal's visibility, which lags a submit by moments.
      await until(
        "the tenant's three jobs visible",
        () => service.countWorkflows(`JobTenant = 'globex' AND ExecutionStatus = 'Running'`),
        (count) => count === 3,
        10_000,
      );
      const body = '{"seconds":0}';
      const reply = await deliver(hook.hookId, body, { 'X-Hub-Signature-256': githubSignature(hook.secret, body) });
      assert.equal(reply.status, 429, reply.text);
      assert.equal(await service.countWorkflows(`JobTenant = 'globex'`), 3);
      for (const jobId of running) await service.cancel(jobId);
    });

    it("cannot take a delivery's job id first: a submit of a hook- id is a 400, and the delivery still starts its job", async function () {
      const hook = await createHook('acme', { type: 'sleep' });
      const body = '{"seconds":0}';
      const deliveryId = randomBytes(8).toString('hex');
      const taken = await service.request<ErrorBody>('POST', '/api/v1/jobs', {
        type: 'sleep',
        input: { seconds: 0 },
        jobId: deliveryJobId(hook.hookId, deliveryId),
      });
      assert.equal(taken.status, 400, JSON.stringify(taken.body));
      assert.match(taken.body.error.message, /jobId: must not start with "hook-"/);
      const delivered = await deliver(hook.hookId, body, {
        'X-Hub-Signature-256': githubSignature(hook.secret, body),
        'X-GitHub-Delivery': deliveryId,
      });
      assert.equal(delivered.status, 202, delivered.text);
    });

    it('refuses a hook of an unknown job type, saying which types there are', async function () {
      service.apiKey = keys.acme;
      const reply = await service.request<ErrorBody>('POST', '/api/v1/hooks', { type: 'slep' });
      assert.equal(reply.status, 400);
      assert.match(reply.body.error.message, /unknown job type "slep"; known: .*sleep/);
    });
  });

  describe("a hook's input mapping", function () {
    it('refuses a field the hook would drop in silence (__proto__), or a name that is no field name, saying what to send; no hook is made', async function () {
      service.apiKey = keys.acme;
      const hooksBefore = await service.request<{ hooks: unknown[] }>('GET', '/api/v1/hooks');
      const refusals: Array<[string, RegExp]> = [
        [
          '{"seconds":"/delay","__proto__":"/repository"}',
          /^inputFrom\.__proto__: is not a name an input field may take \(.*\): choose another$/,
        ],
        [
          '{"9lives":"/delay"}',
          /^inputFrom\.9lives: must be 1–64 characters of \[A-Za-z0-9_\], not starting with a digit$/,
        ],
      ];
      for (const [inputFrom, message] of refusals) {
        // As sent: an object literal would make `__proto__` its prototype, which JSON.stringify leaves out.
        const reply = await service.request<ErrorBody>(
          'POST',
          '/api/v1/hooks',
          `{"type":"sleep","inputFrom":${inputFrom}}`,
        );
        assert.equal(reply.status, 400, JSON.stringify(reply.body));
        assert.match(reply.body.error.message, message);
      }
      const hooksAfter = await service.request<{ hooks: unknown[] }>('GET', '/api/v1/hooks');
      assert.equal(hooksAfter.body.hooks.length, hooksBefore.body.hooks.length);
    });
  });

  describe('a delivery whose body is still arriving', function () {
    it('is refused when its hook is deleted or disabled before the body ends: a leaked secret stops at once', async function () {
      const body = JSON.stringify({ seconds: 0, message: 'slow' });
      const { hostname, port } = new URL(base);
      /** Sends a signed delivery's headers and the start of its body; `finish` sends the rest and reads the answer. */
      const startDelivery = (hook: CreatedHook, deliveryId: string) => {
        const req = request({
          host: hostname,
          port,
          path: `/api/v1/hooks/${hook.hookId}`,
          method: 'POST',
          agent: false,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'x-hub-signature-256': githubSignature(hook.secret, body),
            'idempotency-key': deliveryId,
          },
        });
        const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
          req.once('response', (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.once('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
          });
          req.once('error', reject);
        });
        req.write(body.slice(0, 5));
        return () => {
          req.end(body.slice(5));
          return answer;
        };
      };
      const deleted = await createHook('acme', { type: 'sleep' });
      const disabled = await createHook('acme', { type: 'sleep' });
      // Both known to this process's delivery cache, as a hook in use is.
      for (const hook of [deleted, disabled]) {
        const warm = await deliver(hook.hookId, body, { 'X-Hub-Signature-256': githubSignature(hook.secret, body) });
        assert.equal(warm.status, 202, warm.text);
      }
      const finishDeleted = startDelivery(deleted, 'slow-deleted');
      const finishDisabled = startDelivery(disabled, 'slow-disabled');
      // The server reads both deliveries' headers (and looks their hooks up) while their bodies are still due.
      await new Promise((resolve) => setTimeout(resolve, 300));
      service.apiKey = keys.acme;
      assert.equal((await service.request('DELETE', `/api/v1/hooks/${deleted.hookId}`)).status, 204);
      assert.equal(
        (await service.request('PATCH', `/api/v1/hooks/${disabled.hookId}`, { enabled: false })).status,
        200,
      );

      const afterDelete = await finishDeleted();
      assert.equal(afterDelete.status, 404, afterDelete.text);
      const afterDisable = await finishDisabled();
      assert.equal(afterDisable.status, 409, afterDisable.text);
      for (const [hook, deliveryId] of [
        [deleted, 'slow-deleted'],
        [disabled, 'slow-disabled'],
      ] as const) {
        const job = await service.request('GET', `/api/v1/jobs/${deliveryJobId(hook.hookId, deliveryId)}`);
        assert.equal(job.status, 404, `no job for the refused delivery to ${hook.hookId}`);
      }
    });
  });

  describe('another API process', function () {
    it('refuses a hook disabled, then deleted, through this one within 5 s (docs/api.md says so)', async function () {
      const { config } = service;
      const other = createApp({
        client: createLazyClient(config.temporalAddress, config.TEMPORAL_NAMESPACE, payloadCodecsFor(config)),
        config,
      });
      const server = other.koa.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      const otherBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const hook = await createHook('acme', { type: 'sleep' });
        const body = '{"seconds":0}';
        const signed = { 'X-Hub-Signature-256': githubSignature(hook.secret, body), 'Idempotency-Key': 'replicas' };
        const deliverThere = () =>
          httpRequest(`${otherBase}/api/v1/hooks/${hook.hookId}`, { method: 'POST', body, headers: signed });
        assert.equal((await deliverThere()).status, 202, 'the other process finds a hook just created');
        /** How long until the other process answers `status`, answering only `meanwhile` before. */
        const refusedWithin = async (status: number, meanwhile: readonly number[]): Promise<number> => {
          const started = Date.now();
          for (;;) {
            const reply = await deliverThere();
            if (reply.status === status) return Date.now() - started;
            assert.ok(meanwhile.includes(reply.status), reply.text);
            assert.ok(Date.now() - started < 8000, `still ${reply.status} after 8 s`);
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        };
        service.apiKey = keys.acme;
        assert.equal((await service.request('PATCH', `/api/v1/hooks/${hook.hookId}`, { enabled: false })).status, 200);
        const disabledAfter = await refusedWithin(409, [202]);
        assert.equal((await service.request('PATCH', `/api/v1/hooks/${hook.hookId}`, { enabled: true })).status, 200);
        assert.equal((await service.request('DELETE', `/api/v1/hooks/${hook.hookId}`)).status, 204);
        // Until it reads again, the other process may still hold the hook disabled.
        const deletedAfter = await refusedWithin(404, [202, 409]);
        // The bound, and the time a request takes on a busy machine.
        assert.ok(disabledAfter <= 6000 && deletedAfter <= 6000, `${disabledAfter} ms, ${deletedAfter} ms`);
      } finally {
        other.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }
    });
  });

  describe('the public path', function () {
    it('opens only POST /api/v1/hooks/<hookId>, spelled exactly: every other spelling or method needs a key', async function () {
      const hook = await createHook('acme', { type: 'sleep' });
      const body = '{"seconds":0}';
      const signed = { 'X-Hub-Signature-256': githubSignature(hook.secret, body) };
      const before = await jobCount();
      const spellings: Array<[method: string, rawPath: string]> = [
        ['POST', `/API/v1/hooks/${hook.hookId}`],
        ['POST', `/api/v1/Hooks/${hook.hookId}`],
        ['POST', `/api/v1/hooks/${hook.hookId}/`],
        ['POST', `/api/v1/hooks/${hook.hookId}/../../jobs`],
        ['POST', `/api/v1/hooks/${hook.hookId}%2F..%2F..%2Fjobs`],
        ['POST', `/api/v1/hooks/%68k_${hook.hookId.slice(3)}`],
        ['POST', `//api/v1/hooks/${hook.hookId}`],
        ['POST', `/api/v1/hooks/${hook.hookId}/x`],
        ['POST', '/api/v1/hooks'],
        ['POST', '/api/v1/hooks/x/../../jobs'],
        ['POST', '/api/v1/jobs'],
        ['GET', `/api/v1/hooks/${hook.hookId}`],
        ['PATCH', `/api/v1/hooks/${hook.hookId}`],
        ['DELETE', `/api/v1/hooks/${hook.hookId}`],
        ['PUT', `/api/v1/hooks/${hook.hookId}`],
        ['GET', '/api/v1/hooks'],
      ];
      for (const [method, rawPath] of spellings) {
        const reply = await httpRequest(`${base}/`, { method, body, rawPath, headers: signed });
        assert.equal(reply.status, 401, `${method} ${rawPath}: ${reply.text}`);
        assert.match(reply.headers['www-authenticate'] ?? '', /^Bearer/, `${method} ${rawPath} asks for a key`);
      }
      assert.equal(await jobCount(), before);
      service.apiKey = keys.acme;
      assert.equal((await service.request<Hook>('GET', `/api/v1/hooks/${hook.hookId}`)).body.enabled, true);
    });
  });
});

describe('Hooks kept in Temporal, encrypted', function () {
  let service: TestService;
  before(async function () {
    // The API open (docs/api.md's examples send no key), payloads encrypted as a deployment with a key has them.
    service = await TestService.start({
      workers: { normal: 2 },
      env: { PAYLOAD_ENCRYPTION_KEY: randomBytes(32).toString('base64') },
    });
  });
  after(async function () {
    await service.teardown();
  });

  it("docs/api.md's signed delivery example works pasted into bash with curl, jq and openssl (the docs test cannot run it: no openssl there)", async function () {
    const docs = fileURLToPath(new URL('../docs/api.md', import.meta.url));
    const example = extractShellExamples(await readFile(docs, 'utf8'), docs).find((block) =>
      block.code.includes('X-Hub-Signature-256: sha256=$SIGNATURE'),
    );
    assert.ok(example?.notRun, 'the example is in docs/api.md, marked not run');
    const dir = await mkdtemp(join(tmpdir(), 'hook-docs-'));
    try {
      const prelude = fileURLToPath(new URL('./support/doc-examples-prelude.sh', import.meta.url));
      const log = join(dir, 'curl.log');
      const { stdout } = await promisify(execFile)('bash', ['-c', `source ${prelude}\n${example.code}`], {
        cwd: dir,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: dir,
          API: service.baseUrl.replace('http://', ''),
          DOCS_EXAMPLE_DIR: dir,
          DOCS_CURL_LOG: log,
        },
        timeout: 30_000,
      });
      const calls = parseCurlLog(await readFile(log, 'utf8'));
      assert.deepEqual(unexpectedStatuses(calls), [], stdout);
      assert.deepEqual(
        calls.map((call) => call.status),
        [201, 202, 202, 200, 204],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keeps the secret out of clear text in the hook registry's history", async function () {
    const created = await service.request<CreatedHook>('POST', '/api/v1/hooks', { type: 'sleep' });
    assert.equal(created.status, 201);
    const prefix = service.config.JOBS_TASK_QUEUE_PREFIX;
    // The test environment's own client has no codec: it reads what Temporal stores.
    const history = await service.temporal.client.workflow.getHandle(hookRegistryWorkflowId(prefix)).fetchHistory();
    // Every string and byte array of the events, as text (the payloads' data are byte arrays).
    const texts: string[] = [];
    const walk = (value: unknown): void => {
      if (value instanceof Uint8Array) texts.push(Buffer.from(value).toString('latin1'));
      else if (typeof value === 'string') texts.push(value);
      else if (value && typeof value === 'object') for (const item of Object.values(value)) walk(item);
    };
    walk(history.events);
    const stored = texts.join('\n');
    assert.match(stored, /createHook/, 'the creations are in the history');
    assert.ok(!stored.includes(created.body.secret), 'no secret in clear text');
    assert.ok(!stored.includes('whsec_'), 'no secret of any hook in clear text');
  });

  describe("an API process's hooks, read or changed while it deletes them", function () {
    it('forget a hook deleted once a read or change of it was answered: the older answers do not bring it back', async function () {
      // The answers to a read and to a change are held once they have come, until the deletion is done: the order a
      // busy process may see them in.
      let answered = 0;
      let bothAnswered!: () => void;
      const answersHeld = new Promise<void>((resolve) => (bothAnswered = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const hold = async <T>(answer: T): Promise<T> => {
        if (++answered === 2) bothAnswered();
        await released;
        return answer;
      };
      const client = new Client({
        connection: service.temporal.connection,
        namespace: service.config.TEMPORAL_NAMESPACE,
        dataConverter: { payloadCodecs: service.payloadCodecs },
        interceptors: {
          workflow: [
            {
              async query(input, next) {
                const answer = await next(input);
                return input.queryType === hookQuery.name ? hold(answer) : answer;
              },
              async startUpdate(input, next) {
                const answer = await next(input);
                return input.updateName === setHookEnabledUpdate.name ? hold(answer) : answer;
              },
            },
          ],
        },
      });
      const hooks = new HookDirectory(client, service.config.JOBS_TASK_QUEUE_PREFIX);
      const hook = await hooks.create('acme', { type: 'sleep', priority: 'normal', enabled: true });
      const ref = { tenant: 'acme', hookId: hook.hookId };
      assert.equal((await hooks.forDelivery(hook.hookId))?.hookId, hook.hookId, 'known to deliveries');

      const read = hooks.get(ref);
      const disabled = hooks.setEnabled(ref, false);
      await answersHeld;
      await hooks.delete(ref);
      release();
      assert.equal((await read).hookId, hook.hookId, 'the read answers what it found');
      assert.equal((await disabled).enabled, false, 'the change answers what it did');
      assert.equal(await hooks.forDelivery(hook.hookId), null, 'deliveries find it deleted');
    });
  });

  it('continues as new past its history limit, carrying every hook', async function () {
    const client = new Client({
      connection: service.temporal.connection,
      namespace: service.config.TEMPORAL_NAMESPACE,
      dataConverter: { payloadCodecs: service.payloadCodecs },
    });
    const workflowId = `${hookRegistryWorkflowId(service.config.JOBS_TASK_QUEUE_PREFIX)}-continued`;
    const create = (hookId: string) =>
      client.workflow.executeUpdateWithStart(createHookUpdate, {
        args: [
          {
            hookId,
            tenant: 'acme',
            type: 'sleep',
            inputFrom: null,
            priority: 'normal',
            enabled: true,
            description: null,
            secret: `secret-of-${hookId}`,
          },
        ],
        startWorkflowOperation: new WithStartWorkflowOperation(hookRegistryWorkflow, {
          workflowId,
          taskQueue: registryTaskQueue(service.config.JOBS_TASK_QUEUE_PREFIX),
          workflowIdConflictPolicy: 'USE_EXISTING',
          args: [{ state: null, historyLimit: 20 }],
        }),
      });
    await create('hk_first');
    const firstRun = (await client.workflow.getHandle(workflowId).describe()).runId;
    const ids = ['hk_first'];
    for (let i = 0; i < 8; i++) {
      ids.push(`hk_${i}`);
      await create(`hk_${i}`);
    }
    const handle = client.workflow.getHandle(workflowId);
    assert.notEqual((await handle.describe()).runId, firstRun, 'a new run');
    const kept = await handle.query(hooksOfQuery, 'acme');
    assert.deepEqual(kept.map((hook) => hook.hookId).sort(), [...ids].sort());
    assert.equal((await handle.query(hookQuery, 'hk_first'))?.secret, 'secret-of-hk_first');
    await handle.terminate('test over');
  });
});
