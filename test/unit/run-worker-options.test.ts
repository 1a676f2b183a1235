// runWorker's options, checked before it connects: what the job type registry would refuse fails the start.
import assert from 'node:assert/strict';
import { z } from 'zod';
import { defineJobType, runWorker, WorkerOptionsInvalidError } from '../../packages/worker/src/index.js';

const jobType = (name: string) =>
  defineJobType({ name, description: 'Does nothing.', input: z.object({}), run: () => Promise.resolve(null) });

/** Nothing listens here: a worker that got as far as connecting would fail otherwise. */
const nowhere = { address: '127.0.0.1:1' };

describe('A handler worker whose declaration the registry would refuse does not start', function () {
  it('refuses a lease outside 2–300 s', async function () {
    for (const leaseSeconds of [1, 301, 2.5])
      await assert.rejects(
        runWorker({ jobTypes: [jobType('idle')], queues: { normal: 1 }, leaseSeconds, temporal: nowhere }),
        (err: unknown) => err instanceof WorkerOptionsInvalidError && /leaseSeconds/.test(err.message),
        `a lease of ${leaseSeconds} s`,
      );
  });

  it('refuses more than 100 job types in one process', async function () {
    const jobTypes = Array.from({ length: 101 }, (_, index) => jobType(`idle-${index}`));
    await assert.rejects(
      runWorker({ jobTypes, queues: { normal: 1 }, temporal: nowhere }),
      (err: unknown) => err instanceof WorkerOptionsInvalidError && /jobTypes/.test(err.message),
    );
  });

  it('refuses job types over 1 MiB of JSON in all, though each schema is under 64 KiB', async function () {
    // 100 types of 60 KiB input schemas: 6 MB, which Temporal refuses in a way that held the registry up (its refusal
    // of the update echoes the request, past Temporal's 2 MiB) for as long as the worker tried.
    const jobTypes = Array.from({ length: 100 }, (_, index) =>
      defineJobType({
        name: `bulky-${index}`,
        description: 'Does nothing.',
        input: { type: 'object', description: 'x'.repeat(60 * 1024) },
        run: () => Promise.resolve(null),
      }),
    );
    await assert.rejects(
      runWorker({ jobTypes, queues: { normal: 1 }, temporal: nowhere }),
      (err: unknown) =>
        err instanceof WorkerOptionsInvalidError &&
        /at most 1024 KiB as JSON.*fewer types.*jobTypes/s.test(err.message),
    );
  });
});
