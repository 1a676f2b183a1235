// Keeps a worker process declared to the job type registry (docs/worker-protocol.md, "The registry").
import { setTimeout as delay } from 'node:timers/promises';
import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure, type Logger, type Workflow } from '@temporalio/common';
import {
  declareWorkerUpdateName,
  leaveUpdateName,
  registryTaskQueue,
  registryWorkflowId,
  registryWorkflowType,
  renewLeaseUpdateName,
  workerNotDeclaredErrorType,
  type DeclareWorker,
  type DeclareWorkerResult,
  type RegistryInput,
  type RenewLeaseResult,
  type WorkerRef,
} from './job-type-declaration.js';

/** The registry's refusal of an update (its validator's failure), or undefined for an error on the way to it. */
function refusalOf(err: unknown): ApplicationFailure | undefined {
  return err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure ? err.cause : undefined;
}

/** A worker's place in the registry: declared at start, renewed every third of its lease, left at shutdown. */
export class RegistryLease {
  private readonly workflowId: string;
  private markDeclared!: () => void;
  /** Settles once the registry has taken this worker's first declaration (the API then knows its types). */
  readonly declared = new Promise<void>((resolve) => {
    this.markDeclared = resolve;
  });

  constructor(
    private readonly client: Client,
    private readonly taskQueuePrefix: string,
    private readonly declaration: DeclareWorker,
    private readonly log: Logger,
  ) {
    this.workflowId = registryWorkflowId(taskQueuePrefix);
  }

  /** Declares with Update-With-Start: the first worker of a prefix starts its registry. */
  declare(): Promise<DeclareWorkerResult> {
    return this.client.workflow.executeUpdateWithStart<Workflow, DeclareWorkerResult, [DeclareWorker]>(
      declareWorkerUpdateName,
      {
        args: [this.declaration],
        startWorkflowOperation: new WithStartWorkflowOperation(registryWorkflowType, {
          workflowId: this.workflowId,
          taskQueue: registryTaskQueue(this.taskQueuePrefix),
          workflowIdConflictPolicy: 'USE_EXISTING',
          args: [{ state: null } satisfies RegistryInput],
        }),
      },
    );
  }

  private renew(): Promise<RenewLeaseResult> {
    return this.client.workflow
      .getHandle(this.workflowId)
      .executeUpdate<RenewLeaseResult, [WorkerRef]>(renewLeaseUpdateName, {
        args: [{ workerId: this.declaration.workerId }],
      });
  }

  /**
   * Declares, then renews until `signal` aborts; declares again whenever the registry no longer knows this worker
   * (its lease ran out while the process was stalled, or the registry was reset). Never throws: a registry out of
   * reach is logged and tried again, and the worker goes on serving what the job workflows send it.
   */
  async keep(signal: AbortSignal): Promise<void> {
    const renewEveryMs = (this.declaration.leaseSeconds * 1000) / 3;
    let declared = false;
    let unreachableSince: number | undefined;
    while (!signal.aborted) {
      try {
        await this.sayingWhileUnanswered(() =>
          this.withCallSignal(signal, async () => {
            if (declared) {
              await this.renew();
              return;
            }
            const { differing } = await this.declare();
            declared = true;
            this.markDeclared();
            this.log.info('declared its job types to the registry', {
              jobTypes: this.declaration.jobTypes.map((type) => type.name),
            });
            for (const { name, otherWorkers } of differing)
              this.log.warn(
                `job type ${name}: ${otherWorkers} other live worker(s) declare it differently; this declaration is now the one the API validates against`,
              );
          }),
        );
        unreachableSince = undefined;
      } catch (err) {
        if (signal.aborted) break;
        const refusal = refusalOf(err);
        // A renewal of a registry whose run has ended (terminated, or lost by the server) is answered NOT_FOUND;
        // only a declaration, Update-With-Start, starts it again.
        if (refusal?.type === workerNotDeclaredErrorType || (declared && err instanceof WorkflowNotFoundError)) {
          declared = false;
          continue;
        }
        if (refusal) {
          // The registry answered: its reason is in the refusal, not in the update's error, which only says it failed.
          this.log.error(`the job type registry refuses this worker: ${refusal.message}`, { type: refusal.type });
        } else {
          unreachableSince ??= Date.now();
          this.log.warn('could not reach the job type registry (is the service worker running?)', {
            error: String(err),
            forSeconds: Math.round((Date.now() - unreachableSince) / 1000),
          });
        }
      }
      await delay(renewEveryMs, undefined, { signal }).catch(() => undefined);
    }
  }

  /**
   * Runs `call`, warning every lease that it has not answered: an update waits for the registry's worker to take it,
   * without an error, for as long as that worker is down.
   */
  private async sayingWhileUnanswered<T>(call: () => Promise<T>): Promise<T> {
    const began = Date.now();
    const waiting = setInterval(() => {
      this.log.warn(
        `the job type registry has not answered for ${Math.round((Date.now() - began) / 1000)} s (is the service worker running?); this worker does not count as live meanwhile`,
      );
    }, this.declaration.leaseSeconds * 1000);
    try {
      return await call();
    } finally {
      clearInterval(waiting);
    }
  }

  /**
   * Runs `calls` under a signal of their own that follows `signal`: the SDK never removes the listener each call adds
   * to the signal it is given, so a worker's lifelong one would keep one (and its call) per renewal for good.
   */
  private async withCallSignal<T>(signal: AbortSignal, calls: () => Promise<T>): Promise<T> {
    const ended = new AbortController();
    const end = (): void => ended.abort();
    signal.addEventListener('abort', end, { once: true });
    try {
      return await this.client.withAbortSignal(ended.signal, calls);
    } finally {
      signal.removeEventListener('abort', end);
    }
  }

  /** At graceful shutdown: the worker stops counting at once rather than when its lease runs out. */
  async leave(timeoutMs = 3000): Promise<void> {
    await this.client
      .withAbortSignal(AbortSignal.timeout(timeoutMs), () =>
        this.client.workflow
          .getHandle(this.workflowId)
          .executeUpdate<null, [WorkerRef]>(leaveUpdateName, { args: [{ workerId: this.declaration.workerId }] }),
      )
      .catch((err: unknown) => {
        this.log.warn('could not leave the job type registry', { error: String(err) });
      });
  }
}
