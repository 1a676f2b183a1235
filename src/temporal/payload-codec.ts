import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { Config } from '../config.js';

// A CommonJS package whose exports Node's ESM loader cannot see by name (see api/queues.ts).
const ProtoPayload = proto.temporal.api.common.v1.Payload;

/** The `encoding` of an encrypted payload; anything else is passed through as written. */
export const encryptedEncoding = 'binary/encrypted';
/** Names the key a payload was encrypted with, so older keys still decrypt what they wrote. */
export const keyIdField = 'encryption-key-id';
const ivBytes = 12;
const tagBytes = 16;

/** A key's public name: a digest, so the metadata says which key without revealing anything of it. */
export function payloadKeyId(key: Buffer): string {
  return createHash('sha256').update('durable-jobs payload key\0').update(key).digest('hex').slice(0, 16);
}

/** Thrown by PayloadEncryptionCodec.decode when a payload names a key it was not given. */
export class PayloadKeyUnknownError extends Error {
  override readonly name = 'PayloadKeyUnknownError';
  constructor(readonly keyId: string) {
    super(
      `a payload is encrypted with key ${keyId}, which is neither PAYLOAD_ENCRYPTION_KEY nor one of PAYLOAD_DECRYPTION_KEYS`,
    );
  }
}

/**
 * AES-256-GCM over the whole payload (its metadata too, so even the encoding is hidden): the data is
 * IV ‖ ciphertext ‖ tag; the metadata holds only the encoding and the key id. Plain payloads (written
 * before encryption was on) decode as they are.
 */
export class PayloadEncryptionCodec implements PayloadCodec {
  private readonly currentId: string;
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(
    private readonly current: Buffer,
    older: readonly Buffer[] = [],
  ) {
    this.currentId = payloadKeyId(current);
    this.keys = new Map([...older, current].map((key) => [payloadKeyId(key), key]));
  }

  // The codec interface is asynchronous; a payload that cannot be encrypted or decrypted rejects rather than throws.
  encode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => {
      resolve(payloads.map((payload) => this.encrypt(payload)));
    });
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => {
      resolve(payloads.map((payload) => this.decrypt(payload)));
    });
  }

  private encrypt(payload: Payload): Payload {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', this.current, iv);
    const ciphertext = Buffer.concat([cipher.update(ProtoPayload.encode(payload).finish()), cipher.final()]);
    return {
      metadata: { encoding: Buffer.from(encryptedEncoding), [keyIdField]: Buffer.from(this.currentId) },
      data: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]),
    };
  }

  private decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.['encoding'];
    if (!encoding || Buffer.from(encoding).toString() !== encryptedEncoding) return payload;
    const keyId = Buffer.from(payload.metadata?.[keyIdField] ?? []).toString();
    const key = this.keys.get(keyId);
    if (!key) throw new PayloadKeyUnknownError(keyId);
    const data = Buffer.from(payload.data ?? []);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, ivBytes));
    decipher.setAuthTag(data.subarray(data.length - tagBytes));
    const plain = Buffer.concat([decipher.update(data.subarray(ivBytes, data.length - tagBytes)), decipher.final()]);
    return ProtoPayload.decode(plain);
  }
}

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
 * The data converter of a client or worker with these codecs: with encryption, failures are encoded too, or a
 * failed job's error message (a command's stderr) and stack traces would be stored in clear text. The workflows
 * must then be bundled with the same converter (WorkflowBundleVariant `encodeFailures`).
 */
export function dataConverterFor(payloadCodecs: PayloadCodec[]): DataConverter {
  return payloadCodecs.length > 0 ? { payloadCodecs, failureConverterPath: encodedFailuresPath } : { payloadCodecs };
}
