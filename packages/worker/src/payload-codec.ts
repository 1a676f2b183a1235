// The payload encryption of the service and its handler workers (docs/worker-protocol.md, "Payload encryption"): a
// handler worker must read what the service wrote and write what it reads, so the service uses this module too
// (`@durable-jobs/worker/payload-codec`, which loads no worker).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

// A CommonJS package whose exports Node's ESM loader cannot see by name.
const ProtoPayload = proto.temporal.api.common.v1.Payload;

/** The payload converter of every client, worker and workflow bundle (json-payloads.cjs): Temporal's JSON, coded natively. */
export const jsonPayloadConverterPath = fileURLToPath(new URL('../json-payloads.cjs', import.meta.url));

/** The `encoding` of an encrypted payload; anything else is passed through as written. */
export const encryptedEncoding = 'binary/encrypted';
/** Names the key a payload was encrypted with, so older keys still decrypt what they wrote. */
export const keyIdField = 'encryption-key-id';
const ivBytes = 12;
const tagBytes = 16;

/** Thrown by parsePayloadKey for a key that is not 32 bytes as hex or base64. */
export class PayloadKeyInvalidError extends Error {
  override readonly name = 'PayloadKeyInvalidError';
  constructor() {
    super('a payload encryption key must be 32 bytes as 64 hex digits or base64 (openssl rand -base64 32)');
  }
}

/** Thrown when decoding a payload encrypted with a key this worker was not given. */
export class PayloadKeyUnknownError extends Error {
  override readonly name = 'PayloadKeyUnknownError';
  constructor(readonly keyId: string) {
    super(
      `a payload is encrypted with key ${keyId}, which is not one of the keys given (PAYLOAD_ENCRYPTION_KEY, PAYLOAD_DECRYPTION_KEYS)`,
    );
  }
}

/** The key as the service's PAYLOAD_ENCRYPTION_KEY takes it: 64 hex digits or base64 of 32 bytes. */
export function parsePayloadKey(text: string): Buffer {
  const trimmed = text.trim();
  const bytes = /^[0-9a-f]{64}$/i.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/]{43}=?$/.test(trimmed)
      ? Buffer.from(trimmed, 'base64')
      : undefined;
  if (bytes?.length !== 32) throw new PayloadKeyInvalidError();
  return bytes;
}

/** A key's public name: a digest, so the metadata says which key without revealing anything of it. */
export function payloadKeyId(key: Buffer): string {
  return createHash('sha256').update('durable-jobs payload key\0').update(key).digest('hex').slice(0, 16);
}

/** AES-256-GCM over the whole serialized payload: data is IV ‖ ciphertext ‖ tag; plain payloads pass through. */
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

  // Synchronous work behind the codec's Promise API: a throw (an unknown key) becomes the rejection.
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
