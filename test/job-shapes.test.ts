import assert from 'node:assert/strict';
import type { ErrorBody } from '../src/contract/errors.js';
import type { ChildResult } from '../src/contract/job.js';
import { TestService, uniqueJobId } from './support/service.js';
import { until } from './support/until.js';

describe('Parent jobs with children', function () {
  let service: TestService;
  before(async function () {
    service = await TestService.start();
  });
  after(async function () {
    await service.teardown();
  });

  /** The childResults the parent's handler was given, read from its attempt's input in the history. */
  async function childResultsGiven(jobId: string): Promise<ChildResult[] | undefined> {
    const history = await service.temporal.client.workflow.getHandle(jobId).fetchHistory();
    const scheduled = history.events?.find((event) => event.activityTaskScheduledEventAttributes);
    const payload = scheduled?.activityTaskScheduledEventAttributes?.input?.payloads?.[1];
    if (!payload?.data) return undefined;
    return (JSON.parse(Buffer.from(payload.data).toString('utf8')) as { childResults?: ChildResult[] }).childResults;
  }

  it("runs the children first, as real jobs, and gives the parent's handler their results by index", async function () {
    const jobId = uniqueJobId('parent');
    const ownChildId = uniqueJobId('named-child');
    const submitted = await service.submit({
      type: 'sleep',
      input: { seconds: 0 },
      jobId,
      children: [
        { type: 'sleep', input: { seconds: 0.5, message: 'first' } },
        { type: 'command', input: { command: 'echo-args', args: ['second'] }, jobId: ownChildId },
      ],
    });
    assert.equal(submitted.status, 202);
    assert.deepEqual(submitted.body.children, [
      { jobId: `${jobId}.0`, status: 'queued' },
      { jobId: ownChildId, status: 'queued' },
    ]);
    const child = await service.waitFor(`${jobId}.0`, ['succeeded']);
    assert.deepEqual(child.result, { sleptSeconds: 0.5, message: 'first' });
    const parent = await service.waitFor(jobId, ['succeeded']);
    assert.deepEqual(parent.children, [
      { jobId: `${jobId}.0`, status: 'succeeded' },
      { jobId: ownChildId, status: 'succeeded' },
    ]);
    assert.ok(Date.parse(parent.startedAt!) >= Date.parse(child.finishedAt!), 'the parent ran after its children');
    const given = await childResultsGiven(jobId);
    assert.equal(given?.length, 2);
    assert.deepEqual(given?.[0], {
      jobId: `${jobId}.0`,
      status: 'succeeded',
      result: { sleptSeconds: 0.5, message: 'first' },
      error: null,
    });
    assert.equal((given?.[1]?.result as { stdout: string }).stdout, 'second\ngreeting=\nhome=unset\n');
    const description = await service.temporal.client.workflow.getHandle(`${jobId}.0`).describe();
    assert.equal(description.parentExecution?.workflowId, jobId, 'the child shows under its parent in Temporal');
  });

  it("fails the parent with the first child's error and cancels the others under onChildFailure fail", async function () {
    const jobId = uniqueJobId('fail-fast');
    await service.submit({
      type: 'sleep',
      input: { seconds: 0 },
      jobId,
      children: [
        { type: 'sleep', input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' } },
        { type: 'sleep', input: { seconds: 60 } },
      ],
    });
    const parent = await service.waitFor(jobId, ['failed', 'succeeded'], 15_000);
    assert.equal(parent.status, 'failed');
    assert.equal(parent.error?.type, 'UnrecoverableError');
    assert.match(parent.error?.message ?? '', new RegExp(`child job ${jobId}\\.0 ended failed`));
    assert.equal(parent.attempt, 0, "the parent's handler never ran");
    const sibling = await service.waitFor(`${jobId}.1`, ['cancelled'], 10_000);
    assert.equal(sibling.status, 'cancelled');
  });

  it('runs the parent with the failures in childResults under onChildFailure continue', async function () {
    const jobId = uniqueJobId('continue');
    await service.submit({
      type: 'sleep',
      input: { seconds: 0 },
      jobId,
      onChildFailure: 'continue',
      children: [
        { type: 'sleep', input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' } },
        { type: 'sleep', input: { seconds: 0 } },
      ],
    });
    const parent = await service.waitFor(jobId, ['failed', 'succeeded'], 15_000);
    assert.equal(parent.status, 'succeeded');
    const given = await childResultsGiven(jobId);
    assert.deepEqual(
      given?.map((result) => result.status),
      ['failed', 'succeeded'],
    );
    assert.equal(given?.[0]?.error?.type, 'UnrecoverableError');
  });

  it('cancels unfinished children when the parent is cancelled, and starts none after', async function () {
    // Twelve: ten run at once, so two are still to start when the cancel comes.
    const jobId = uniqueJobId('cancel-parent');
    await service.submit({
      type: 'sleep',
      input: { seconds: 0 },
      jobId,
      children: Array.from({ length: 12 }, () => ({ type: 'sleep', input: { seconds: 60 } })),
    });
    // The test's workers have five normal slots for the ten: which five run is theirs to choose, so the cancel waits
    // for any one.
    const started = Array.from({ length: 10 }, (_, index) => `${jobId}.${index}`);
    await until(
      'one of the started children running',
      async () => Promise.all(started.map(async (childId) => (await service.getJob(childId)).body.status)),
      (statuses) => statuses.includes('running'),
    );
    await service.cancel(jobId);
    const parent = await service.waitFor(jobId, ['cancelled']);
    assert.deepEqual(
      parent.children?.map((child) => child.status),
      Array.from({ length: 12 }, () => 'cancelled'),
      'the parent ends once every child it started has, and shows the rest cancelled',
    );
    for (let index = 0; index < 10; index++)
      assert.equal((await service.waitFor(`${jobId}.${index}`, ['cancelled'])).status, 'cancelled');
    for (const index of [10, 11]) assert.equal((await service.getJob(`${jobId}.${index}`)).status, 404);
  });

  it("answers 409 when a child's id is taken, and starts nothing", async function () {
    const taken = uniqueJobId('taken');
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: taken }, '?wait=10');
    const jobId = uniqueJobId('clash');
    const response = await service.request<ErrorBody>('POST', '/api/v1/jobs', {
      type: 'sleep',
      input: { seconds: 0 },
      jobId,
      children: [{ type: 'sleep', input: { seconds: 0 }, jobId: taken }],
    });
    assert.equal(response.status, 409);
    assert.match(response.body.error.message, new RegExp(taken));
    assert.equal(await service.countWorkflows(`WorkflowId = '${jobId}'`), 0);
  });

  it('refuses children of children and a bad child with 400', async function () {
    const nested = await service.request<ErrorBody>('POST', '/api/v1/jobs', {
      type: 'sleep',
      input: { seconds: 0 },
      children: [{ type: 'sleep', input: { seconds: 0 }, children: [{ type: 'sleep' }] }],
    });
    assert.equal(nested.status, 400);
    const bad = await service.request<ErrorBody>('POST', '/api/v1/jobs', {
      type: 'sleep',
      input: { seconds: 0 },
      children: [{ type: 'sleep', input: { seconds: -1 } }],
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /^children\.0\./);
  });

  it('repeats an identical parent submit idempotently (200), children included', async function () {
    const jobId = uniqueJobId('repeat-parent');
    const body = { type: 'sleep', input: { seconds: 0 }, jobId, children: [{ type: 'sleep', input: { seconds: 0 } }] };
    assert.equal((await service.submit(body)).status, 202);
    await service.waitFor(jobId, ['succeeded']);
    const again = await service.submit(body);
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'succeeded');
  });
});
