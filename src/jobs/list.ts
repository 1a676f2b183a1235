// A tenant's jobs, a page at a time, from Temporal's visibility: filters become a visibility query, pages a cursor.
// The public list iterator hides page tokens, which an opaque REST cursor needs; this decodes a raw page.
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers.js';
import type { WorkflowService } from '@temporalio/client';
import proto from '@temporalio/proto';
import { JobStatus, type JobPriority, type JobState } from '../contract/job.js';
import type { JobCounts } from '../contract/job-list.js';
import {
  JobPriorityKey,
  JobStatusKey,
  JobTagsKey,
  JobTenantKey,
  JobTypeKey,
  visibilityLiteral,
} from '../workflows/search-attributes.js';
import type { ListCursors } from './cursor.js';
import { stateBytes } from './read-cache.js';
import type { TemporalReachability } from './reachability.js';
import type { JobReads, ListedRow } from './reads.js';
import type { WorkflowReads } from './workflow-reads.js';

const { WorkflowExecutionStatus } = proto.temporal.api.enums.v1;

export interface JobListFilter {
  readonly status?: JobStatus;
  readonly type?: string;
  readonly priority?: JobPriority;
  /** Jobs carrying every one of these tags. */
  readonly tag?: readonly string[];
  readonly limit: number;
  readonly cursor?: string;
  /** `input,result`, either or empty: the big fields each item carries; undefined: both. */
  readonly include?: string;
}

/** What the counts and a list's total take: the list's filters. */
export type JobCountFilter = Omit<JobListFilter, 'limit' | 'cursor' | 'include'>;

/** The visibility query of a tenant's jobs under the filter. */
export function jobListQuery(tenant: string, filter: Omit<JobListFilter, 'limit' | 'cursor' | 'include'>): string {
  const clauses = [`WorkflowType = 'jobWorkflow'`, `${JobTenantKey.name} = ${visibilityLiteral(tenant)}`];
  if (filter.status) clauses.push(`${JobStatusKey.name} = ${visibilityLiteral(filter.status)}`);
  if (filter.type) clauses.push(`${JobTypeKey.name} = ${visibilityLiteral(filter.type)}`);
  if (filter.priority) clauses.push(`${JobPriorityKey.name} = ${visibilityLiteral(filter.priority)}`);
  // A keyword list equals a value when it holds it.
  for (const tag of filter.tag ?? []) clauses.push(`${JobTagsKey.name} = ${visibilityLiteral(tag)}`);
  return clauses.join(' AND ');
}

/**
 * How many of a page's running jobs are read at once (through the reader polls share, see JobReads.listedState): a
 * page of 100 sent at once, times a few lists in parallel, queued thousands of calls in Temporal, each waiting past
 * its deadline.
 */
const listReadsAtOnce = 8;

/** A page stops after the job that takes its JSON past this many bytes, with a cursor to the rest. */
export const listPageBudgetBytes = 4 * 1024 * 1024;

/**
 * Visibility queries one API process sends at once. A SQL visibility store answers them about one at a time: 20 lists
 * sent together each took 7 s on the dev server, past their deadline; in turns, each is answered in its own.
 */
const visibilityQueriesAtOnce = 2;
/**
 * A visibility query's own deadline, longer than other calls' (callDeadlineMs): a SQL store's answer over many jobs
 * takes seconds on a busy server that is far from down. A Temporal that answers nothing at all is told within
 * seconds (TemporalReachability).
 */
const visibilityDeadlineMs = 15_000;

/** Runs calls at most `atOnce` at a time, the rest in the order they came. */
class CallTurns {
  private readonly waiting: (() => void)[] = [];
  constructor(private free: number) {}

  /** A call whose `signal` aborts while it waits for its turn leaves the line, rejecting with the signal's reason. */
  async run<T>(call: () => Promise<T>, signal: AbortSignal): Promise<T> {
    if (this.free > 0) this.free--;
    else
      await new Promise<void>((resolve, reject) => {
        const leave = (): void => {
          this.waiting.splice(this.waiting.indexOf(turn), 1);
          reject(signal.reason as Error);
        };
        const turn = (): void => {
          signal.removeEventListener('abort', leave);
          resolve();
        };
        this.waiting.push(turn);
        signal.addEventListener('abort', leave, { once: true });
      });
    try {
      return await call();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

export class JobListing {
  private readonly visibilityTurns = new CallTurns(visibilityQueriesAtOnce);

  constructor(
    private readonly workflows: WorkflowReads,
    private readonly reads: JobReads,
    private readonly namespace: string,
    private readonly cursors: ListCursors,
    private readonly reachability: TemporalReachability,
  ) {}

  /**
   * Jobs in Temporal's visibility order: unfinished jobs newest first, then finished ones by finish time,
   * newest first (SQL visibility stores cannot sort otherwise). Up to `limit` of them, and fewer when their JSON
   * passes `listPageBudgetBytes`: the jobs are read `listReadsAtOnce` at a time, in order, and the page ends after
   * the one that passed it, so a list never holds much more than the budget.
   */
  async list(tenant: string, filter: JobListFilter): Promise<{ states: JobState[]; nextCursor: string | null }> {
    const query = jobListQuery(tenant, filter);
    // Checked before Temporal is asked: a cursor this API did not give is a 400 at once.
    const token = filter.cursor ? this.cursors.pageTokenOf(filter.cursor, query) : null;
    const include = new Set(filter.include === undefined ? ['input', 'result'] : filter.include.split(','));
    const { client } = this.workflows;
    const page = await this.page(query, filter.limit, token);
    const rows = page.executions.map((raw): ListedRow => ({
      workflowId: raw.execution?.workflowId ?? '',
      runId: raw.execution?.runId ?? '',
      running: raw.status === WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
      info: () => executionInfoFromRaw(raw, client.options.loadedDataConverter, raw, this.namespace),
    }));
    const states: JobState[] = [];
    let bytes = 0;
    for (let start = 0; start < rows.length; start += listReadsAtOnce) {
      const read = await Promise.all(
        rows.slice(start, start + listReadsAtOnce).map((row) => this.reads.listedState(tenant, row)),
      );
      for (const state of read) {
        // The state itself when it is listed whole: its JSON is then written once for every list and poll.
        const listed =
          include.has('input') && include.has('result')
            ? state
            : {
                ...state,
                input: include.has('input') ? state.input : null,
                result: include.has('result') ? state.result : null,
              };
        states.push(listed);
        bytes += stateBytes(listed);
        if (bytes > listPageBudgetBytes && states.length < rows.length) {
          // Visibility pages by token only: the same page asked again as long as this one gives the token after it.
          const shorter = await this.page(query, states.length, token);
          return { states, nextCursor: this.cursorFrom(shorter.nextPageToken, query) };
        }
      }
    }
    return { states, nextCursor: this.cursorFrom(page.nextPageToken, query) };
  }

  /** How many of the tenant's jobs the filter keeps: visibility's count, which lags writes as its list does. */
  async total(tenant: string, filter: JobCountFilter): Promise<number> {
    return this.count(jobListQuery(tenant, filter));
  }

  /**
   * The filter's jobs per status: one count per status (visibility groups counts by ExecutionStatus only, which
   * tells neither queued from running nor failed from timed out), none for a status the filter leaves out.
   */
  async counts(tenant: string, filter: JobCountFilter): Promise<JobCounts> {
    const numbers = await Promise.all(
      JobStatus.options.map((status) =>
        filter.status === undefined || filter.status === status
          ? this.count(jobListQuery(tenant, { ...filter, status }))
          : Promise.resolve(0),
      ),
    );
    const counts = Object.fromEntries(JobStatus.options.map((status, i) => [status, numbers[i]!]));
    return { total: numbers.reduce((sum, n) => sum + n, 0), counts: counts as JobCounts['counts'] };
  }

  private async count(query: string): Promise<number> {
    const { count } = await this.visibilityCall('count', (service) =>
      service.countWorkflowExecutions({ namespace: this.namespace, query }),
    );
    return Number(count ?? 0);
  }

  private page(query: string, pageSize: number, nextPageToken: Uint8Array | null) {
    return this.visibilityCall('list', (service) =>
      service.listWorkflowExecutions({ namespace: this.namespace, query, pageSize, nextPageToken }),
    );
  }

  /**
   * A visibility query in its turn, under its own deadline; ended with a 503 once it has waited (its turn included) a
   * few seconds and Temporal answers nothing at all.
   */
  private visibilityCall<T>(read: 'count' | 'list', call: (service: WorkflowService) => Promise<T>): Promise<T> {
    const { connection, workflowService } = this.workflows.client;
    return this.reachability.bounded((stalled) =>
      this.visibilityTurns.run(
        () =>
          this.workflows.counted(read, () =>
            connection.withAbortSignal(stalled, () =>
              connection.withDeadline(Date.now() + visibilityDeadlineMs, () => call(workflowService)),
            ),
          ),
        stalled,
      ),
    );
  }

  private cursorFrom(token: Uint8Array | null | undefined, query: string): string | null {
    return token && token.length > 0 ? this.cursors.cursorOf(token, query) : null;
  }
}
