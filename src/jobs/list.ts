// A tenant's jobs, a page at a time, from Temporal's visibility: filters become a visibility query, pages a cursor.
// The public list iterator hides page tokens, which an opaque REST cursor needs; this decodes a raw page.
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers.js';
import type { JobPriority, JobState, JobStatus } from '../contract/job.js';
import {
  JobPriorityKey,
  JobStatusKey,
  JobTenantKey,
  JobTypeKey,
  visibilityLiteral,
} from '../workflows/search-attributes.js';
import type { ListCursors } from './cursor.js';
import type { JobReads } from './reads.js';
import type { WorkflowReads } from './workflow-reads.js';

export interface JobListFilter {
  readonly status?: JobStatus;
  readonly type?: string;
  readonly priority?: JobPriority;
  readonly limit: number;
  readonly cursor?: string;
}

/** The visibility query of a tenant's jobs under the filter. */
export function jobListQuery(tenant: string, filter: Omit<JobListFilter, 'limit' | 'cursor'>): string {
  const clauses = [`WorkflowType = 'jobWorkflow'`, `${JobTenantKey.name} = ${visibilityLiteral(tenant)}`];
  if (filter.status) clauses.push(`${JobStatusKey.name} = ${visibilityLiteral(filter.status)}`);
  if (filter.type) clauses.push(`${JobTypeKey.name} = ${visibilityLiteral(filter.type)}`);
  if (filter.priority) clauses.push(`${JobPriorityKey.name} = ${visibilityLiteral(filter.priority)}`);
  return clauses.join(' AND ');
}

/**
 * How many of a page's jobs are read at once (a running one's describe and query): a page of 100 sent at once, times a
 * few lists in parallel, queued thousands of calls in Temporal, each waiting past its deadline.
 */
const listReadsAtOnce = 8;

/** `read` of each item, at most `atOnce` at a time, in the items' order. */
async function inTurns<T, R>(items: readonly T[], atOnce: number, read: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) results[index] = await read(items[index]!);
  };
  await Promise.all(Array.from({ length: Math.min(atOnce, items.length) }, lane));
  return results;
}

/**
 * Visibility queries one API process sends at once. A SQL visibility store answers them about one at a time: 20 lists
 * sent together each took 7 s on the dev server, past their deadline; in turns, each is answered in its own.
 */
const visibilityQueriesAtOnce = 2;
/**
 * A visibility query's own deadline, longer than other calls' (callDeadlineMs): a SQL store's answer over many jobs
 * takes seconds on a busy server that is far from down. An unreachable Temporal is still told within seconds (the
 * connection fails, it does not hang).
 */
const visibilityDeadlineMs = 15_000;

/** Runs calls at most `atOnce` at a time, the rest in the order they came. */
class CallTurns {
  private readonly waiting: (() => void)[] = [];
  constructor(private free: number) {}

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
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
  ) {}

  /**
   * Jobs in Temporal's visibility order: unfinished jobs newest first, then finished ones by finish time,
   * newest first (SQL visibility stores cannot sort otherwise).
   */
  async list(tenant: string, filter: JobListFilter): Promise<{ states: JobState[]; nextCursor: string | null }> {
    const query = jobListQuery(tenant, filter);
    // Checked before Temporal is asked: a cursor this API did not give is a 400 at once.
    const nextPageToken = filter.cursor ? this.cursors.pageTokenOf(filter.cursor, query) : null;
    const { client } = this.workflows;
    const page = await this.visibilityTurns.run(() =>
      this.workflows.counted('list', () =>
        client.connection.withDeadline(Date.now() + visibilityDeadlineMs, () =>
          client.workflowService.listWorkflowExecutions({
            namespace: this.namespace,
            query,
            pageSize: filter.limit,
            nextPageToken,
          }),
        ),
      ),
    );
    const infos = await Promise.all(
      page.executions.map((raw) => executionInfoFromRaw(raw, client.options.loadedDataConverter, raw, this.namespace)),
    );
    const states = await inTurns(infos, listReadsAtOnce, (info) => this.reads.listedState(info));
    const token = page.nextPageToken;
    return { states, nextCursor: token && token.length > 0 ? this.cursors.cursorOf(token, query) : null };
  }
}
