// The hook registry's state and its transitions, as pure functions the registry workflow applies.
import type { HookRef, HookRegistryState, NewHook, SetHookEnabled, StoredHook } from '../contract/hooks.js';
import { hookLimitErrorType, hookRegistryMaxBytes, maxHooks, maxHooksPerTenant } from '../contract/hook-limits.js';
import { jsonBytes, kib } from '../contract/json-size.js';

export function emptyHookRegistry(): HookRegistryState {
  return { hooks: {} };
}

export function hooksOf(state: HookRegistryState, tenant: string): StoredHook[] {
  return Object.values(state.hooks)
    .filter((hook) => hook.tenant === tenant)
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.hookId < b.hookId ? -1 : 1));
}

/** Why a hook cannot be added, or undefined: the limits, and an id already taken (the API's random ids never are). */
export function creationRefusal(
  state: HookRegistryState,
  hook: NewHook,
): { type: string; message: string } | undefined {
  if (state.hooks[hook.hookId]) return { type: 'HookExists', message: `hook ${hook.hookId} exists` };
  if (hooksOf(state, hook.tenant).length >= maxHooksPerTenant)
    return { type: hookLimitErrorType, message: `the tenant has ${maxHooksPerTenant} hooks; delete one first` };
  if (Object.keys(state.hooks).length >= maxHooks)
    return { type: hookLimitErrorType, message: `the service holds ${maxHooks} hooks; delete one first` };
  const bytes = jsonBytes(createHook(state, hook, 0).state);
  if (bytes > hookRegistryMaxBytes) {
    return {
      type: hookLimitErrorType,
      message:
        `the service's hooks may take ${kib(hookRegistryMaxBytes)} as JSON, and with this one they would take ` +
        `${kib(bytes)}: delete hooks no longer used, or give this one fewer or shorter inputFrom fields`,
    };
  }
  return undefined;
}

export function createHook(
  state: HookRegistryState,
  hook: NewHook,
  nowMs: number,
): { state: HookRegistryState; hook: StoredHook } {
  const at = new Date(nowMs).toISOString();
  const stored: StoredHook = { ...hook, createdAt: at, updatedAt: at };
  return { state: { hooks: { ...state.hooks, [hook.hookId]: stored } }, hook: stored };
}

function ownHook(state: HookRegistryState, { tenant, hookId }: HookRef): StoredHook | undefined {
  const hook = state.hooks[hookId];
  return hook?.tenant === tenant ? hook : undefined;
}

export function setHookEnabled(
  state: HookRegistryState,
  change: SetHookEnabled,
  nowMs: number,
): { state: HookRegistryState; hook: StoredHook | null } {
  const hook = ownHook(state, change);
  if (!hook) return { state, hook: null };
  const changed: StoredHook = { ...hook, enabled: change.enabled, updatedAt: new Date(nowMs).toISOString() };
  return { state: { hooks: { ...state.hooks, [hook.hookId]: changed } }, hook: changed };
}

export function deleteHook(state: HookRegistryState, ref: HookRef): { state: HookRegistryState; deleted: boolean } {
  if (!ownHook(state, ref)) return { state, deleted: false };
  const { [ref.hookId]: _gone, ...hooks } = state.hooks;
  return { state: { hooks }, deleted: true };
}
