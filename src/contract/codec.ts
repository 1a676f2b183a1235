import { z } from 'zod';

/** Where the Temporal Web UI is pointed (`--ui-codec-endpoint`); it appends `/encode` and `/decode`. */
export const codecEndpointPath = '/api/v1/codec';

/** Bytes in protobuf's JSON form: base64, standard or URL-safe, padded or not. */
const Base64Bytes = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'is not base64');

/** A Temporal payload as the remote codec protocol carries it (protobuf JSON of temporal.api.common.v1.Payload). */
export const CodecPayload = z.object({
  metadata: z.record(z.string(), Base64Bytes).optional().describe('metadata values, base64'),
  data: Base64Bytes.optional().describe('the payload bytes, base64'),
});
export type CodecPayload = z.infer<typeof CodecPayload>;

/**
 * The body of Temporal's remote codec protocol, both ways (`POST …/codec/encode`, `…/decode`): what the
 * Temporal Web UI and `temporal` CLI send to a codec server (`--ui-codec-endpoint`, `--codec-endpoint`).
 */
export const CodecPayloads = z.object({
  payloads: z.array(CodecPayload).max(10_000),
});
export type CodecPayloads = z.infer<typeof CodecPayloads>;
