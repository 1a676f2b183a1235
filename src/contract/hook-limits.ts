// The hook registry's limits, apart from the hooks' schemas: the registry workflow loads them, and each workflow
// evaluates afresh every module it loads (zod's schemas would cost it 1.4 MB).

/** Hooks one tenant may hold, and all tenants together: the registry's state travels whole at continue-as-new. */
export const maxHooksPerTenant = 100;
export const maxHooks = 2000;
/** The failure type of a creation past those limits. */
export const hookLimitErrorType = 'HookLimitReached';
