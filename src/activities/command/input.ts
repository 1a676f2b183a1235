import { z } from 'zod';
import { refuseKeys } from '../../contract/record-keys.js';

/** Names an object's own key may have in JSON but not as a variable: a record would drop `__proto__` without a word. */
const objectKeys = new Set(['__proto__', 'constructor', 'prototype']);

/** Refuses, before the record sees them, env names that are Object.prototype's own. */
const refuseObjectKeys = refuseKeys(objectKeys, (name) => `env ${JSON.stringify(name)} is not a variable name`);

/** An argument or environment value: the OS cannot pass a NUL byte, and spawn would throw at the attempt. */
const ProcessString = z
  .string()
  .max(32_768)
  .regex(/^[^\0]*$/, 'must not contain a NUL character');

export const CommandInput = z.strictObject({
  command: z.string().min(1).max(255),
  args: z.array(ProcessString).max(1000).optional(),
  // Only the names the command's manifest declares are accepted (checkInput, and the worker again before spawning).
  env: z.preprocess(refuseObjectKeys, z.record(z.string().min(1).max(128), ProcessString)).optional(),
});
export type CommandInput = z.infer<typeof CommandInput>;
