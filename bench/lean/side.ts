// The `bare-lean` side: the leanest durable job (bench/lean/workflows.ts) started and awaited with the Temporal client,
// on a task queue of its own served by a worker process of its own, on the same server as the service.
import type { Client } from '@temporalio/client';
import { Part } from '../../dev/parts.js';
import { awaitResult } from '../await-result.js';
import type { leanJobWorkflow } from './workflows.js';
import { leanWorkerReadyLine } from './ready-line.js';

export class LeanSide {
  private started = 0;

  private constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    readonly worker: Part,
  ) {}

  /** Starts the lean worker (it bundles its workflow, which takes a while) and resolves once it polls. */
  static async start(client: Client, temporalAddress: string, taskQueue: string, slots: number): Promise<LeanSide> {
    const worker = Part.spawn('lean worker', 'bench/lean/worker.ts', {
      TEMPORAL_ADDRESS: temporalAddress,
      LEAN_TASK_QUEUE: taskQueue,
      LEAN_SLOTS: String(slots),
    });
    await worker.waitForOutput(new RegExp(leanWorkerReadyLine), 120_000);
    return new LeanSide(client, taskQueue, worker);
  }

  /** Runs one lean job of `seconds` to its end; resolves with its workflow id. */
  async runJob(seconds: number): Promise<string> {
    const workflowId = `lean-${process.pid}-${this.started++}`;
    const handle = await this.client.workflow.start<typeof leanJobWorkflow>('leanJobWorkflow', {
      taskQueue: this.taskQueue,
      workflowId,
      args: [seconds],
    });
    await awaitResult<string>(handle);
    return workflowId;
  }
}
