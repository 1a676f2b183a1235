// The job type registry's update and query, typed, for the registry workflow and the API. Handler workers name them
// by the strings of the protocol (src/contract/job-type-declaration.ts), which these are made from.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  DeclareWorker,
  DeclareWorkerResult,
  RegistryState,
  RenewLeaseResult,
  WorkerRef,
} from '../contract/job-type-declaration.js';
import {
  declareWorkerUpdateName,
  leaveUpdateName,
  registryStateQueryName,
  renewLeaseUpdateName,
} from '../contract/protocol-names.js';

export const declareWorkerUpdate = defineUpdate<DeclareWorkerResult, [DeclareWorker]>(declareWorkerUpdateName);
export const renewLeaseUpdate = defineUpdate<RenewLeaseResult, [WorkerRef]>(renewLeaseUpdateName);
export const leaveUpdate = defineUpdate<null, [WorkerRef]>(leaveUpdateName);
export const registryStateQuery = defineQuery<RegistryState>(registryStateQueryName);
