// The settings every Temporal server we run shares: the dev server of `npm start`, the local cluster of
// `npm run cluster`, and docker-compose.yml (whose files the cluster test checks against this module).
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import type { temporal } from '@temporalio/proto';
import { jobSearchAttributeKeys } from '../workflows/search-attributes.js';

/**
 * Dynamic config every server we run gets, with why:
 * - transferProcessorMaxPollRPS: the default 20/s makes every workflow task wait ≈ 43 ms for pickup;
 * - one task-queue partition: priority keys order tasks strictly only within a single partition;
 * - fairness: tasks of one priority are shared between fairness keys (tenants), not first come first served;
 * - memo warning at 64 KiB, not 2 KiB: a finished job's memo holds its final state (up to 16 Ki JSON characters,
 *   src/workflows/final-state.ts), and the server would log a warning for most jobs;
 * - transfer queue ack levels saved every second, not 30 s: a finished workflow's deletion (DELETE /api/v1/jobs/{id})
 *   waits for them, so it took ≈ 33 s to happen (measured on the dev server; ≈ 4 s with this).
 */
export const serverDynamicConfig: Readonly<Record<string, string | number | boolean>> = {
  'history.transferProcessorMaxPollRPS': 1000,
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
  'matching.enableFairness': true,
  'limit.memoSize.warn': 65_536,
  'history.transferProcessorUpdateAckInterval': '1s',
};

/** Fixed when a cluster's database is first set up; cannot change afterwards. */
export const historyShardCount = 4;

/** The search attributes the job workflow sets (contract §3a), as the operator API registers them. */
export function jobSearchAttributeTypes(): Record<string, temporal.api.enums.v1.IndexedValueType> {
  return Object.fromEntries(
    jobSearchAttributeKeys.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!]),
  );
}

/** `serverDynamicConfig` in the server's dynamic config file format (a list of values per key, no constraints). */
export function dynamicConfigYaml(): string {
  const entries = Object.entries(serverDynamicConfig).map(
    ([key, value]) => `${key}:\n  - value: ${JSON.stringify(value)}\n`,
  );
  return `# Generated from src/temporal/server-settings.ts: edit it there; npm run test:cluster checks this copy.\n${entries.join('')}`;
}
