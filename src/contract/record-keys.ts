import type { z } from 'zod';

/**
 * A `z.preprocess` step that refuses an object's own keys named in `names`, before a record sees them: zod's record
 * skips a `__proto__` key without a word, so a field the caller sent would be dropped in silence.
 */
export function refuseKeys(names: ReadonlySet<string>, refusal: (name: string) => string) {
  return (value: unknown, ctx: z.core.ParsePayload): unknown => {
    if (value === null || typeof value !== 'object') return value;
    for (const name of Object.keys(value)) {
      if (names.has(name)) ctx.issues.push({ code: 'custom', message: refusal(name), path: [name], input: value });
    }
    return value;
  };
}
