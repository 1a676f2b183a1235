// Inbound webhooks (docs/api.md, "Inbound webhooks"): a tenant's hook turns a signed POST from a third party (GitHub,
// Stripe, a form service) into a job. The REST shapes, and the hook registry's record and messages.
import { z } from 'zod';
import { IsoTime, JobPriority, JobStatus } from './job.js';
import { refuseKeys } from './record-keys.js';

/** 24 random bytes, base64url: unguessable, and in no other route's spelling. */
export const hookIdPattern = /^hk_[A-Za-z0-9_-]{32}$/;
export const HookId = z.string().regex(hookIdPattern, 'must be a hook id as POST /api/v1/hooks answered it (hk_…)');

/** The one public path of a hook: where its sender POSTs, authenticated by the signature alone. */
export const hookDeliveryPath = /^\/api\/v1\/hooks\/hk_[A-Za-z0-9_-]{32}$/;

export function hookPath(hookId: string): string {
  return `/api/v1/hooks/${hookId}`;
}

/** An RFC 6901 JSON pointer into the delivery's body ("" is the whole body). */
export const JsonPointer = z
  .string()
  .max(512)
  .regex(/^(\/([^~]|~[01])*)*$/, 'must be a JSON pointer ("" or /field/0/other; ~1 for "/", ~0 for "~")');

const inputFieldNames = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be 1–64 characters of [A-Za-z0-9_], not starting with a digit'),
    JsonPointer,
  )
  .refine((fields) => Object.keys(fields).length >= 1 && Object.keys(fields).length <= 32, {
    error: 'must name 1 to 32 fields',
  })
  .describe(
    "the job's input, field by field: each input field takes the value at its JSON pointer in the delivery's body (a pointer that finds nothing leaves its field out); absent: the whole body is the input",
  );
export const HookInputFrom = z.preprocess(
  refuseKeys(
    new Set(['__proto__']),
    () => 'is not a name an input field may take (an object cannot hold __proto__ as a field): choose another',
  ),
  inputFieldNames,
);

/** A secret a sender generates itself (Stripe does): used as given, as UTF-8, for HMAC-SHA256. */
export const HookSecret = z
  .string()
  .min(16)
  .max(256)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

export const CreateHookBody = z.strictObject({
  type: z.string().min(1).max(128).describe('the job type each delivery submits'),
  inputFrom: HookInputFrom.optional(),
  priority: JobPriority.default('normal'),
  enabled: z.boolean().default(true).describe('a disabled hook answers its deliveries 409'),
  description: z.string().max(200).optional(),
  secret: HookSecret.optional().describe(
    'the signing secret, when the sender makes its own (Stripe); absent: the service generates one',
  ),
});
export type CreateHookBody = z.infer<typeof CreateHookBody>;

export const UpdateHookBody = z.strictObject({
  enabled: z.boolean().describe('false: deliveries answer 409 until enabled again'),
});
export type UpdateHookBody = z.infer<typeof UpdateHookBody>;

export const Hook = z.object({
  hookId: HookId,
  url: z.string().describe('the path the sender POSTs to (public: authenticated by the signature)'),
  type: z.string(),
  inputFrom: z.record(z.string(), z.string()).nullable().describe('null: the whole body is the input'),
  priority: JobPriority,
  enabled: z.boolean(),
  description: z.string().nullable(),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type Hook = z.infer<typeof Hook>;

export const CreatedHook = Hook.extend({
  secret: z.string().describe('the signing secret: shown in this answer only'),
});
export type CreatedHook = z.infer<typeof CreatedHook>;

export const HookList = z.object({ hooks: z.array(Hook) });

/**
 * What a delivery is answered: the job's id and status, not the job. The sender needs no more, and a captured
 * delivery (GitHub signs without a timestamp and shows deliveries to a repository's admins) must not read the job's
 * input, result or errors when it is sent again later; the tenant reads the job with its key.
 */
export const HookDelivery = z.object({
  jobId: z.string().describe("the delivery's job: the same one again for a redelivery"),
  status: JobStatus.describe('as the job is when the delivery is answered'),
});
export type HookDelivery = z.infer<typeof HookDelivery>;

/** A delivery id header (X-GitHub-Delivery, Idempotency-Key): the job id is derived from it, scoped to the hook. */
export const DeliveryId = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/, 'must be 1–200 printable ASCII characters without spaces');

/** A hook as the hook registry keeps it: with its tenant and secret, which no answer but the creation's shows. */
export interface StoredHook {
  readonly hookId: string;
  readonly tenant: string;
  readonly type: string;
  readonly inputFrom: Readonly<Record<string, string>> | null;
  readonly priority: JobPriority;
  readonly enabled: boolean;
  readonly description: string | null;
  readonly secret: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface HookRegistryState {
  readonly hooks: Readonly<Record<string, StoredHook>>;
}

export interface HookRegistryInput {
  readonly state: HookRegistryState | null;
  /** Tests make it small to see continue-as-new. */
  readonly historyLimit?: number;
}

/** A hook's new record, as the API makes it; the registry stamps its times. */
export type NewHook = Omit<StoredHook, 'createdAt' | 'updatedAt'>;
export interface HookRef {
  readonly tenant: string;
  readonly hookId: string;
}
export interface SetHookEnabled extends HookRef {
  readonly enabled: boolean;
}

export { hookLimitErrorType, maxHooks, maxHooksPerTenant } from './hook-limits.js';

export function hookRegistryWorkflowId(prefix: string): string {
  return `${prefix}#hook-registry`;
}
export const hookRegistryWorkflowType = 'hookRegistryWorkflow';
