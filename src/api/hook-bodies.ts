// A hook delivery's body as senders send it: JSON, or GitHub's form encoding (its webhook's "Content type" setting:
// `payload=<URL-encoded JSON>`); and the event id a Stripe-style delivery carries in it. Pure: the tests call it.
import { parseJsonBytes } from './body.js';
import { RequestInvalidError } from './errors.js';

export const formMediaType = 'application/x-www-form-urlencoded';

/** What a delivery may be sent as: said by a 415, and by a 400 for a form that is not GitHub's. */
export const deliveryBodyHelp =
  'send the JSON as application/json, or as GitHub does with its content type application/x-www-form-urlencoded: one field, payload, holding the JSON (UTF-8)';

/** The bytes a form name or value stands for: `+` is a space, `%XX` a byte; undefined for a `%` without two hex digits. */
function formDecode(encoded: Buffer): Buffer | undefined {
  const decoded = Buffer.alloc(encoded.length);
  let length = 0;
  for (let at = 0; at < encoded.length; at++) {
    const byte = encoded[at]!;
    if (byte === 0x2b) decoded[length++] = 0x20;
    else if (byte !== 0x25) decoded[length++] = byte;
    else {
      const hex = encoded.subarray(at + 1, at + 3).toString('latin1');
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      decoded[length++] = Number.parseInt(hex, 16);
      at += 2;
    }
  }
  return decoded.subarray(0, length);
}

function splitAt(bytes: Buffer, separator: number): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let end = bytes.indexOf(separator); end !== -1; end = bytes.indexOf(separator, start)) {
    parts.push(bytes.subarray(start, end));
    start = end + 1;
  }
  parts.push(bytes.subarray(start));
  return parts;
}

/**
 * The JSON of a form-encoded delivery: its one field, `payload` (names decoded as values are, so `pay%6Coad` is that
 * field too). Any other field, a second `payload` or none is refused: that form is not GitHub's, and the job's input
 * must not depend on which of two values a reader would pick.
 */
export function formPayload(body: Buffer): unknown {
  const fields = splitAt(body, 0x26 /* & */)
    .filter((field) => field.length > 0)
    .map((field) => {
      const at = field.indexOf(0x3d /* = */);
      const name = formDecode(at === -1 ? field : field.subarray(0, at));
      const value = at === -1 ? Buffer.alloc(0) : formDecode(field.subarray(at + 1));
      if (!name || !value) throw new RequestInvalidError(`the form is malformed: a % without two hex digits`);
      return { name: name.toString('latin1'), value };
    });
  const payloads = fields.filter((field) => field.name === 'payload');
  if (payloads.length !== 1 || fields.length !== 1) {
    const found =
      payloads.length === 0
        ? 'it has no payload field'
        : payloads.length > 1
          ? `it has ${payloads.length} payload fields`
          : 'it has fields besides payload';
    throw new RequestInvalidError(`the form is not a GitHub delivery: ${found}; ${deliveryBodyHelp}`);
  }
  try {
    return parseJsonBytes(payloads[0]!.value);
  } catch (err) {
    if (err instanceof RequestInvalidError) throw new RequestInvalidError(`payload: ${err.message}`);
    throw err;
  }
}

/**
 * The event id in a Stripe-style delivery's body (Stripe's `{"id": "evt_…", …}`): Stripe retries an event with the
 * same id (and a new signature), so it names the delivery as X-GitHub-Delivery does GitHub's.
 */
export function stripeEventId(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !Object.hasOwn(body, 'id')) return undefined;
  const id = (body as Record<string, unknown>)['id'];
  return typeof id === 'string' && id.startsWith('evt_') ? id : undefined;
}
