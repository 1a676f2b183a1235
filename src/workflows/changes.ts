// Whether a run takes a change to the workflows' commands: by the version its request is stamped with, else by `patched()`.
import { patched, workflowInfo } from '@temporalio/workflow';
import type { JobRequest } from './job-state.js';

/**
 * Whether this run takes the change `patchId`, made at workflow version `version`. A request stamped with a version
 * every worker has (`commandsVersion`: JOBS_WORKFLOW_VERSION, from v4 on) decides it from the run's first event, so no
 * `patched()` is called: each call records a marker and Core's `TemporalChangeVersion` upsert, 2 of a zero-second
 * job's 15 history events (issue 25). A request without it asks `patched()`, so that a run begun before the change
 * replays without it.
 *
 * While replaying, `patched()` is asked all the same, its answer unused: during a deploy a worker from before v4 may
 * have begun a run of a stamped request and recorded the marker, which Core fails the replay on unless the code
 * asks for it; asked while replaying a history without one, it answers false and records nothing.
 */
export function takesChange(request: Pick<JobRequest, 'commandsVersion'>, version: number, patchId: string): boolean {
  if (request.commandsVersion === undefined) return patched(patchId);
  if (workflowInfo().unsafe.isReplaying) patched(patchId);
  return request.commandsVersion >= version;
}
