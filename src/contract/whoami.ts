import { z } from 'zod';

/** `GET /api/v1/whoami`: the tenant the caller's key acts as (`default` when the API is open). */
export const Whoami = z.object({
  tenant: z.string().describe("the tenant of the caller's API key; `default` when no keys are configured"),
});
export type Whoami = z.infer<typeof Whoami>;
