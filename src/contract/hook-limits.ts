// The hook registry's limits, apart from the hooks' schemas: the registry workflow loads them, and each workflow
// evaluates afresh every module it loads (zod's schemas would cost it 1.4 MB).

/** Hooks one tenant may hold, and all tenants together: the registry's state travels whole at continue-as-new. */
export const maxHooksPerTenant = 100;
export const maxHooks = 2000;
/**
 * The most the registry's hooks take as JSON (UTF-8): its query's answer and the state continue-as-new carries are
 * each one payload, which Temporal refuses past 2 MiB. Full hooks (32 fields of inputFrom) take about 19 KB each, so
 * the counts above alone would let a few tenants pass it.
 */
export const hookRegistryMaxBytes = 1024 * 1024;
/** The failure type of a creation past those limits. */
export const hookLimitErrorType = 'HookLimitReached';
