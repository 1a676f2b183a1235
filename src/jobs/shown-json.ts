// Big JSON read without being parsed whole: a job's state or request from Temporal with a half-megabyte input or
// result is split into its members, its small ones parsed and its big `input` and `result` kept as their JSON text
// (JsonText), so that the API's main thread makes no strings of their size for its collector (issue 21).
import { jsonUtf8 } from '@durable-jobs/worker/json-utf8';
import { JsonText } from '../contract/json-text.js';
import { redacted, redactedInput } from '../contract/job-json.js';

/** A member this big (bytes of JSON) is held as its text. */
export const shownJsonHoldBytes = 64 * 1024;

// As the payload converter decodes (json-payloads.cjs): a byte that is not UTF-8 reads as U+FFFD.
const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

const quote = 0x22;
const backslash = 0x5c;
const comma = 0x2c;
const colon = 0x3a;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const lineFeed = 0x0a;
const carriageReturn = 0x0d;

function isWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === lineFeed || byte === carriageReturn;
}

/** Whether a byte ends a number, `true`, `false` or `null`. */
function endsLiteral(byte: number | undefined): boolean {
  return byte === comma || byte === closeBrace || byte === closeBracket || isWhitespace(byte);
}

function skipWhitespace(bytes: Uint8Array, at: number): number {
  while (isWhitespace(bytes[at])) at++;
  return at;
}

/** The end (past its closing quote) of the string whose opening quote is at `at`. */
function stringEnd(bytes: Uint8Array, at: number): number {
  for (let from = at + 1; ;) {
    const close = bytes.indexOf(quote, from);
    if (close < 0) throw new SyntaxError('unterminated string in JSON');
    let backslashes = 0;
    while (bytes[close - 1 - backslashes] === backslash) backslashes++;
    if (backslashes % 2 === 0) return close + 1;
    from = close + 1;
  }
}

/**
 * The end of the JSON value that starts at `at` (no whitespace before it). Bytes of a multi-byte UTF-8 character are
 * all over 0x7f, so none is taken for a quote or a bracket.
 */
function valueEnd(bytes: Uint8Array, at: number): number {
  const first = bytes[at];
  if (first === quote) return stringEnd(bytes, at);
  if (first === openBrace || first === openBracket) {
    let depth = 0;
    for (let i = at; i < bytes.length; i++) {
      const byte = bytes[i];
      if (byte === quote) i = stringEnd(bytes, i) - 1;
      else if (byte === openBrace || byte === openBracket) depth++;
      else if (byte === closeBrace || byte === closeBracket) {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    throw new SyntaxError('unterminated object or array in JSON');
  }
  let end = at;
  while (end < bytes.length && !endsLiteral(bytes[end])) end++;
  if (end === at) throw new SyntaxError('a value was expected in JSON');
  return end;
}

interface Member {
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

/** The members of the object whose `{` is at `at`, in order, each with where its value's JSON starts and ends. */
function membersOf(bytes: Uint8Array, at: number, end: number): Member[] {
  const members: Member[] = [];
  let i = skipWhitespace(bytes, at + 1);
  if (bytes[i] === closeBrace && i === end - 1) return members;
  for (;;) {
    if (bytes[i] !== quote) throw new SyntaxError('a member name was expected in JSON');
    const keyEnd = stringEnd(bytes, i);
    const key = JSON.parse(utf8.decode(bytes.subarray(i, keyEnd))) as string;
    i = skipWhitespace(bytes, keyEnd);
    if (bytes[i] !== colon) throw new SyntaxError('":" was expected in JSON');
    const start = skipWhitespace(bytes, i + 1);
    const valueStop = valueEnd(bytes, start);
    members.push({ key, start, end: valueStop });
    i = skipWhitespace(bytes, valueStop);
    if (bytes[i] === closeBrace && i === end - 1) return members;
    if (bytes[i] !== comma) throw new SyntaxError('"," or "}" was expected in JSON');
    i = skipWhitespace(bytes, i + 1);
  }
}

function parsed(bytes: Uint8Array, start: number, end: number): unknown {
  return JSON.parse(utf8.decode(bytes.subarray(start, end)));
}

/**
 * A copy of the bytes, so that the text does not keep the whole message they came in. Text with a line break (JSON
 * written with indents, or a raw one in a string, which JSON refuses) is parsed and written again: JSON.stringify
 * writes none, and an event stream's `data:` line would end at one.
 */
function textOf(...pieces: Uint8Array[]): JsonText {
  const text = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let at = 0;
  for (const piece of pieces) {
    text.set(piece, at);
    at += piece.length;
  }
  if (!text.includes(lineFeed) && !text.includes(carriageReturn)) return new JsonText(text);
  return rewritten(JSON.parse(utf8.decode(text)));
}

/** A parsed value held as text again: JSON.stringify's bytes, written without a string of its size (`jsonUtf8`). */
function rewritten(value: unknown): JsonText {
  return new JsonText(jsonUtf8(value) ?? utf8Encoder.encode('null'));
}

/**
 * A command's input as the job JSON shows it (`redactedInput`), as text: its `env` member's values read `***`, every
 * other byte as it was.
 */
function redactedCommandInput(bytes: Uint8Array, input: Member): JsonText {
  if (bytes[input.start] !== openBrace) return textOf(bytes.subarray(input.start, input.end));
  const envs = membersOf(bytes, input.start, input.end).filter((member) => member.key === 'env');
  // Written twice (JSON.stringify never does), the first would stay in the text: redacted the long way.
  if (envs.length > 1) {
    return rewritten(redactedInput('command', parsed(bytes, input.start, input.end)));
  }
  const env = envs[0];
  const envValue = env && parsed(bytes, env.start, env.end);
  if (!env || typeof envValue !== 'object' || envValue === null) return textOf(bytes.subarray(input.start, input.end));
  const shownEnv = JSON.stringify(Object.fromEntries(Object.keys(envValue).map((name) => [name, redacted])));
  return textOf(
    bytes.subarray(input.start, env.start),
    utf8Encoder.encode(shownEnv),
    bytes.subarray(env.end, input.end),
  );
}

/**
 * A job's state or request (UTF-8 JSON, as a Temporal payload carries it) as an answer shows it: parsed (whole when
 * it is no bigger than `holdBytes`), but a big
 * `input` (redacted as the job JSON shows it) and `result` held as their text. Held values are for answers, never for
 * a job's own run: a retry reads its request in full. The payload is JSON a Temporal SDK's converter wrote; the held
 * members are checked for their structure (strings and brackets closed), not parsed.
 */
export function parseShown(bytes: Uint8Array, holdBytes = shownJsonHoldBytes): unknown {
  const start = skipWhitespace(bytes, 0);
  let end = bytes.length;
  while (end > start && isWhitespace(bytes[end - 1])) end--;
  if (bytes.length <= holdBytes || bytes[start] !== openBrace) return parsed(bytes, 0, bytes.length);
  const members = membersOf(bytes, start, end);
  const type = members.findLast((member) => member.key === 'type');
  const typeName = type && parsed(bytes, type.start, type.end);
  const shown = (member: Member): unknown => {
    const big = member.end - member.start > holdBytes && (member.key === 'input' || member.key === 'result');
    if (!big) return parsed(bytes, member.start, member.end);
    if (member.key === 'input' && typeName === 'command') return redactedCommandInput(bytes, member);
    return textOf(bytes.subarray(member.start, member.end));
  };
  // As JSON.parse makes an object: own members only ("__proto__" too), the last of a name in the first one's place.
  return Object.fromEntries(members.map((member) => [member.key, shown(member)]));
}
