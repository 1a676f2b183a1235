// The API process's memory of jobs' reads, on a clock of its own (a test moves it): the latest read of each polled
// job, for a second, and the final states of finished jobs, all within a byte budget (JOBS_READ_CACHE_BYTES). Only
// src/jobs/reads.ts uses them.
import type { JobAttempts } from '../contract/attempts.js';
import type { JobState } from '../contract/job.js';
import { jsonByteLength } from './json-bytes.js';
import type { RunLogs } from './logs.js';

/** The oldest read of a job a poll is answered with. */
export const pollMaxAgeMs = 1_000;

/**
 * A poll answered with a read at least this old (plus up to half as much again, at random per read, so that the
 * reads of many jobs polled in step spread out rather than reach Temporal and the worker in bursts) also starts
 * the next one.
 */
export const pollRefreshAfterMs = 250;

/** The read caches' byte budget unless JOBS_READ_CACHE_BYTES says otherwise. */
export const defaultReadCacheBytes = 32 * 1024 * 1024;

/**
 * A state over this many bytes (a big input or result) is a large entry: large entries share a quarter of a cache's
 * budget, so that a few jobs with half-megabyte inputs cannot push every small job's entry out.
 */
export const largeEntryBytes = 64 * 1024;

/** Reads in flight by key: one asked for while the same one runs shares it, and each is dropped once it settles. */
export class ReadsInFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  has(key: string): boolean {
    return this.running.has(key);
  }

  /** The read running for `key`, or the one `start` begins now. */
  share(key: string, start: () => Promise<T>): Promise<T> {
    const running = this.running.get(key);
    if (running) return running;
    const next = start().finally(() => this.running.delete(key));
    this.running.set(key, next);
    return next;
  }
}

/** What an entry costs beyond its state's JSON: the objects, the map's slot, the keys. */
const entryOverheadBytes = 512;

/**
 * Roughly what a job's state takes in this process's memory: the length of its JSON (V8 keeps most of a state's
 * strings a byte a character), plus a fixed allowance for the objects around it.
 */
export function stateBytes(state: JobState): number {
  return jsonByteLength(state, 'unescaped') + entryOverheadBytes;
}

/**
 * Values charged a size each, within a byte budget: a value over `largeEntryBytes` counts against a share of the
 * budget (`largeShare`, a quarter unless said otherwise), the others against the rest, and past either the oldest of
 * its kind go first. A value bigger than its whole share is not kept. `get` with `touch` makes an entry the newest
 * (least recently used goes first); without it entries stay in the order they were set.
 */
export class SizedEntries<V> {
  private readonly shares: readonly [Share<V>, Share<V>];

  constructor(budgetBytes: number, largeShare = 1 / 4) {
    const large = Math.floor(budgetBytes * largeShare);
    this.shares = [new Share(budgetBytes - large), new Share(large)];
  }

  get bytes(): number {
    return this.shares[0].bytes + this.shares[1].bytes;
  }

  get(key: string, touch = false): V | undefined {
    for (const share of this.shares) {
      const entry = share.entries.get(key);
      if (!entry) continue;
      if (touch) {
        share.entries.delete(key);
        share.entries.set(key, entry);
      }
      return entry.value;
    }
    return undefined;
  }

  has(key: string): boolean {
    return this.shares.some((share) => share.entries.has(key));
  }

  /** Keeps `value` as the newest entry, if it fits its share; false when it is not kept. */
  set(key: string, value: V, bytes: number): boolean {
    this.delete(key);
    const share = this.shares[bytes > largeEntryBytes ? 1 : 0];
    if (bytes > share.budget) return false;
    share.entries.set(key, { value, bytes });
    share.bytes += bytes;
    while (share.bytes > share.budget) share.deleteOldest();
    return true;
  }

  delete(key: string): void {
    for (const share of this.shares) share.delete(key);
  }

  /** Drops entries from the oldest on while `stale` says so, in each share. */
  dropOldestWhile(stale: (value: V) => boolean): void {
    for (const share of this.shares) {
      for (const [key, { value }] of share.entries) {
        if (!stale(value)) break;
        share.delete(key);
      }
    }
  }
}

class Share<V> {
  readonly entries = new Map<string, { readonly value: V; readonly bytes: number }>();
  bytes = 0;

  constructor(readonly budget: number) {}

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  deleteOldest(): void {
    const oldest = this.entries.keys().next();
    if (!oldest.done) this.delete(oldest.value);
  }
}

/** A read of a job: its state, and what the next read of the job may build on (`Basis`, opaque here). */
export interface JobRead<Basis> {
  readonly state: JobState;
  readonly basis?: Basis;
}

/** Reads a job, given the latest read of it this process has, if any. */
export type ReadJob<Basis> = (latest: JobRead<Basis> | undefined) => Promise<JobRead<Basis>>;

interface Read<Basis> {
  readonly taken: JobRead<Basis>;
  readonly at: number;
  /** When a poll answered with it starts the next read. */
  readonly renewAt: number;
}

/**
 * The latest read of each job, for `pollMaxAgeMs`. A poll is answered with it, and when it is `pollRefreshAfterMs`
 * old or so the poll starts the next read in the background, one at a time per job: a job is read at most about
 * four times a second however many clients poll it and however fast, and a poll waits for Temporal only when no
 * read of the job is under a second old. A client polling every 100 ms sees a state at most 375 ms
 * plus one read old. Reads are kept within `budgetBytes`: past it the oldest go first, and a job whose state is too
 * big to keep is read for each poll (polls that arrive during one read share it).
 */
export class PolledJobReads<Basis = never> {
  private readonly reads: SizedEntries<Read<Basis>>;
  private readonly reading = new ReadsInFlight<JobState>();

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly random: () => number = Math.random,
    budgetBytes = defaultReadCacheBytes / 4,
  ) {
    this.reads = new SizedEntries(budgetBytes);
  }

  /** The job's state: the latest read if it is recent enough (and a new read begins), else a new read. */
  async poll(workflowId: string, read: ReadJob<Basis>): Promise<JobState> {
    this.dropExpired();
    const latest = this.reads.get(workflowId);
    if (!latest) return this.startRead(workflowId, read, undefined);
    if (this.now() >= latest.renewAt && !this.reading.has(workflowId)) {
      // Its failure is the next poll's to see: that one waits for a read of its own once the latest expires.
      this.startRead(workflowId, read, latest.taken).catch(() => undefined);
    }
    return latest.taken.state;
  }

  /** What this process just learned of the job (a submit, a cancel, a fresh read): a read taken now. */
  record(workflowId: string, state: JobState, basis?: Basis): void {
    this.dropExpired();
    const at = this.now();
    // Kept in the order taken (set makes it the newest), so that the expired ones are at the front. A basis holds
    // the same state but for its progress, so the state's size is the entry's.
    this.reads.set(
      workflowId,
      {
        taken: basis === undefined ? { state } : { state, basis },
        at,
        renewAt: at + pollRefreshAfterMs * (1 + this.random() / 2),
      },
      stateBytes(state),
    );
  }

  /** The job is gone (deleted): its latest read is no answer any more. */
  forget(workflowId: string): void {
    this.reads.delete(workflowId);
  }

  /**
   * With a `latest` read to answer polls meanwhile, the read begins once the current event-loop turn is done, so
   * that sending it never delays an answer.
   */
  private startRead(workflowId: string, read: ReadJob<Basis>, latest: JobRead<Basis> | undefined): Promise<JobState> {
    return this.reading.share(workflowId, () => {
      const began = this.now();
      const begun = latest
        ? new Promise<void>((resolve) => setImmediate(resolve)).then(() => read(latest))
        : read(undefined);
      return begun
        .then(({ state, basis }) => {
          // A change this process recorded meanwhile (a cancel) is newer than what this read saw.
          const current = this.reads.get(workflowId);
          if (!current || current.at <= began) this.record(workflowId, state, basis);
          return state;
        })
        .catch((err: unknown) => {
          this.reads.delete(workflowId);
          throw err;
        });
    });
  }

  private dropExpired(): void {
    const oldest = this.now() - pollMaxAgeMs;
    this.reads.dropOldestWhile(({ at }) => at < oldest);
  }
}

/**
 * How long a finished job's state is answered as the job's latest before a poll also checks, in the background, that
 * its run is still the workflow id's latest (see `latest`).
 */
export const finishedRecheckMs = 5_000;

/** What an entry of the workflow-id index costs: the ids and the map's slot. */
const latestRunEntryBytes = 256;

/** A finished job's latest state as this process knows it: its run and whether that run is due a check. */
export interface LatestFinished {
  readonly runId: string;
  readonly state: JobState;
  /** Last confirmed as the job's latest run over `finishedRecheckMs` ago: a retry elsewhere may have started another. */
  readonly recheck: boolean;
}

/**
 * The final states of finished jobs, within `budgetBytes`, the least recently used dropped first. By run id they
 * never go stale (a run's end never changes), so they are kept as long as the budget allows. As the latest of a
 * workflow id they are answered as long as they are kept too, but a retry starts a new run of the same workflow id,
 * and an API process that did not take the retry learns of it only by asking: `latest` says when the run was last
 * confirmed over `finishedRecheckMs` ago, and the reader checks it in the background (one describe) while polls are
 * answered meanwhile. An eighth of the budget indexes workflow ids to their runs, and half of the rest holds the big
 * states (`largeEntryBytes`): with the default budget, twice a list page's bytes (`listPageBudgetBytes`). In a
 * quarter, a page of big jobs did not fit, so each of its reads pushed out another of the same page, and parallel
 * lists read every big job of their page about ten times (`pressure`: 248 reads of close events for 101 jobs).
 */
export class FinishedJobCache {
  private readonly byRun: SizedEntries<JobState>;
  /** Which run of each workflow id was read last, and when it was last confirmed as the job's latest. */
  private readonly byWorkflow: SizedEntries<{ readonly runId: string; readonly confirmedAt: number }>;
  /** The runs whose states are being read. */
  private readonly reading = new ReadsInFlight<JobState>();

  constructor(
    budgetBytes = (defaultReadCacheBytes * 3) / 4,
    private readonly now: () => number = () => performance.now(),
  ) {
    const indexBytes = Math.floor(budgetBytes / 8);
    this.byWorkflow = new SizedEntries(indexBytes);
    this.byRun = new SizedEntries(budgetBytes - indexBytes, 1 / 2);
  }

  get(runId: string): JobState | undefined {
    return this.byRun.get(runId, true);
  }

  set(runId: string, workflowId: string, state: JobState): void {
    this.byRun.set(runId, state, stateBytes(state));
    this.confirm(workflowId, runId);
  }

  /**
   * The run's state: kept, being read, or read now with `read` and kept. Reads of a run that arrive while it is being
   * read share that read: a state over the memo's budget is read from the run's history (≈ 1 MB with a 480 KB input),
   * and 20 parallel lists of the same big jobs each read every one, past the dev server's deadlines (issue 21).
   */
  read(runId: string, workflowId: string, read: () => Promise<JobState>): Promise<JobState> {
    const kept = this.get(runId);
    if (kept) return Promise.resolve(kept);
    return this.reading.share(runId, () =>
      read().then((state) => {
        this.set(runId, workflowId, state);
        return state;
      }),
    );
  }

  /** The job's latest finished state, while it is kept; `recheck` once it was confirmed over `finishedRecheckMs` ago. */
  latest(workflowId: string): LatestFinished | undefined {
    const entry = this.byWorkflow.get(workflowId, true);
    if (!entry) return undefined;
    const state = this.byRun.get(entry.runId, true);
    if (!state) {
      this.byWorkflow.delete(workflowId);
      return undefined;
    }
    return { runId: entry.runId, state, recheck: this.now() - entry.confirmedAt >= finishedRecheckMs };
  }

  /** Temporal said just now that `runId` is still the job's latest run. */
  confirm(workflowId: string, runId: string): void {
    this.byWorkflow.set(workflowId, { runId, confirmedAt: this.now() }, latestRunEntryBytes + workflowId.length);
  }

  /** A new run of the workflow started, or the job is gone: its last finished state is no longer the job's. */
  forget(workflowId: string): void {
    this.byWorkflow.delete(workflowId);
  }
}

/** What an answer kept with the length of the history it was read from costs beyond the answer's JSON. */
const runAnswerOverheadBytes = 512;

/**
 * Answers read from runs' histories (a job's attempts, its logs), the latest of each run within a byte budget, least
 * recently used first out. A history only grows: while a run's history is as long as when its answer was read, the
 * answer stands, whether the run is running or finished, so that a read costs a describe and no history. Reads of a
 * run that arrive while its history is being read share that read: N at once cost one. Only the reads in flight are
 * held besides the budget, and each is dropped when it settles.
 */
export class RunHistoryAnswers<T> {
  private readonly kept: SizedEntries<{ readonly historyLength: number; readonly answer: T }>;
  private readonly reading = new ReadsInFlight<T>();

  constructor(budgetBytes: number) {
    this.kept = new SizedEntries(budgetBytes);
  }

  /** The run's answer as of `historyLength` events: kept, being read, or read now with `read`. */
  answer(run: { readonly runId: string; readonly historyLength: number }, read: () => Promise<T>): Promise<T> {
    const kept = this.kept.get(run.runId, true);
    if (kept && kept.historyLength >= run.historyLength) return Promise.resolve(kept.answer);
    return this.reading.share(`${run.runId}@${run.historyLength}`, () =>
      read().then((answer) => {
        // A read of a longer history may have been kept meanwhile: it is the newer.
        const latest = this.kept.get(run.runId);
        if (!latest || latest.historyLength < run.historyLength) {
          const bytes = JSON.stringify(answer).length + runAnswerOverheadBytes;
          this.kept.set(run.runId, { historyLength: run.historyLength, answer }, bytes);
        }
        return answer;
      }),
    );
  }
}

/**
 * The caches of one API process, on one clock and one byte budget (a quarter for polled reads, which live a second,
 * a sixteenth for runs' attempts, an eighth for their logs, the rest for finished states): build them once (createApp), and every
 * read shares them.
 */
export class ReadCaches<Basis = never> {
  readonly polled: PolledJobReads<Basis>;
  readonly finished: FinishedJobCache;
  /** Runs' attempts (GET /api/v1/jobs/{jobId}/attempts) as their histories give them. */
  readonly attempts: RunHistoryAnswers<JobAttempts>;
  /** Runs' logs (GET /api/v1/jobs/{jobId}/logs) as their histories give them: up to 300 KiB an attempt, so an eighth. */
  readonly logs: RunHistoryAnswers<RunLogs>;

  constructor(options: { now?: () => number; random?: () => number; bytes?: number } = {}) {
    const now = options.now ?? (() => performance.now());
    const bytes = options.bytes ?? defaultReadCacheBytes;
    const polledBytes = Math.floor(bytes / 4);
    const attemptsBytes = Math.floor(bytes / 16);
    const logsBytes = Math.floor(bytes / 8);
    this.polled = new PolledJobReads(now, options.random, polledBytes);
    this.attempts = new RunHistoryAnswers(attemptsBytes);
    this.logs = new RunHistoryAnswers(logsBytes);
    this.finished = new FinishedJobCache(bytes - polledBytes - attemptsBytes - logsBytes, now);
  }

  /** The job was deleted: no poll is answered from what this process read of it. */
  forget(workflowId: string): void {
    this.polled.forget(workflowId);
    this.finished.forget(workflowId);
  }
}
