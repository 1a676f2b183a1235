// JSON measured and hashed without writing it out: a job's input or state can be half a megabyte, and each
// JSON.stringify of it made a string of that size for the collector (issue 21: a big submit made 13 of them).
import { escaped, isLeftOut, jsonUtf8 } from '@durable-jobs/worker/json-utf8';
import { JsonText } from '../contract/json-text.js';

/** Extra bytes the escapes of `text` add to its UTF-8 length (a lone surrogate: `\udXXX`, 6 bytes for its 3). */
function escapeBytes(text: string): number {
  let extra = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22 || code === 0x5c) extra += 1;
    else if (code < 0x20) extra += [0x08, 0x09, 0x0a, 0x0c, 0x0d].includes(code) ? 1 : 5;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else extra += 3;
    } else if (code >= 0xd800 && code <= 0xdfff) extra += 3;
  }
  return extra;
}

/** How strings are measured: `exact` counts their escapes too, `unescaped` leaves out that scan of every character. */
export type StringMeasure = 'exact' | 'unescaped';

function stringBytes(text: string, measure: StringMeasure): number {
  const unescaped = Buffer.byteLength(text, 'utf8') + 2;
  return measure === 'exact' && escaped.test(text) ? unescaped + escapeBytes(text) : unescaped;
}

/**
 * The length in bytes of `JSON.stringify(value)` as UTF-8, for JSON data (what JSON.parse makes, and objects of
 * plain data): exact, and no bigger allocation than the walk's own; with `unescaped`, less the escapes' extra bytes
 * (what a memory estimate needs, at a fraction of the cost). A value with `toJSON` is stringified.
 */
export function jsonByteLength(value: unknown, measure: StringMeasure = 'exact'): number {
  switch (typeof value) {
    case 'string':
      return stringBytes(value, measure);
    case 'number':
      return Number.isFinite(value) ? String(value).length : 4;
    case 'boolean':
      return value ? 4 : 5;
    case 'object': {
      if (value === null) return 4;
      if (value instanceof JsonText) return value.bytes.length;
      if ('toJSON' in value && typeof value.toJSON === 'function') return Buffer.byteLength(JSON.stringify(value));
      if (Array.isArray(value)) {
        let bytes = 2 + Math.max(0, value.length - 1);
        for (const item of value) bytes += isLeftOut(item) ? 4 : jsonByteLength(item, measure);
        return bytes;
      }
      let bytes = 2;
      let members = 0;
      for (const [key, member] of Object.entries(value)) {
        if (isLeftOut(member)) continue;
        bytes += stringBytes(key, measure) + 1 + jsonByteLength(member, measure);
        members++;
      }
      return bytes + Math.max(0, members - 1);
    }
    default:
      return Buffer.byteLength(JSON.stringify(value) ?? '');
  }
}

/** What `JSON.stringify` writes for `text`, a string at a time: the string itself when nothing in it is escaped. */
function* stringPieces(text: string): Generator<string> {
  if (escaped.test(text)) {
    yield JSON.stringify(text);
    return;
  }
  yield '"';
  yield text;
  yield '"';
}

/**
 * JSON.stringify(value) with every object's keys in sorted order (integer-like keys first, as an object orders them),
 * as pieces whose concatenation is that string, so that a hash can be fed without the whole of it in memory.
 */
export function* canonicalJsonPieces(value: unknown): Generator<string> {
  if (typeof value === 'string') {
    yield* stringPieces(value);
    return;
  }
  if (value === null || typeof value !== 'object' || ('toJSON' in value && typeof value.toJSON === 'function')) {
    yield JSON.stringify(value) ?? 'null';
    return;
  }
  if (Array.isArray(value)) {
    yield '[';
    for (const [i, item] of value.entries()) {
      if (i > 0) yield ',';
      yield* isLeftOut(item) ? ['null'] : canonicalJsonPieces(item);
    }
    yield ']';
    return;
  }
  // Sorted, then made an object again as before: an object lists integer-like keys first, in numeric order.
  const sorted = Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  yield '{';
  let first = true;
  for (const [key, member] of Object.entries(sorted)) {
    if (isLeftOut(member)) continue;
    if (!first) yield ',';
    first = false;
    yield* stringPieces(key);
    yield ':';
    yield* canonicalJsonPieces(member);
  }
  yield '}';
}

/**
 * `JSON.stringify(value)` as UTF-8 (big plain data written without a string of its size, `jsonUtf8`), with the text
 * of each JsonText member of an object written as it is: a job's JSON with a held half-megabyte input is its small
 * fields' JSON around the input's bytes, and no string of its size.
 */
export function writtenJson(value: unknown): Buffer {
  const holdsText =
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !('toJSON' in value) &&
    Object.values(value).some((member) => member instanceof JsonText);
  if (!holdsText) {
    const json = jsonUtf8(value);
    return json ? Buffer.from(json.buffer, json.byteOffset, json.byteLength) : Buffer.from('null');
  }
  const pieces: Uint8Array[] = [];
  let text = '{';
  let first = true;
  for (const [key, member] of Object.entries(value)) {
    const json = member instanceof JsonText ? '' : JSON.stringify(member);
    if (json === undefined) continue;
    text += `${first ? '' : ','}${JSON.stringify(key)}:${json}`;
    first = false;
    if (!(member instanceof JsonText)) continue;
    pieces.push(Buffer.from(text), member.bytes);
    text = '';
  }
  pieces.push(Buffer.from(`${text}}`));
  return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
}
