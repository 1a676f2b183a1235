import { z } from 'zod';

/** Every error code of the contract (§2 Errors) with the HTTP status it answers. */
export const errorStatusByCode = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  // A start sent to Temporal whose answer was lost: the job may exist; `details` names its jobId to submit again with.
  outcome_unknown: 503,
} as const;

export type ErrorCode = keyof typeof errorStatusByCode;
export const ErrorCode = z.enum(Object.keys(errorStatusByCode) as [ErrorCode, ...ErrorCode[]]);

export const ErrorBody = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string(),
    details: z.array(z.unknown()).optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
