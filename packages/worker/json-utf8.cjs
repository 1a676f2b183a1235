// JSON.stringify's UTF-8 bytes, written without the string: a half-megabyte job input or state written as JSON became
// a string of its size, in V8's large-object space, and then its bytes; each such string counts toward the next full
// collection, and a big submit made two of them (the start's payload and the answer; issue 21). Here plain JSON data
// (what JSON.parse makes) over `directBytes` is written straight into a byte array, a string of it at a time.
// CommonJS, beside json-payloads.cjs, which the workflow bundle builds in: no Node-only API (no Buffer).
'use strict';

/** Below this many characters, JSON.stringify and one encode are quicker than the walk. */
const directBytes = 64 * 1024;
/** Deeper values are left to JSON.stringify (which refuses a cycle as it always did). */
const maxDepth = 64;

/** Characters JSON.stringify writes escaped: `"`, `\`, control characters and lone surrogates (pairs pass). */
// eslint-disable-next-line no-control-regex -- control characters are what JSON escapes
const escaped = /["\\\u0000-\u001f\ud800-\udfff]/;

const utf8Encoder = new TextEncoder();
const canWriteInto = typeof utf8Encoder.encodeInto === 'function';

function isPlainObject(value) {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Values JSON.stringify leaves out of an object and writes as `null` in an array. */
function isLeftOut(value) {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

/**
 * The number of UTF-16 units of the value's JSON (strings counted unescaped), or -1 when the value is not plain JSON
 * data: anything with `toJSON`, a class instance, a bigint, a typed array, or a value deeper than `maxDepth`.
 */
function plainLength(value, depth) {
  switch (typeof value) {
    case 'string':
      return value.length + 2;
    case 'number':
      return 8;
    case 'boolean':
      return 5;
    case 'object': {
      if (value === null) return 4;
      if (depth >= maxDepth || typeof value.toJSON === 'function') return -1;
      let units = 2;
      if (Array.isArray(value)) {
        for (const item of value) {
          const itemUnits = isLeftOut(item) ? 4 : plainLength(item, depth + 1);
          if (itemUnits < 0) return -1;
          units += itemUnits + 1;
        }
        return units;
      }
      if (!isPlainObject(value)) return -1;
      for (const key of Object.keys(value)) {
        const member = value[key];
        if (isLeftOut(member)) continue;
        const memberUnits = plainLength(member, depth + 1);
        if (memberUnits < 0) return -1;
        units += key.length + 4 + memberUnits;
      }
      return units;
    }
    default:
      return -1;
  }
}

/** A byte array written from its start, grown when a string does not fit. */
class Utf8Bytes {
  constructor(capacity) {
    this.bytes = new Uint8Array(capacity);
    this.length = 0;
  }

  write(text) {
    let rest = text;
    for (;;) {
      const { read, written } = utf8Encoder.encodeInto(rest, this.bytes.subarray(this.length));
      this.length += written;
      if (read === rest.length) return;
      rest = rest.slice(read);
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + rest.length * 3));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
  }

  writeValue(value) {
    switch (typeof value) {
      case 'string':
        if (escaped.test(value)) this.write(JSON.stringify(value));
        else {
          this.write('"');
          this.write(value);
          this.write('"');
        }
        return;
      case 'object': {
        if (value === null) {
          this.write('null');
          return;
        }
        if (Array.isArray(value)) {
          this.write('[');
          for (let i = 0; i < value.length; i++) {
            if (i > 0) this.write(',');
            const item = value[i];
            if (isLeftOut(item)) this.write('null');
            else this.writeValue(item);
          }
          this.write(']');
          return;
        }
        this.write('{');
        let first = true;
        for (const key of Object.keys(value)) {
          const member = value[key];
          if (isLeftOut(member)) continue;
          if (!first) this.write(',');
          first = false;
          this.writeValue(key);
          this.write(':');
          this.writeValue(member);
        }
        this.write('}');
        return;
      }
      default:
        // Numbers and booleans, as JSON.stringify writes them (a non-finite number as null).
        this.write(JSON.stringify(value));
    }
  }
}

/**
 * The UTF-8 bytes of `JSON.stringify(value)`, byte for byte, or undefined where JSON.stringify gives undefined; throws
 * where it throws. Big plain data is written without a string of its size.
 */
function jsonUtf8(value) {
  const units = canWriteInto ? plainLength(value, 0) : -1;
  if (units < directBytes) {
    const json = JSON.stringify(value);
    return json === undefined ? undefined : utf8Encoder.encode(json);
  }
  const written = new Utf8Bytes(units);
  written.writeValue(value);
  const { bytes, length } = written;
  // Grown for characters over U+007F or escapes: not kept bigger than the JSON by more than a little.
  return bytes.length > length + (length >> 3) ? bytes.slice(0, length) : bytes.subarray(0, length);
}

exports.jsonUtf8 = jsonUtf8;
// Shared with the API's measuring and hashing of JSON (src/jobs/json-bytes.ts).
exports.escaped = escaped;
exports.isLeftOut = isLeftOut;
