// How polls of unfinished jobs share reads of Temporal, and how long finished states are kept (src/jobs/read-cache.ts),
// on a clock the test moves.
import assert from 'node:assert/strict';
import {
  FinishedJobCache,
  largeEntryBytes,
  finishedRecheckMs,
  PolledJobReads,
  pollMaxAgeMs,
  pollRefreshAfterMs,
  ReadCaches,
  RunHistoryAnswers,
  SizedEntries,
  stateBytes,
  type JobRead,
} from '../../src/jobs/read-cache.js';
import type { JobState, JobStatus } from '../../src/contract/job.js';
import { listPageBudgetBytes } from '../../src/jobs/list.js';

function stateWith(status: JobStatus, percent: number, inputBytes = 0): JobState {
  return { status, progress: { percent, message: null }, input: 'x'.repeat(inputBytes) } as JobState;
}

const KiB = 1024;

/** Lets the event loop run what the last turn scheduled (a background read begins after the answer). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A read of Temporal the test ends by hand, counting how many began and noting the latest read each was given. */
class Reads {
  started = 0;
  readonly given: (JobRead<string> | undefined)[] = [];
  private pending: { resolve: (read: JobRead<string>) => void; reject: (err: Error) => void }[] = [];

  read = (latest: JobRead<string> | undefined): Promise<JobRead<string>> => {
    this.started++;
    this.given.push(latest);
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  };

  /** `basis`: what the next read of the job may build on. */
  async answer(state: JobState, basis?: string): Promise<void> {
    for (const { resolve } of this.pending.splice(0)) resolve(basis === undefined ? { state } : { state, basis });
    await nextTurn();
  }

  async fail(err: Error): Promise<void> {
    for (const { reject } of this.pending.splice(0)) reject(err);
    await nextTurn();
  }
}

describe('Polls of a job share reads of Temporal', function () {
  let now: number;
  let polled: PolledJobReads<string>;
  let reads: Reads;
  beforeEach(function () {
    now = 0;
    polled = new PolledJobReads(
      () => now,
      () => 0,
    );
    reads = new Reads();
  });

  it(`makes the first poll wait for a read, answers later ones with the latest, and reads again once it is ${pollRefreshAfterMs} ms old`, async function () {
    const first = polled.poll('job', reads.read);
    await reads.answer(stateWith('running', 10));
    assert.equal((await first).progress?.percent, 10);

    now += pollRefreshAfterMs - 1;
    assert.equal((await polled.poll('job', reads.read)).progress?.percent, 10);
    await nextTurn();
    assert.equal(reads.started, 1, 'a recent read is not renewed');

    now += 1;
    assert.equal((await polled.poll('job', reads.read)).progress?.percent, 10);
    assert.equal(reads.started, 1, 'the next read begins after the answer');
    await nextTurn();
    assert.equal(reads.started, 2, 'the answered poll began the next read');
    await reads.answer(stateWith('running', 20));
    now += 10;
    assert.equal((await polled.poll('job', reads.read)).progress?.percent, 20);
  });

  it('gives each read the latest one, with what that read left for the next to build on', async function () {
    const first = polled.poll('job', reads.read);
    await reads.answer(stateWith('running', 10), 'history of 7 events');
    await first;
    assert.equal(reads.given[0], undefined, 'the first read has none: a poll waits for it');
    now += pollRefreshAfterMs;
    await polled.poll('job', reads.read);
    await nextTurn();
    assert.deepEqual(reads.given[1], { state: stateWith('running', 10), basis: 'history of 7 events' });
    await reads.answer(stateWith('running', 20));
    now += pollRefreshAfterMs;
    polled.record('job', stateWith('running', 30));
    now += pollRefreshAfterMs;
    await polled.poll('job', reads.read);
    await nextTurn();
    assert.deepEqual(
      reads.given[2],
      { state: stateWith('running', 30) },
      'a recorded state leaves nothing to build on',
    );
  });

  it(`renews reads taken together at random times between ${pollRefreshAfterMs} and ${pollRefreshAfterMs * 1.5} ms`, async function () {
    const late = new PolledJobReads<string>(
      () => now,
      () => 0.999,
    );
    const first = late.poll('job', reads.read);
    await reads.answer(stateWith('running', 10));
    await first;
    now += pollRefreshAfterMs * 1.49;
    await late.poll('job', reads.read);
    await nextTurn();
    assert.equal(reads.started, 1);
    now += pollRefreshAfterMs * 0.01;
    await late.poll('job', reads.read);
    await nextTurn();
    assert.equal(reads.started, 2);
  });

  it('runs one read at a time per job, however many polls arrive meanwhile', async function () {
    const polls = Array.from({ length: 50 }, () => polled.poll('job', reads.read));
    assert.equal(reads.started, 1);
    await reads.answer(stateWith('queued', 0));
    for (const state of await Promise.all(polls)) assert.equal(state.status, 'queued');
    now += pollRefreshAfterMs;
    await Promise.all(Array.from({ length: 50 }, () => polled.poll('job', reads.read)));
    await nextTurn();
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
    await nextTurn();
    assert.equal(answered, false, 'the poll waits for a new read');
    await reads.answer(stateWith('running', 90));
    assert.equal((await late).progress?.percent, 90);
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

  it('answers with what this process just did to the job (a submit, a cancel) as a read taken then', async function () {
    const first = polled.poll('job', reads.read);
    await reads.answer(stateWith('running', 50));
    await first;
    now += pollRefreshAfterMs;
    assert.equal((await polled.poll('job', reads.read)).status, 'running');
    await nextTurn();
    now += 10;
    polled.record('job', stateWith('cancelled', 50));
    await reads.answer(stateWith('running', 60));
    now += 10;
    assert.equal(
      (await polled.poll('job', reads.read)).status,
      'cancelled',
      'the read begun before the cancel does not replace it',
    );
  });
});

describe('Finished jobs’ final states are kept', function () {
  let now: number;
  let caches: ReadCaches<string>;
  beforeEach(function () {
    now = 0;
    caches = new ReadCaches<string>({ now: () => now });
  });

  it('by workflow id as long as kept, due a check of its run every ' + `${finishedRecheckMs} ms`, function () {
    caches.finished.set('run-1', 'job', stateWith('failed', 0));
    now += finishedRecheckMs - 1;
    assert.deepEqual(
      { ...caches.finished.latest('job'), state: undefined },
      { runId: 'run-1', state: undefined, recheck: false },
    );
    now += 1;
    assert.equal(caches.finished.latest('job')?.state.status, 'failed', 'still answered while its run is checked');
    assert.equal(caches.finished.latest('job')?.recheck, true);
    caches.finished.confirm('job', 'run-1');
    assert.equal(caches.finished.latest('job')?.recheck, false, 'confirmed: answered for another while');
    assert.equal(caches.finished.get('run-1')?.status, 'failed', 'a run’s end never changes: kept by run id');
  });

  it('for no poll once the job is deleted', async function () {
    caches.finished.set('run-1', 'job', stateWith('succeeded', 0));
    caches.polled.record('job', stateWith('succeeded', 0));
    caches.forget('job');
    assert.equal(caches.finished.latest('job'), undefined);
    const read = await caches.polled.poll('job', () => Promise.resolve({ state: stateWith('running', 5) }));
    assert.equal(read.status, 'running', 'the next poll reads the job afresh');
  });

  it('not as the latest once this process starts a new run of the job', function () {
    caches.finished.set('run-1', 'job', stateWith('failed', 0));
    caches.finished.forget('job');
    assert.equal(caches.finished.latest('job'), undefined);
    assert.equal(caches.finished.get('run-1')?.status, 'failed');
  });

  it('by run id within the byte budget, dropping the least recently used first', function () {
    // 480 KiB: 60 KiB index the workflow ids, 210 KiB for states up to 64 KiB, 210 KiB for bigger ones.
    const finished = new FinishedJobCache(480 * KiB, () => now);
    for (let run = 1; run <= 6; run++) finished.set(`run-${run}`, `job-${run}`, stateWith('succeeded', 100, 50 * KiB));
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((run) => finished.get(`run-${run}`) !== undefined),
      [false, false, true, true, true, true],
      'four of 50 KiB fit in 210 KiB',
    );
    finished.get('run-3');
    finished.set('run-7', 'job-7', stateWith('succeeded', 100, 50 * KiB));
    assert.equal(finished.get('run-3')?.status, 'succeeded', 'a state just read is kept');
    assert.equal(finished.get('run-4'), undefined, 'the least recently used went');
    assert.equal(finished.latest('job-4'), undefined, 'as the latest of its job too');
  });

  it('states with big inputs or results in half of the budget, so they never push small ones out', function () {
    const finished = new FinishedJobCache(1024 * KiB, () => now);
    for (let run = 0; run < 100; run++) finished.set(`small-${run}`, `small-${run}`, stateWith('succeeded', 100));
    for (let run = 0; run < 20; run++) finished.set(`big-${run}`, `big-${run}`, stateWith('succeeded', 100, 100 * KiB));
    assert.ok(
      Array.from({ length: 100 }, (_, run) => finished.get(`small-${run}`)).every(Boolean),
      'every small state is kept',
    );
    const bigKept = Array.from({ length: 20 }, (_, run) => finished.get(`big-${run}`)).filter(Boolean).length;
    assert.equal(bigKept, 4, 'four of ≈ 100 KiB fit in 448 KiB');
    assert.ok(stateBytes(stateWith('succeeded', 100, 100 * KiB)) > largeEntryBytes);
  });

  it('a whole list page of big jobs with the default budget, so that lists of the same page read each job once', function () {
    const big = stateWith('succeeded', 100, 480 * KiB);
    // A page stops after the job that takes it past its budget.
    const pageJobs = Math.ceil(listPageBudgetBytes / stateBytes(big)) + 1;
    for (let run = 0; run < pageJobs; run++) caches.finished.set(`run-${run}`, `job-${run}`, big);
    const kept = Array.from({ length: pageJobs }, (_, run) => caches.finished.get(`run-${run}`)).filter(Boolean);
    assert.equal(kept.length, pageJobs, `${kept.length} of a page's ${pageJobs} big jobs kept`);
  });

  it('not at all when one state is bigger than its share: its memory goes with the response', function () {
    const finished = new FinishedJobCache(1024 * KiB, () => now);
    finished.set('run-1', 'job', stateWith('succeeded', 100, 480 * KiB));
    assert.equal(finished.get('run-1'), undefined);
    assert.equal(finished.latest('job'), undefined);
  });

  it('read once for all who ask while it is being read, kept or not', async function () {
    const finished = new FinishedJobCache(1024 * KiB, () => now);
    for (const inputBytes of [0, 480 * KiB]) {
      const runId = `run-${inputBytes}`;
      let started = 0;
      let answer!: (state: JobState) => void;
      const read = (): Promise<JobState> => {
        started++;
        return new Promise((resolve) => (answer = resolve));
      };
      const together = Promise.all(Array.from({ length: 20 }, () => finished.read(runId, 'job', read)));
      answer(stateWith('succeeded', 100, inputBytes));
      assert.deepEqual(
        (await together).map((state) => String(state.input).length),
        Array(20).fill(inputBytes),
      );
      assert.equal(started, 1, `20 reads of a run at once (${inputBytes} bytes of input) cost one`);
      const again = finished.read(runId, 'job', read);
      answer(stateWith('succeeded', 100, inputBytes)); // ends the read again, if one began
      await again;
      assert.equal(started, inputBytes === 0 ? 1 : 2, 'a kept state is not read again; one too big to keep is');
    }
  });

  it('on the same clock as the polled reads', async function () {
    const reads = new Reads();
    const first = caches.polled.poll('job', reads.read);
    await reads.answer(stateWith('running', 10));
    await first;
    now += pollMaxAgeMs + 1;
    void caches.polled.poll('job', reads.read).catch(() => undefined);
    assert.equal(reads.started, 2, 'a read older than the bound is not answered with');
  });
});

describe('The read caches stay within their byte budget', function () {
  it('counts each entry by its size, and drops the oldest of its kind past its share', function () {
    const entries = new SizedEntries<string>(400 * KiB);
    for (let i = 0; i < 10; i++) entries.set(`small-${i}`, 'value', 60 * KiB);
    assert.ok(entries.bytes <= 300 * KiB, `${entries.bytes} bytes kept of a 300 KiB share`);
    assert.equal(entries.get('small-0'), undefined);
    assert.equal(entries.get('small-9'), 'value');
    assert.equal(entries.set('big', 'value', 90 * KiB), true, 'a large entry fits its 100 KiB share');
    assert.equal(entries.set('bigger', 'value', 101 * KiB), false, 'one bigger than its share is not kept');
    assert.equal(entries.get('big'), 'value');
    entries.delete('big');
    assert.equal(entries.has('big'), false);
  });

  it('keeps polled reads within theirs, on the fake clock, and expires them after a second', async function () {
    let now = 0;
    const polled = new PolledJobReads<string>(
      () => now,
      () => 0,
      400 * KiB,
    );
    for (let job = 0; job < 20; job++) polled.record(`job-${job}`, stateWith('running', job, 40 * KiB));
    const reads = new Reads();
    const kept = Array.from({ length: 20 }, (_, job) => `job-${job}`).filter((job) => {
      const before = reads.started;
      void polled.poll(job, reads.read).catch(() => undefined);
      return reads.started === before;
    });
    assert.deepEqual(
      kept,
      ['job-13', 'job-14', 'job-15', 'job-16', 'job-17', 'job-18', 'job-19'],
      '7 of 40 KiB in 300 KiB',
    );
    await reads.fail(new Error('not asked'));
    now += pollMaxAgeMs + 1;
    const started = reads.started;
    void polled.poll('job-19', reads.read).catch(() => undefined);
    assert.equal(reads.started, started + 1, 'an expired read is not answered with');
    await reads.fail(new Error('not asked'));
  });

  it('reads a job too big to keep for each poll, one read shared by the polls that arrive during it', async function () {
    const polled = new PolledJobReads<string>(
      () => 0,
      () => 0,
      400 * KiB,
    );
    const reads = new Reads();
    const polls = Array.from({ length: 10 }, () => polled.poll('big', reads.read));
    assert.equal(reads.started, 1);
    await reads.answer(stateWith('running', 10, 480 * KiB));
    for (const state of await Promise.all(polls)) assert.equal(state.progress?.percent, 10);
    const next = polled.poll('big', reads.read);
    assert.equal(reads.started, 2, 'not kept: the next poll reads again');
    await reads.answer(stateWith('running', 20, 480 * KiB));
    assert.equal((await next).progress?.percent, 20);
  });

  it('splits one budget between polled reads (a quarter) and finished states', function () {
    const caches = new ReadCaches<string>({ bytes: 4 * 1024 * KiB });
    // The finished share is 2.25 MiB (a sixteenth goes to attempts, an eighth to logs), its big states' part 1008 KiB:
    // two states of 480 KiB fit, three do not.
    for (const run of [1, 2, 3])
      caches.finished.set(`run-${run}`, `job-${run}`, stateWith('succeeded', 100, 480 * KiB));
    assert.equal(caches.finished.get('run-1'), undefined);
    assert.equal(caches.finished.get('run-2')?.status, 'succeeded');
    assert.equal(caches.finished.get('run-3')?.status, 'succeeded');
  });
});

describe("Reads of a run's history are shared", function () {
  /** A history read the test ends by hand, counting how many began. */
  function historyReads() {
    const pending: ((answer: string) => void)[] = [];
    let started = 0;
    return {
      get started() {
        return started;
      },
      read: (): Promise<string> => {
        started++;
        return new Promise((resolve) => pending.push(resolve));
      },
      answer: async (answer: string): Promise<void> => {
        for (const resolve of pending.splice(0)) resolve(answer);
        await nextTurn();
      },
    };
  }

  it('N reads of a run at once cost one history read, and its answer stands while the history keeps its length', async function () {
    const answers = new RunHistoryAnswers<string>(64 * KiB);
    const reads = historyReads();
    const run = { runId: 'r1', historyLength: 11 };
    const together = Promise.all(Array.from({ length: 8 }, () => answers.answer(run, reads.read)));
    await reads.answer('as of 11');
    assert.deepEqual(await together, Array(8).fill('as of 11'));
    assert.equal(reads.started, 1);
    assert.equal(await answers.answer(run, reads.read), 'as of 11');
    assert.equal(reads.started, 1, 'no read while the history has the same length');

    const grown = answers.answer({ runId: 'r1', historyLength: 14 }, reads.read);
    await reads.answer('as of 14');
    assert.equal(await grown, 'as of 14');
    assert.equal(reads.started, 2, 'a longer history is read again');
    assert.equal(await answers.answer(run, reads.read), 'as of 14', 'a describe from before it gets the newer answer');
  });

  it('keeps answers within its budget and a failed read for nobody', async function () {
    const answers = new RunHistoryAnswers<string>(8 * KiB);
    const reads = historyReads();
    for (let run = 0; run < 10; run++) {
      const answered = answers.answer({ runId: `r${run}`, historyLength: 5 }, reads.read);
      await reads.answer('x'.repeat(KiB));
      await answered;
    }
    assert.equal(reads.started, 10);
    await answers.answer({ runId: 'r9', historyLength: 5 }, reads.read);
    assert.equal(reads.started, 10, 'the newest is kept');
    const oldest = answers.answer({ runId: 'r0', historyLength: 5 }, reads.read);
    assert.equal(reads.started, 11, 'the oldest was dropped for the budget');
    await reads.answer('again');
    await oldest;

    let failures = 0;
    const failing = () => {
      failures++;
      return Promise.reject(new Error('Temporal unreachable'));
    };
    await assert.rejects(answers.answer({ runId: 'f', historyLength: 3 }, failing), /unreachable/);
    await assert.rejects(answers.answer({ runId: 'f', historyLength: 3 }, failing), /unreachable/);
    assert.equal(failures, 2, 'a failed read is not kept');
  });
});
