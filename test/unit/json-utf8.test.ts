// jsonUtf8 (packages/worker/json-utf8.cjs) writes the bytes of JSON.stringify, byte for byte, whatever the value:
// every payload of the service and every answer of a big job is written with it.
import assert from 'node:assert/strict';
import { jsonUtf8 } from '@durable-jobs/worker/json-utf8';

const big = (piece: string, count = 20): string[] => Array.from({ length: count }, (_, i) => `${i}${piece}`);
const asciiArgs = big('a'.repeat(32_000));

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

const values: Array<[string, unknown]> = [
  ['a big command input', { command: 'spew', args: asciiArgs, env: { TOKEN: 'secret' } }],
  ['characters over U+007F, which outgrow the first estimate', { text: big('é中😀'.repeat(12_000), 4) }],
  ['escapes and lone surrogates', { args: big('"quoted" \\ \n\t\u0001 \ud800 \udc00 \ud83d\ude00'.repeat(4_000), 3) }],
  [
    'numbers, booleans and null as JSON writes them',
    { n: [0, -0, 1e21, 5e-7, -1.5, NaN, Infinity, -Infinity, 2 ** 53 + 1], b: [true, false], z: null, pad: asciiArgs },
  ],
  [
    'members JSON leaves out and items it writes as null',
    // eslint-disable-next-line no-sparse-arrays -- a hole is written as null
    { gone: undefined, fn: () => 1, sym: Symbol('s'), list: [undefined, () => 1, Symbol('s'), , 1], pad: asciiArgs },
  ],
  ['integer-like keys, which an object lists first', { b: 1, 10: 'ten', 2: 'two', a: asciiArgs }],
  [
    'keys that need escapes, and __proto__ as JSON.parse makes it',
    JSON.parse(`{"__proto__":1,"q\\"k":2,"pad":${JSON.stringify(asciiArgs)}}`),
  ],
  ['an object without a prototype', Object.assign(Object.create(null) as object, { pad: asciiArgs })],
  ['a value with toJSON inside', { at: new Date(0), pad: asciiArgs }],
  ['a class instance inside', { point: new Point(1, 2), pad: asciiArgs }],
  ['an array with toJSON inside', { list: Object.assign([1, 2], { toJSON: () => 'listed' }), pad: asciiArgs }],
  ['a typed array inside', { bytes: new Uint8Array([1, 2]), pad: asciiArgs }],
  [
    'deeper than the walk goes',
    { deep: JSON.parse(`${'['.repeat(100)}1${']'.repeat(100)}`) as unknown, pad: asciiArgs },
  ],
  ['a big string alone', 'x'.repeat(480_000)],
  ['small values', { a: 1, b: ['x'] }],
  ['a number alone', 42],
  ['null', null],
];

describe('jsonUtf8: the bytes of JSON.stringify, written without its string', () => {
  for (const [what, value] of values) {
    it(`writes ${what} as JSON.stringify does`, () => {
      const written = jsonUtf8(value);
      assert.ok(written);
      assert.equal(Buffer.from(written).toString('utf8'), JSON.stringify(value));
      assert.deepEqual(Buffer.from(written), Buffer.from(JSON.stringify(value)));
    });
  }

  it('answers undefined where JSON.stringify does, and throws where it throws', () => {
    assert.equal(jsonUtf8(undefined), undefined);
    assert.equal(
      jsonUtf8(() => 1),
      undefined,
    );
    const cyclic: Record<string, unknown> = { pad: asciiArgs };
    cyclic['self'] = cyclic;
    assert.throws(() => jsonUtf8(cyclic), TypeError);
    assert.throws(() => jsonUtf8({ n: 1n, pad: asciiArgs }), TypeError);
  });
});
