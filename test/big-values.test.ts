// A job whose input or result is big (over 64 KiB of JSON) is read from Temporal without being parsed whole, its big
// fields kept as their JSON text (src/jobs/shown-json.ts, issue 21). Whatever the job's state and however it is read,
// its JSON is the same as a small job's would be: every field as submitted, a command's env values redacted.
import assert from 'node:assert/strict';
import type { ErrorBody } from '../src/contract/errors.js';
import type { Job } from '../src/contract/job.js';
import { redacted } from '../src/contract/job-json.js';
import { shownJsonHoldBytes } from '../src/jobs/shown-json.js';
import { TestService, uniqueJobId } from './support/service.js';

/** Command arguments that make an input over the size read off the event loop: 32,000 characters each (the most). */
function bigArgs(...letters: string[]): string[] {
  const args = letters.map((letter) => letter.repeat(32_000));
  assert.ok(JSON.stringify(args).length > shownJsonHoldBytes);
  return args;
}

describe('A job with a big input or result', function () {
  this.timeout(60_000);
  let service: TestService;
  before(async function () {
    // Room for a body over Temporal's 2 MiB payload limit (the default, 1 MiB, is under it).
    service = await TestService.start({ env: { BODY_LIMIT_BYTES: String(4 * 1024 * 1024) } });
  });
  after(async function () {
    await service?.teardown();
  });

  /** The job as the list shows it (input and result included, the default). */
  async function listed(jobId: string): Promise<Job | undefined> {
    const page = await service.request<{ jobs: Job[] }>('GET', '/api/v1/jobs?limit=20');
    return page.body.jobs.find((job) => job.jobId === jobId);
  }

  /** The first `job` event of the job's event stream, and the stream's whole text. */
  async function firstEvent(jobId: string): Promise<{ job: Job; text: string }> {
    const controller = new AbortController();
    const response = await fetch(`${service.baseUrl}/api/v1/jobs/${jobId}/events`, { signal: controller.signal });
    const decoder = new TextDecoder();
    let text = '';
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
        const data = /^event: job\ndata: (.*)\n\n/m.exec(text)?.[1];
        if (data !== undefined) return { job: JSON.parse(data) as Job, text };
      }
    } finally {
      controller.abort();
    }
    assert.fail(`the stream ended without a job event: ${text.slice(0, 200)}`);
  }

  it("refuses with 413 a parent whose request with its children's inputs is over Temporal's payload limit", async function () {
    // Five inputs of 480 KB, each under the 512 KiB limit: 2.4 MB together in the parent's request, which Temporal
    // refused ("Blob data size exceeds limit"), and the API answered 500.
    const input = {
      command: 'chatter',
      args: bigArgs(...Array.from({ length: 15 }, (_, i) => String.fromCharCode(97 + i))),
    };
    const jobId = uniqueJobId('big-parent');
    const response = await service.request<ErrorBody>('POST', '/api/v1/jobs', {
      type: 'command',
      jobId,
      input,
      children: [1, 2, 3, 4].map(() => ({ type: 'command', input })),
    });
    assert.equal(response.status, 413, JSON.stringify(response.body));
    assert.equal(response.body.error.code, 'payload_too_large');
    assert.match(response.body.error.message, /children/);
    assert.equal((await service.request('GET', `/api/v1/jobs/${jobId}`)).status, 404);
  });

  it('reads back as submitted once finished, with a big result: poll, list and event stream alike', async function () {
    const jobId = uniqueJobId('big-done');
    // chatter prints 100,000 bytes on stdout and on stderr, of which the result keeps 64 KiB each.
    const input = { command: 'chatter', args: bigArgs('a', 'b', 'c') };
    const submitted = await service.submit({ type: 'command', jobId, input }, '?wait=20');
    assert.equal(submitted.body.status, 'succeeded', JSON.stringify(submitted.body.error));
    // Past the answer kept from the submit: a later poll reads the close event (the state is too big for the memo).
    const finished = await service.waitFor(jobId, (job) => job.status === 'succeeded');
    assert.deepEqual(finished.input, input);
    const result = finished.result as { stdout: string; stderr: string };
    assert.ok(JSON.stringify(result).length > shownJsonHoldBytes);
    assert.match(result.stdout, /^o{65000,}$/);
    assert.match(result.stderr, /^e{65000,}$/);

    assert.deepEqual(await listed(jobId), finished);
    assert.deepEqual((await firstEvent(jobId)).job, finished);
    // The wait's answer is the close event's state as every read shows it.
    assert.deepEqual(submitted.body, finished);
  });

  it("keeps a failed command's env values out of every answer", async function () {
    const jobId = uniqueJobId('big-failed');
    const secret = `secret-${Date.now()}`;
    const input = {
      command: 'echo-secret',
      args: ['3', ...bigArgs('d', 'e', 'f')],
      env: { SECRET: secret, SHORT: 'x' },
    };
    const waited = await fetch(`${service.baseUrl}/api/v1/jobs?wait=20`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'command', jobId, input, retry: { maxAttempts: 1 } }),
    });
    const submitText = await waited.text();
    const submitted = JSON.parse(submitText) as Job;
    assert.equal(submitted.status, 'failed', submitText.slice(0, 300));
    const failed = await service.waitFor(jobId, ['failed']);
    assert.deepEqual(failed.input, { ...input, env: { SECRET: redacted, SHORT: redacted } });
    assert.ok(failed.error, 'a failed job says why');

    assert.deepEqual(submitted, failed);
    const answers = {
      submit: submitText,
      poll: await (await fetch(`${service.baseUrl}/api/v1/jobs/${jobId}`)).text(),
      list: await (await fetch(`${service.baseUrl}/api/v1/jobs?limit=20`)).text(),
      events: (await firstEvent(jobId)).text,
    };
    for (const [read, text] of Object.entries(answers))
      assert.ok(!text.includes(secret), `the secret is in the ${read}`);
    assert.deepEqual(await listed(jobId), failed);
  });

  it('reads back as submitted while queued behind a delay and while running', async function () {
    const delayed = uniqueJobId('big-delayed');
    const args = bigArgs('g', 'h', 'i');
    const input = { command: 'echo-secret', args: ['0', ...args], env: { SECRET: 'delayed', SHORT: 'y' } };
    const shownInput = { ...input, env: { SECRET: redacted, SHORT: redacted } };
    assert.equal((await service.submit({ type: 'command', jobId: delayed, input, delaySeconds: 600 })).status, 202);
    // Past the state the submit kept: read from the run's first history event.
    const queued = await service.waitFor(delayed, ['queued'], 5_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const reread = (await service.getJob(delayed)).body;
    assert.equal(reread.status, 'queued');
    assert.deepEqual(reread.input, shownInput);
    assert.deepEqual(queued.input, shownInput);

    const running = uniqueJobId('big-running');
    const waitInput = { command: 'wait-forever', args: bigArgs('j', 'k', 'l'), env: { PID_FILE: '/dev/null' } };
    await service.submit({ type: 'command', jobId: running, input: waitInput });
    // The workflow's query answers a running job's state.
    const seen = await service.waitFor(running, ['running']);
    assert.deepEqual(seen.input, { ...waitInput, env: { PID_FILE: redacted } });
    assert.deepEqual((await firstEvent(running)).job.input, seen.input);
    assert.equal((await service.cancel(running)).status, 202);
    assert.equal((await service.cancel(delayed)).status, 202);
  });
});
