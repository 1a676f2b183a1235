// How polls of unfinished jobs share reads of Temporal (src/api/polled-jobs.ts), on a clock the test moves.
import assert from 'node:assert/strict';
import { PolledJobReads, pollMaxAgeMs } from '../src/api/polled-jobs.js';
import type { JobStatus } from '../src/contract/job.js';
import type { JobState } from '../src/workflows/job-state.js';

function stateWith(status: JobStatus, percent: number): JobState {
  return { status, progress: { percent, message: null } } as JobState;
}

/** A read of Temporal the test ends by hand, counting how many began. */
class Reads {
  started = 0;
  private pending: { resolve: (state: JobState) => void; reject: (err: Error) => void }[] = [];

  read = (): Promise<JobState> => {
    this.started++;
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  };

  async answer(state: JobState): Promise<void> {
    for (const { resolve } of this.pending.splice(0)) resolve(state);
    await new Promise((resolve) => setImmediate(resolve));
  }

  async fail(err: Error): Promise<void> {
    for (const { reject } of this.pending.splice(0)) reject(err);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('Polls of an unfinished job share reads of Temporal', function () {
  let now: number;
  let polled: PolledJobReads;
  let reads: Reads;
  beforeEach(function () {
    now = 0;
    polled = new PolledJobReads(() => now);
    reads = new Reads();
  });

  it('makes the first poll wait for a read, and answers later ones with the latest read while the next one runs', async function () {
    const first = polled.poll('job', reads.read);
    await reads.answer(stateWith('running', 10));
    assert.equal((await first).progress?.percent, 10);

    now += 100;
    assert.equal((await polled.poll('job', reads.read)).progress?.percent, 10);
    assert.equal(reads.started, 2, 'the answered poll began the next read');
    await reads.answer(stateWith('running', 20));
    now += 100;
    assert.equal((await polled.poll('job', reads.read)).progress?.percent, 20);
  });

  it('runs one read at a time per job, however many polls arrive meanwhile', async function () {
    const polls = Array.from({ length: 50 }, () => polled.poll('job', reads.read));
    assert.equal(reads.started, 1);
    await reads.answer(stateWith('queued', 0));
    for (const state of await Promise.all(polls)) assert.equal(state.status, 'queued');
    await Promise.all(Array.from({ length: 50 }, () => polled.poll('job', reads.read)));
    assert.equal(reads.started, 2);
  });

  it(`never answers with a read older than ${pollMaxAgeMs} ms`, async function () {
    const first = polled.poll('job', reads.read);
    await reads.answer(stateWith('running', 10));
    await first;
    now += pollMaxAgeMs + 1;
    const late = polled.poll('job', reads.read);
    let answered = false;
    void late.then(() => (answered = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(answered, false, 'the poll waits for a new read');
    await reads.answer(stateWith('running', 90));
    assert.equal((await late).progress?.percent, 90);
  });

  it('keeps no finished state: the poll after one reads again', async function () {
    const first = polled.poll('job', reads.read);
    await reads.answer(stateWith('succeeded', 100));
    assert.equal((await first).status, 'succeeded');
    const next = polled.poll('job', reads.read);
    assert.equal(reads.started, 2);
    await reads.answer(stateWith('succeeded', 100));
    await next;
  });

  it('gives a failed read to the poll that waited for it, and reads anew for the next', async function () {
    const first = assert.rejects(polled.poll('job', reads.read), /unreachable/);
    await reads.fail(new Error('Temporal is unreachable'));
    await first;
    const next = polled.poll('job', reads.read);
    assert.equal(reads.started, 2);
    await reads.answer(stateWith('running', 5));
    assert.equal((await next).status, 'running');
  });

  it('reads anew after the job changed through this process', async function () {
    const first = polled.poll('job', reads.read);
    await reads.answer(stateWith('running', 50));
    await first;
    polled.forget('job');
    const next = polled.poll('job', reads.read);
    await reads.answer(stateWith('cancelled', 50));
    assert.equal((await next).status, 'cancelled');
  });
});
