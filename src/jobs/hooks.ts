// The inbound webhooks as the API keeps them: in the hook registry workflow (one per task queue prefix), read through
// its queries and changed through its updates; one hook's record is cached briefly for the deliveries.
import { randomBytes } from 'node:crypto';
import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  hookLimitErrorType,
  hookRegistryWorkflowId,
  type CreateHookBody,
  type HookRef,
  type StoredHook,
} from '../contract/hooks.js';
import { registryTaskQueue } from '../contract/job-type-declaration.js';
import { hookRegistryWorkflow } from '../workflows/index.js';
import {
  createHookUpdate,
  deleteHookUpdate,
  hookQuery,
  hooksOfQuery,
  setHookEnabledUpdate,
} from '../workflows/hook-registry-messages.js';
import { ApiError } from './errors.js';

/**
 * How long an API process answers deliveries from a hook's record read earlier: a hook deleted, disabled or created
 * through another API process takes effect here within this. docs/api.md says it.
 */
export const hookCacheMs = 5000;
/** Hook records (or their absence) cached at once; past it the oldest go. */
const hookCacheEntries = 10_000;
const deadlineMs = 10_000;

/** Thrown when the tenant has no hook of that id (or it is another tenant's: the same answer). */
export class HookNotFoundError extends ApiError {
  override readonly name = 'HookNotFoundError';
  constructor(hookId: string) {
    super('not_found', `no hook with id "${hookId}"`);
  }
}

/** Thrown when a creation would pass the registry's limits. */
export class HookLimitError extends ApiError {
  override readonly name = 'HookLimitError';
  constructor(message: string, cause: unknown) {
    super('conflict', message, undefined, { cause });
  }
}

const newHookId = (): string => `hk_${randomBytes(24).toString('base64url')}`;
const newSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

export class HookDirectory {
  private readonly cached = new Map<string, { readonly hook: StoredHook | null; readonly at: number }>();
  private readonly reading = new Map<string, Promise<StoredHook | null>>();
  private readonly workflowId: string;

  constructor(
    private readonly client: Client,
    private readonly taskQueuePrefix: string,
    private readonly now: () => number = Date.now,
  ) {
    this.workflowId = hookRegistryWorkflowId(taskQueuePrefix);
  }

  private withDeadline<T>(call: () => Promise<T>): Promise<T> {
    return this.client.connection.withDeadline(this.now() + deadlineMs, call);
  }

  private remember(hookId: string, hook: StoredHook | null): void {
    this.cached.delete(hookId);
    this.cached.set(hookId, { hook, at: this.now() });
    if (this.cached.size > hookCacheEntries) this.cached.delete(this.cached.keys().next().value!);
  }

  async create(tenant: string, body: CreateHookBody): Promise<StoredHook> {
    const hook = {
      hookId: newHookId(),
      tenant,
      type: body.type,
      inputFrom: body.inputFrom ?? null,
      priority: body.priority,
      enabled: body.enabled,
      description: body.description ?? null,
      secret: body.secret ?? newSecret(),
    };
    try {
      const created = await this.withDeadline(() =>
        this.client.workflow.executeUpdateWithStart(createHookUpdate, {
          args: [hook],
          startWorkflowOperation: new WithStartWorkflowOperation(hookRegistryWorkflow, {
            workflowId: this.workflowId,
            taskQueue: registryTaskQueue(this.taskQueuePrefix),
            workflowIdConflictPolicy: 'USE_EXISTING',
            args: [{ state: null }],
          }),
        }),
      );
      this.remember(created.hookId, created);
      return created;
    } catch (err) {
      if (
        err instanceof WorkflowUpdateFailedError &&
        err.cause instanceof ApplicationFailure &&
        err.cause.type === hookLimitErrorType
      )
        throw new HookLimitError(err.cause.message, err);
      throw err;
    }
  }

  private async query<T>(call: () => Promise<T>, none: T): Promise<T> {
    try {
      return await this.withDeadline(call);
    } catch (err) {
      // No hook was ever created under this prefix.
      if (err instanceof WorkflowNotFoundError) return none;
      throw err;
    }
  }

  async list(tenant: string): Promise<StoredHook[]> {
    return this.query(() => this.client.workflow.getHandle(this.workflowId).query(hooksOfQuery, tenant), []);
  }

  /** The tenant's hook, read now. */
  async get({ tenant, hookId }: HookRef): Promise<StoredHook> {
    const hook = await this.query(() => this.client.workflow.getHandle(this.workflowId).query(hookQuery, hookId), null);
    this.remember(hookId, hook);
    if (hook?.tenant !== tenant) throw new HookNotFoundError(hookId);
    return hook;
  }

  /**
   * A hook for a delivery, whichever its tenant: read at most hookCacheMs ago (its absence too, so that unknown ids
   * sent again and again do not each reach Temporal); one read at a time per id.
   */
  async forDelivery(hookId: string): Promise<StoredHook | null> {
    const cached = this.cached.get(hookId);
    if (cached && this.now() - cached.at <= hookCacheMs) return cached.hook;
    let reading = this.reading.get(hookId);
    if (!reading) {
      reading = this.query(() => this.client.workflow.getHandle(this.workflowId).query(hookQuery, hookId), null)
        .then((hook) => {
          this.remember(hookId, hook);
          return hook;
        })
        .finally(() => this.reading.delete(hookId));
      this.reading.set(hookId, reading);
    }
    return reading;
  }

  async setEnabled(ref: HookRef, enabled: boolean): Promise<StoredHook> {
    const hook = await this.withDeadline(() =>
      this.client.workflow
        .getHandle(this.workflowId)
        .executeUpdate(setHookEnabledUpdate, { args: [{ ...ref, enabled }] }),
    ).catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    });
    if (!hook) throw new HookNotFoundError(ref.hookId);
    this.remember(ref.hookId, hook);
    return hook;
  }

  async delete(ref: HookRef): Promise<void> {
    const deleted = await this.withDeadline(() =>
      this.client.workflow.getHandle(this.workflowId).executeUpdate(deleteHookUpdate, { args: [ref] }),
    ).catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    });
    if (!deleted) throw new HookNotFoundError(ref.hookId);
    this.remember(ref.hookId, null);
  }
}
