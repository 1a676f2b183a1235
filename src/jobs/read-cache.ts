// The API process's memory of jobs' reads, on a clock of its own (a test moves it): the latest read of each polled
// job, for a second, and the final states of finished jobs. Only src/jobs/reads.ts uses them.
import type { JobState } from '../contract/job.js';

/** The oldest read of a job a poll is answered with. */
export const pollMaxAgeMs = 1_000;

/**
 * A poll answered with a read at least this old (plus up to half as much again, at random per read, so that the
 * reads of many jobs polled in step spread out rather than reach Temporal and the worker in bursts) also starts
 * the next one.
 */
export const pollRefreshAfterMs = 250;

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
 * plus one read old.
 */
export class PolledJobReads<Basis = never> {
  private readonly reads = new Map<string, Read<Basis>>();
  private readonly reading = new Map<string, Promise<JobState>>();

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly random: () => number = Math.random,
  ) {}

  /** The job's state: the latest read if it is recent enough (and a new read begins), else a new read. */
  async poll(workflowId: string, read: ReadJob<Basis>): Promise<JobState> {
    this.dropExpired();
    const latest = this.reads.get(workflowId);
    if (!latest) return this.reading.get(workflowId) ?? this.startRead(workflowId, read, undefined);
    if (this.now() >= latest.renewAt && !this.reading.has(workflowId)) {
      // Its failure is the next poll's to see: that one waits for a read of its own once the latest expires.
      this.startRead(workflowId, read, latest.taken).catch(() => undefined);
    }
    return latest.taken.state;
  }

  /** What this process just learned of the job (a submit, a cancel, a fresh read): a read taken now. */
  record(workflowId: string, state: JobState, basis?: Basis): void {
    this.dropExpired();
    // Kept in the order taken, so that the expired ones are at the front.
    this.reads.delete(workflowId);
    const at = this.now();
    this.reads.set(workflowId, {
      taken: basis === undefined ? { state } : { state, basis },
      at,
      renewAt: at + pollRefreshAfterMs * (1 + this.random() / 2),
    });
  }

  /**
   * With a `latest` read to answer polls meanwhile, the read begins once the current event-loop turn is done, so
   * that sending it never delays an answer.
   */
  private startRead(workflowId: string, read: ReadJob<Basis>, latest: JobRead<Basis> | undefined): Promise<JobState> {
    const began = this.now();
    const begun = latest
      ? new Promise<void>((resolve) => setImmediate(resolve)).then(() => read(latest))
      : read(undefined);
    const next = begun
      .then(({ state, basis }) => {
        // A change this process recorded meanwhile (a cancel) is newer than what this read saw.
        const current = this.reads.get(workflowId);
        if (!current || current.at <= began) this.record(workflowId, state, basis);
        return state;
      })
      .catch((err: unknown) => {
        this.reads.delete(workflowId);
        throw err;
      })
      .finally(() => this.reading.delete(workflowId));
    this.reading.set(workflowId, next);
    return next;
  }

  private dropExpired(): void {
    const oldest = this.now() - pollMaxAgeMs;
    for (const [workflowId, { at }] of this.reads) {
      if (at >= oldest) return;
      this.reads.delete(workflowId);
    }
  }
}

/** How long a job's latest finished state is served without asking Temporal (see `latest`). */
export const latestFinishedTtlMs = 5_000;

/**
 * The final states of finished jobs. By run id they never go stale (a run's end never changes); the oldest
 * are dropped past `capacity`. By workflow id they are kept for `latestFinishedTtlMs` only: a retry starts a
 * new run of the same workflow id, and an API process that did not take the retry learns of it that late.
 */
export class FinishedJobCache {
  private readonly byRun = new Map<string, JobState>();
  private readonly byWorkflow = new Map<string, { state: JobState; until: number }>();

  constructor(
    private readonly capacity = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(runId: string): JobState | undefined {
    return this.byRun.get(runId);
  }

  set(runId: string, workflowId: string, state: JobState): void {
    remember(this.byRun, runId, state, this.capacity);
    remember(this.byWorkflow, workflowId, { state, until: this.now() + latestFinishedTtlMs }, this.capacity);
  }

  /** The job's latest finished state, if it was read within the TTL. */
  latest(workflowId: string): JobState | undefined {
    const entry = this.byWorkflow.get(workflowId);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry.state;
    this.byWorkflow.delete(workflowId);
    return undefined;
  }

  /** This process started a new run of the workflow: its last finished state is no longer the job's. */
  forget(workflowId: string): void {
    this.byWorkflow.delete(workflowId);
  }
}

function remember<V>(map: Map<string, V>, key: string, value: V, capacity: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > capacity) map.delete(map.keys().next().value!);
}

/** The caches of one API process, on one clock: build them once (createApp), and every read shares them. */
export class ReadCaches<Basis = never> {
  readonly polled: PolledJobReads<Basis>;
  readonly finished: FinishedJobCache;

  constructor(options: { now?: () => number; random?: () => number; finishedCapacity?: number } = {}) {
    const now = options.now ?? (() => performance.now());
    this.polled = new PolledJobReads(now, options.random);
    this.finished = new FinishedJobCache(options.finishedCapacity, now);
  }
}
