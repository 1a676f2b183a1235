// JSON measured and hashed without being written out whole (src/jobs/json-bytes.ts): the same bytes and the same
// request hashes as writing it out, for every spelling JSON.stringify treats specially.
import assert from 'node:assert/strict';
import { JsonText } from '../../src/contract/json-text.js';
import { canonicalJsonPieces, jsonByteLength, writtenJson } from '../../src/jobs/json-bytes.js';
import { requestHash } from '../../src/jobs/request.js';
import { sampleJobRequest } from '../support/job-request.js';

/** Strings JSON escapes or encodes in more than a byte a character, beside plain ones. */
const strings = [
  '',
  'plain',
  'quote " and backslash \\',
  'controls \b\t\n\f\r \u0000 \u0001 \u001f \u007f',
  'é 中 ﬀ',
  'pair 😀 and lone high \ud800 and lone low \udc00',
  'high at the end \ud83d',
  '0'.repeat(32_000),
];

/** An input as unusual as JSON data gets: integer-like keys, undefined members, -0, exponents, nesting. */
const unusual = {
  z: 1,
  a: [1, undefined, 'é"\\\n\u0001😀\ud800'],
  '10': true,
  '9': null,
  b: { y: -0, x: 1e21 },
};

const values: unknown[] = [
  ...strings,
  ...strings.map((text) => ({ [text]: text })),
  0,
  -0,
  1.5,
  -2e-7,
  1e21,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  false,
  null,
  [],
  {},
  [undefined, null, [[]], { a: undefined }, Symbol('s'), () => 1],
  { gone: undefined, fn: () => 1, sym: Symbol('s'), kept: 1 },
  { b: 2, a: 1, c: { e: [1, 'two'], d: undefined } },
  unusual,
];

describe('JSON measured without writing it out', () => {
  it('is as many bytes as JSON.stringify writes in UTF-8, for every kind of value', () => {
    for (const value of values)
      assert.equal(jsonByteLength(value), Buffer.byteLength(JSON.stringify(value)), JSON.stringify(value));
  });

  it('without the escapes, as a memory estimate: never more, and the same for text with nothing to escape', () => {
    for (const value of values) assert.ok(jsonByteLength(value, 'unescaped') <= jsonByteLength(value));
    const plain = { text: '0'.repeat(32_000), list: ['é', 1, null] };
    assert.equal(jsonByteLength(plain, 'unescaped'), Buffer.byteLength(JSON.stringify(plain)));
  });
});

/** `value` with its JSON text held in a JsonText. */
const held = (value: unknown): JsonText => new JsonText(Buffer.from(JSON.stringify(value)));

describe('JSON with members held as text', () => {
  it('is written as JSON.stringify writes the values themselves, each member in its place', () => {
    for (const value of values) {
      const job = { jobId: 'j', input: held(value), status: 'succeeded', result: held({ value }), gone: undefined };
      const expected = JSON.stringify({ jobId: 'j', input: value, status: 'succeeded', result: { value } });
      assert.equal(writtenJson(job).toString('utf8'), expected, JSON.stringify(value));
    }
  });

  it('is written the same where it is not spliced: held in an array, held alone, or read by JSON.stringify', () => {
    for (const value of [unusual, '0'.repeat(32_000), [1, 'é']]) {
      assert.equal(writtenJson([held(value)]).toString('utf8'), JSON.stringify([value]));
      assert.equal(writtenJson(held(value)).toString('utf8'), JSON.stringify(value));
      assert.equal(JSON.stringify({ input: held(value) }), JSON.stringify({ input: value }));
    }
  });

  it('measures as its bytes', () => {
    const text = held(unusual);
    assert.equal(jsonByteLength(text), text.bytes.length);
    assert.equal(jsonByteLength({ input: text }), Buffer.byteLength(JSON.stringify({ input: unusual })));
  });
});

describe('canonical JSON written in pieces', () => {
  it('is JSON.stringify with every object made again with its keys sorted', () => {
    const sortedKeys = (_key: string, value: unknown): unknown =>
      value && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : value;
    for (const value of values)
      assert.equal([...canonicalJsonPieces(value)].join(''), JSON.stringify(value, sortedKeys), JSON.stringify(value));
  });

  it('hashes requests as they were hashed when the whole JSON was written: a repeat of an older submit still matches', () => {
    // Hashes of the implementation before this one (its memo's requestHash), for three requests.
    assert.equal(requestHash(sampleJobRequest()), '55328512856b8c5b8f21b2de02356a3a2bc211d29da17ebca50307a954e056db');
    assert.equal(
      requestHash(sampleJobRequest({ input: unusual, tags: ['t'] })),
      '409122d007fdf5f0aa4a7f2a15ab684356e9572221bac2e0e3f0e5873ad7d834',
    );
    assert.equal(
      requestHash(sampleJobRequest({ type: 'command', input: { command: 'hello', env: { TOKEN: 'secret' } } })),
      'e505371b1caec24df875e8d9db3c61a5fdd49235dbf2ab6a5a08ef8c71d47aeb',
    );
  });
});
