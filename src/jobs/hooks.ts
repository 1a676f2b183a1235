// The inbound webhooks as the API keeps them: in the hook registry workflow (one per task queue prefix), read through
// its queries and changed through its updates; every hook is read at once, briefly cached, for the deliveries.
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
  allHooksQuery,
  createHookUpdate,
  deleteHookUpdate,
  hookQuery,
  hooksOfQuery,
  setHookEnabledUpdate,
} from '../workflows/hook-registry-messages.js';
import { ApiError } from './errors.js';

/**
 * How long an API process answers deliveries from the hooks it read earlier: a hook deleted, disabled or created
 * through another API process takes effect here within this. docs/api.md says it.
 */
export const hookCacheMs = 5000;
/**
 * A delivery for a hook id not in the last read reads again when that read is older than this: a hook just created
 * through another process is found at once, and ids sent at random cost at most one read a second.
 */
const recheckAfterMs = 1000;
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
  /** Every hook by id, as last read (memory bounded by the registry's maxHooks), and when. */
  private cached: { readonly hooks: Map<string, StoredHook>; readonly at: number } | undefined;
  private reading: Promise<Map<string, StoredHook>> | undefined;
  /** Changes this process made while a read was under way: that read may predate them. */
  private readonly changedDuringRead = new Map<string, StoredHook | null>();
  /**
   * Hooks this process deleted, and when: a change's answer that left the registry before the deletion may come after
   * it (until the call's deadline), and must not bring the hook back. Ids are never reused.
   */
  private readonly deletedAt = new Map<string, number>();
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

  /**
   * A change this process made counts here at once. Only changes: an answer to a read may have left the registry
   * before a change this process made meanwhile, and would bring a deleted or disabled hook back for deliveries.
   */
  private remember(hookId: string, hook: StoredHook | null): void {
    const now = this.now();
    for (const [deletedId, at] of this.deletedAt) if (now - at > deadlineMs) this.deletedAt.delete(deletedId);
    if (!hook) this.deletedAt.set(hookId, now);
    else if (this.deletedAt.has(hookId)) return;
    if (this.reading) this.changedDuringRead.set(hookId, hook);
    if (!this.cached) return;
    if (hook) this.cached.hooks.set(hookId, hook);
    else this.cached.hooks.delete(hookId);
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
    if (hook?.tenant !== tenant) throw new HookNotFoundError(hookId);
    return hook;
  }

  private readAll(): Promise<Map<string, StoredHook>> {
    this.reading ??= this.query(() => this.client.workflow.getHandle(this.workflowId).query(allHooksQuery), [])
      .then((hooks) => {
        const byId = new Map(hooks.map((hook) => [hook.hookId, hook]));
        for (const [hookId, hook] of this.changedDuringRead) {
          if (hook) byId.set(hookId, hook);
          else byId.delete(hookId);
        }
        this.cached = { hooks: byId, at: this.now() };
        return byId;
      })
      .finally(() => {
        this.reading = undefined;
        this.changedDuringRead.clear();
      });
    return this.reading;
  }

  /** A hook for a delivery, whichever its tenant, from a read at most hookCacheMs old. */
  async forDelivery(hookId: string): Promise<StoredHook | null> {
    const cached = this.cached;
    const age = cached ? this.now() - cached.at : Infinity;
    let hooks = cached && age <= hookCacheMs ? cached.hooks : await this.readAll();
    if (!hooks.has(hookId) && hooks === cached?.hooks && age > recheckAfterMs) hooks = await this.readAll();
    return hooks.get(hookId) ?? null;
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
