import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import { defaultTenant, priorityOf, type JobRequest } from './job-state.js';

/** The search attributes of contract §3a; the dev servers and the cluster register exactly these. */
export const JobTypeKey = defineSearchAttributeKey('JobType', SearchAttributeType.KEYWORD);
export const JobPriorityKey = defineSearchAttributeKey('JobPriority', SearchAttributeType.KEYWORD);
export const JobStatusKey = defineSearchAttributeKey('JobStatus', SearchAttributeType.KEYWORD);
export const JobTenantKey = defineSearchAttributeKey('JobTenant', SearchAttributeType.KEYWORD);
/** The job's tags (key:value), set only on jobs submitted with some. */
export const JobTagsKey = defineSearchAttributeKey('JobTags', SearchAttributeType.KEYWORD_LIST);

export const jobSearchAttributeKeys = [JobTypeKey, JobPriorityKey, JobStatusKey, JobTenantKey, JobTagsKey];

/** A string literal for a visibility query: quotes and backslashes escaped, so any value stays inert. */
export function visibilityLiteral(value: string): string {
  return `'${value.replace(/[\\']/g, (char) => `\\${char}`)}'`;
}

/** The tenant's unfinished jobs, as the API's cap counts them; `started` keeps those whose start is in [atOrAfter, before). */
export function unfinishedJobsQuery(
  tenant: string,
  started?: { readonly atOrAfter?: Date; readonly before: Date },
): string {
  const query = `WorkflowType = 'jobWorkflow' AND ExecutionStatus = 'Running' AND ${JobTenantKey.name} = ${visibilityLiteral(tenant)}`;
  if (started === undefined) return query;
  const from = started.atOrAfter ? ` AND StartTime >= ${visibilityLiteral(started.atOrAfter.toISOString())}` : '';
  return `${query}${from} AND StartTime < ${visibilityLiteral(started.before.toISOString())}`;
}

/**
 * The runs a schedule skipped because its tenant was at its unfinished cap. Temporal sets TemporalScheduledById
 * on every run a schedule starts; a skipped run is the one end with job status cancelled whose workflow failed
 * (a client's cancel ends the workflow Canceled).
 */
export function skippedRunsQuery(scheduleWorkflowId: string): string {
  return `WorkflowType = 'jobWorkflow' AND TemporalScheduledById = ${visibilityLiteral(scheduleWorkflowId)} AND ${JobStatusKey.name} = 'cancelled' AND ExecutionStatus = 'Failed'`;
}

/**
 * What a job's workflow starts with, whoever starts it (the API, a schedule, a parent job): the memo the API
 * reads back (type, priority, tenant, the hash that tells a repeated submit from a different one), the
 * search attributes of a queued job, and its Temporal priority.
 */
export function jobStartMetadata(
  request: JobRequest,
  requestHash: string,
): {
  memo: Record<string, unknown>;
  typedSearchAttributes: SearchAttributePair[];
  priority: ReturnType<typeof priorityOf>;
} {
  const tenant = request.tenant ?? defaultTenant;
  return {
    memo: { jobType: request.type, jobPriority: request.priority, jobTenant: tenant, requestHash },
    typedSearchAttributes: [
      { key: JobTypeKey, value: request.type },
      { key: JobPriorityKey, value: request.priority },
      { key: JobStatusKey, value: 'queued' },
      { key: JobTenantKey, value: tenant },
      // Jobs without tags start as they did before tags: a parent's child starts are workflow commands.
      ...(request.tags ? [{ key: JobTagsKey, value: [...request.tags] }] : []),
    ],
    priority: priorityOf(request),
  };
}
