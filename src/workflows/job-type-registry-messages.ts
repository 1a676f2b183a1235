// The job type registry's update and query, typed, for the registry workflow and the API. Handler workers name them
// by the strings of the protocol (src/contract/job-type-declaration.ts), which these are made from.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import {
  declareWorkerUpdateName,
  leaveUpdateName,
  registryStateQueryName,
  renewLeaseUpdateName,
  type DeclareWorker,
  type DeclareWorkerResult,
  type RegistryState,
  type RenewLeaseResult,
  type WorkerRef,
} from '../contract/job-type-declaration.js';

export const declareWorkerUpdate = defineUpdate<DeclareWorkerResult, [DeclareWorker]>(declareWorkerUpdateName);
export const renewLeaseUpdate = defineUpdate<RenewLeaseResult, [WorkerRef]>(renewLeaseUpdateName);
export const leaveUpdate = defineUpdate<null, [WorkerRef]>(leaveUpdateName);
export const registryStateQuery = defineQuery<RegistryState>(registryStateQueryName);
