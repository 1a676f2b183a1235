import { fileURLToPath } from 'node:url';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { jsonPayloadConverterPath, PayloadEncryptionCodec } from '@durable-jobs/worker/payload-codec';
import type { Config } from '../config.js';

// One implementation for the service and the handler workers, which must read each other's payloads.
export {
  encryptedEncoding,
  jsonPayloadConverterPath,
  keyIdField,
  PayloadEncryptionCodec,
  payloadKeyId,
} from '@durable-jobs/worker/payload-codec';

/** The codecs every client and worker of the service use: encryption when a key is configured, else none. */
export function payloadCodecsFor(
  config: Pick<Config, 'PAYLOAD_ENCRYPTION_KEY' | 'PAYLOAD_DECRYPTION_KEYS'>,
): PayloadCodec[] {
  return config.PAYLOAD_ENCRYPTION_KEY
    ? [new PayloadEncryptionCodec(config.PAYLOAD_ENCRYPTION_KEY, config.PAYLOAD_DECRYPTION_KEYS)]
    : [];
}

/**
 * The module of the failure converter that moves failures' messages and stack traces into (encrypted) payloads,
 * beside this one: in src/, and copied as it is into each build (dev/build.mjs, `npm run build`).
 */
export const encodedFailuresPath = fileURLToPath(new URL('./encoded-failures.cjs', import.meta.url));

/**
 * The data converter of a client or worker with these codecs: JSON coded natively (json-payloads.cjs, which every
 * workflow bundle builds in); with encryption, failures are encoded too, or a failed job's error message (a
 * command's stderr) and stack traces would be stored in clear text. The workflows must then be bundled with the
 * same failure converter (WorkflowBundleVariant `encodeFailures`).
 */
export function dataConverterFor(payloadCodecs: PayloadCodec[]): DataConverter {
  const payloadConverterPath = jsonPayloadConverterPath;
  return payloadCodecs.length > 0
    ? { payloadConverterPath, payloadCodecs, failureConverterPath: encodedFailuresPath }
    : { payloadConverterPath, payloadCodecs };
}
