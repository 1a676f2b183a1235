// How a hook's delivery proves its sender: an HMAC-SHA256 of the raw body under the hook's secret, in GitHub's header
// or in a Stripe-style timestamped one. Pure: the tests call it with headers and a clock.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A timestamped signature older (or further ahead) than this is refused: a captured delivery cannot be replayed. */
export const replayWindowSeconds = 300;

export const githubSignatureHeader = 'x-hub-signature-256';
/** Stripe-Signature, or any `…-Signature` header of the same format: `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`. */
const timestampedHeader = /^(?:[a-z0-9]+-)*signature$/;
const hexDigest = /^[0-9a-fA-F]{64}$/;
/** A sender rolling its secret signs with both (Stripe does); more than this many is not a signature. */
const maxTimestampedSignatures = 8;

export const signatureHelp =
  'send X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body> or Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">, keyed with the hook\'s secret';

function hmac(secret: string, ...parts: (string | Buffer)[]): Buffer {
  const mac = createHmac('sha256', secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** Whether any candidate (hex) is the expected digest; every candidate is compared, each in constant time. */
function matchesAny(expected: Buffer, candidates: readonly string[]): boolean {
  let matched = false;
  for (const candidate of candidates) {
    if (timingSafeEqual(expected, Buffer.from(candidate, 'hex'))) matched = true;
  }
  return matched;
}

/** A timestamped header's timestamp and v1 signatures, or undefined when the value is not in that format. */
export function parseTimestampedSignature(value: string): { timestamp: number; signatures: string[] } | undefined {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of value.split(',')) {
    const at = part.indexOf('=');
    if (at < 1) return undefined;
    const key = part.slice(0, at).trim();
    const item = part.slice(at + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(item)) return undefined;
      timestamp = Number(item);
    } else if (key === 'v1') {
      if (!hexDigest.test(item) || signatures.length === maxTimestampedSignatures) return undefined;
      signatures.push(item);
    }
  }
  return timestamp === undefined || signatures.length === 0 ? undefined : { timestamp, signatures };
}

/** The headers as sent: one value, or one per line a header was sent on (IncomingMessage.headersDistinct). */
export type SentHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

function valuesOf(value: string | readonly string[] | undefined): readonly string[] {
  return value === undefined ? [] : typeof value === 'string' ? [value] : value;
}

/** A signature header sent twice: Node would join the two into one value that is no signature ("no signature"). */
function sentTwice(name: string, times: number): string {
  return `${name} was given ${times} times; send it once (a sender signing with two secrets puts both signatures in one header)`;
}

/**
 * Why the delivery's signature does not prove it came from the hook's secret holder, or undefined when it does.
 * GitHub's header is used when present; otherwise the first `…-Signature` header in the timestamped format.
 */
export function signatureRefusal(
  secret: string,
  body: Buffer,
  headers: SentHeaders,
  nowMs: number,
): string | undefined {
  const github = valuesOf(headers[githubSignatureHeader]);
  if (github.length > 1) return sentTwice(githubSignatureHeader, github.length);
  if (github.length === 1) {
    const match = /^sha256=([0-9a-fA-F]{64})$/.exec(github[0]!.trim());
    if (!match) return `${githubSignatureHeader} is malformed: ${signatureHelp}`;
    return matchesAny(hmac(secret, body), [match[1]!]) ? undefined : 'the signature does not match the body';
  }
  for (const [name, value] of Object.entries(headers)) {
    if (!timestampedHeader.test(name)) continue;
    const values = valuesOf(value);
    const parsed = values.map(parseTimestampedSignature);
    if (!parsed.some(Boolean)) continue;
    if (values.length > 1) return sentTwice(name, values.length);
    const { timestamp, signatures } = parsed[0]!;
    if (Math.abs(nowMs / 1000 - timestamp) > replayWindowSeconds)
      return `the signature's timestamp is more than ${replayWindowSeconds} seconds from now`;
    const expected = hmac(secret, `${timestamp}.`, body);
    return matchesAny(expected, signatures) ? undefined : 'the signature does not match the body';
  }
  return `no signature: ${signatureHelp}`;
}
