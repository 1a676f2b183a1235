import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import type { DeclareWorker, RegistryInput, WorkerRef } from '../contract/job-type-declaration.js';
import { workerNotDeclaredErrorType } from '../contract/protocol-names.js';
import {
  canRenew,
  declareWorker,
  emptyRegistry,
  leave,
  noRoomFor,
  pruneExpired,
  registryFullErrorType,
  renewLease,
} from './job-type-registry-state.js';
import {
  declareWorkerUpdate,
  leaveUpdate,
  registryStateQuery,
  renewLeaseUpdate,
} from './job-type-registry-messages.js';
import { continueAsNewWhenDue } from './registry-run.js';

/** Expired leases are dropped at every message; this sweep keeps the state small when none comes. */
const sweepIntervalMs = 5 * 60 * 1000;

/** Rejects a malformed message in its validator, so it leaves nothing in the history. */
function check(problem: string | undefined): void {
  if (problem) throw ApplicationFailure.nonRetryable(problem, 'InvalidWorkerMessage');
}

/**
 * The job types of one task queue prefix and the worker processes that serve them (docs/worker-protocol.md). One
 * long-lived run per prefix, started by the first worker's Update-With-Start; handlers are synchronous, so the
 * state changes atomically per message. Never completes: it continues as new, carrying its state.
 */
export async function jobTypeRegistryWorkflow(input: RegistryInput): Promise<void> {
  // The protocol's schemas (zod) are loaded here, not at the top: every workflow in a worker evaluates afresh the
  // modules it loads, and these cost each 1.4 MB, which only this workflow needs. Eager: it is in the bundle, and the
  // import settles before this activation ends, so messages that came with the start wait for the handlers below.
  const protocol = await import(/* webpackMode: "eager" */ '../contract/job-type-declaration.js');
  let state = input.state ?? emptyRegistry();

  setHandler(registryStateQuery, () => state);
  setHandler(
    declareWorkerUpdate,
    (declaration) => {
      const next = declareWorker(state, declaration, Date.now());
      state = next.state;
      return next.result;
    },
    {
      validator: (declaration: DeclareWorker) => {
        check(protocol.problemWith(protocol.DeclareWorker, declaration));
        const noRoom = noRoomFor(state, declaration, Date.now());
        if (noRoom) throw ApplicationFailure.nonRetryable(noRoom, registryFullErrorType);
      },
    },
  );
  setHandler(
    renewLeaseUpdate,
    ({ workerId }) => {
      const next = renewLease(state, workerId, Date.now());
      state = next.state;
      return next.result;
    },
    {
      validator: (ref: WorkerRef) => {
        check(protocol.problemWith(protocol.WorkerRef, ref));
        const { workerId } = ref;
        if (!canRenew(state, workerId, Date.now()))
          throw ApplicationFailure.nonRetryable(
            `worker ${workerId} is not declared (or its lease ran out)`,
            workerNotDeclaredErrorType,
          );
      },
    },
  );
  setHandler(
    leaveUpdate,
    ({ workerId }) => {
      state = leave(state, workerId, Date.now());
      return null;
    },
    { validator: (ref) => check(protocol.problemWith(protocol.WorkerRef, ref)) },
  );

  await continueAsNewWhenDue(input, () => pruneExpired(state, Date.now()), {
    intervalMs: sweepIntervalMs,
    sweep: () => {
      state = pruneExpired(state, Date.now());
    },
  });
}
