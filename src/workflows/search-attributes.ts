import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The Keyword search attributes of contract §3a; the dev servers and the cluster register exactly these. */
export const JobTypeKey = defineSearchAttributeKey('JobType', SearchAttributeType.KEYWORD);
export const JobPriorityKey = defineSearchAttributeKey('JobPriority', SearchAttributeType.KEYWORD);
export const JobStatusKey = defineSearchAttributeKey('JobStatus', SearchAttributeType.KEYWORD);
export const JobTenantKey = defineSearchAttributeKey('JobTenant', SearchAttributeType.KEYWORD);

export const jobSearchAttributeKeys = [JobTypeKey, JobPriorityKey, JobStatusKey, JobTenantKey];
