/**
 * The version of the commands the job and callback workflows issue. Bump it in the first change to those commands
 * (a new `patched()` branch, activity, child or timer) after the current version has run anywhere: histories recorded
 * at each version stay in test/fixtures/histories/v<version>/ and are replayed against every later version.
 *
 * 1: as of 49db99e (2026-11-24). 2: a scheduled run checks its tenant's unfinished cap (`scheduled-run-unfinished-cap`);
 * a delivery keeps its last error and stops at an unrecoverable one (`callback-last-error-and-unrecoverable`).
 * 3: every ending writes the final state to the memo, not only a cancel (`final-job-memo`).
 * 4: a request may carry a version every worker has (`commandsVersion`), and a run takes each change up to it without
 * `patched()` (see src/workflows/changes.ts); the commands of a run are those of v3.
 * 5: a cancelled parent ends once every child has ended, not at the first (`children-settle-before-parent-ends`).
 * 6: the job's `startedAt` is the first attempt's start as its worker reports it, in the `attemptStarted` signal or the
 * outcome, clamped into [the attempt scheduled, now] (`attempt-start-from-worker`), not when the workflow heard of it.
 */
export const workflowVersion = 6;
