// The hook registry's updates and queries, typed, for its workflow and the API.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { HookRef, NewHook, SetHookEnabled, StoredHook } from '../contract/hooks.js';

export const createHookUpdate = defineUpdate<StoredHook, [NewHook]>('createHook');
/** The hook as it is now, or null when the tenant has no hook of that id. */
export const setHookEnabledUpdate = defineUpdate<StoredHook | null, [SetHookEnabled]>('setHookEnabled');
/** Whether the tenant had a hook of that id. */
export const deleteHookUpdate = defineUpdate<boolean, [HookRef]>('deleteHook');
/** One hook by id, whichever its tenant: a delivery knows only the id. */
export const hookQuery = defineQuery<StoredHook | null, [string]>('hook');
/** Every tenant's hooks: what an API process answers deliveries from. */
export const allHooksQuery = defineQuery<StoredHook[]>('allHooks');
/** A tenant's hooks, by creation time. */
export const hooksOfQuery = defineQuery<StoredHook[], [string]>('hooksOf');
