import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import type { HookRegistryInput, NewHook } from '../contract/hooks.js';
import {
  createHook,
  creationRefusal,
  deleteHook,
  emptyHookRegistry,
  hooksOf,
  setHookEnabled,
} from './hook-registry-state.js';
import {
  allHooksQuery,
  createHookUpdate,
  deleteHookUpdate,
  hookQuery,
  hooksOfQuery,
  setHookEnabledUpdate,
} from './hook-registry-messages.js';
import { continueAsNewWhenDue } from './registry-run.js';

/**
 * The inbound webhooks of one task queue prefix, every tenant's: one long-lived run, started by the first creation's
 * Update-With-Start from the API. Its secrets are payloads (update arguments, query answers, continue-as-new input),
 * so the payload codec encrypts them when PAYLOAD_ENCRYPTION_KEY is set. Never completes: it continues as new.
 */
export async function hookRegistryWorkflow(input: HookRegistryInput): Promise<void> {
  let state = input.state ?? emptyHookRegistry();

  setHandler(hookQuery, (hookId) => state.hooks[hookId] ?? null);
  setHandler(hooksOfQuery, (tenant) => hooksOf(state, tenant));
  setHandler(allHooksQuery, () => Object.values(state.hooks));
  setHandler(
    createHookUpdate,
    (hook) => {
      const next = createHook(state, hook, Date.now());
      state = next.state;
      return next.hook;
    },
    {
      // Refused in the validator, so a refusal leaves nothing in the history.
      validator: (hook: NewHook) => {
        const refusal = creationRefusal(state, hook);
        if (refusal) throw ApplicationFailure.nonRetryable(refusal.message, refusal.type);
      },
    },
  );
  setHandler(setHookEnabledUpdate, (change) => {
    const next = setHookEnabled(state, change, Date.now());
    state = next.state;
    return next.hook;
  });
  setHandler(deleteHookUpdate, (ref) => {
    const next = deleteHook(state, ref);
    state = next.state;
    return next.deleted;
  });

  await continueAsNewWhenDue(input, () => state);
}
