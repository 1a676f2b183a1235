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
import { cursorOf, pageTokenOf } from './cursor.js';
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

export class JobListing {
  constructor(
    private readonly workflows: WorkflowReads,
    private readonly reads: JobReads,
    private readonly namespace: string,
  ) {}

  /**
   * Jobs in Temporal's visibility order: unfinished jobs newest first, then finished ones by finish time,
   * newest first (SQL visibility stores cannot sort otherwise).
   */
  async list(tenant: string, filter: JobListFilter): Promise<{ states: JobState[]; nextCursor: string | null }> {
    const query = jobListQuery(tenant, filter);
    const { client } = this.workflows;
    const page = await this.workflows.counted('list', () =>
      client.workflowService.listWorkflowExecutions({
        namespace: this.namespace,
        query,
        pageSize: filter.limit,
        nextPageToken: filter.cursor ? pageTokenOf(filter.cursor, query) : null,
      }),
    );
    const infos = await Promise.all(
      page.executions.map((raw) => executionInfoFromRaw(raw, client.options.loadedDataConverter, raw, this.namespace)),
    );
    const states = await Promise.all(infos.map((info) => this.reads.listedState(info)));
    const token = page.nextPageToken;
    return { states, nextCursor: token && token.length > 0 ? cursorOf(token, query) : null };
  }
}
