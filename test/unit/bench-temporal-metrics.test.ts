// What the bench reads of the Temporal server's Prometheus counters (bench/temporal-metrics.ts).
import assert from 'node:assert/strict';
import { countersPerJob, parseServerCounters } from '../../bench/temporal-metrics.js';

const exposition = [
  '# HELP service_requests service_requests counter',
  '# TYPE service_requests counter',
  'service_requests{namespace="default",operation="StartWorkflowExecution",service_name="frontend"} 40',
  'service_requests{namespace="default",operation="StartWorkflowExecution",service_name="history"} 40',
  'service_requests{namespace="temporal_system",operation="StartWorkflowExecution",service_name="frontend"} 7',
  'service_requests{namespace="default",operation="SignalWorkflowExecution",service_name="frontend"} 12',
  'task_requests{archetype="workflow",namespace="default",operation="VisibilityTaskUpsertExecution",service_name="history",task_priority="high",task_type="VisibilityTaskUpsertExecution"} 80',
  'task_requests{archetype="workflow",namespace="default",operation="TransferActiveTaskActivityTask",service_name="history",task_priority="high",task_type="TransferActiveTaskActivityTask"} 9',
  'persistence_requests{namespace="default",operation="GetTasks",service_name="matching"} 3',
].join('\n');

describe("The bench reads the Temporal server's counters", function () {
  it("counts the default namespace's frontend RPCs by operation and visibility writes by kind", function () {
    assert.deepEqual(parseServerCounters(exposition), {
      'rpc StartWorkflowExecution': 40,
      'rpc SignalWorkflowExecution': 12,
      'visibility UpsertExecution': 80,
    });
  });

  it('gives what moved over a round per job, and leaves out what did not', function () {
    assert.deepEqual(countersPerJob({ 'rpc A': 10, 'rpc B': 5 }, { 'rpc A': 40, 'rpc B': 5, 'visibility C': 7 }, 20), {
      'rpc A': 1.5,
      'visibility C': 0.35,
    });
  });
});
