// Big JSON read without being parsed whole (src/jobs/shown-json.ts): what JSON.parse makes of it, but a big `input`
// (redacted as the job JSON shows it) and `result` held as their text, for every spelling JSON allows around them.
import assert from 'node:assert/strict';
import { JsonText } from '../../src/contract/json-text.js';
import { redacted, redactedInput } from '../../src/contract/job-json.js';
import { writtenJson } from '../../src/jobs/json-bytes.js';
import { parseShown } from '../../src/jobs/shown-json.js';

const utf8 = new TextEncoder();
const holdBytes = 256;
const long = 'é"\\ \n😀 '.repeat(40);

/** What the job JSON shows of a state: its input redacted, the rest as it is. */
function shownOf(state: { type: string; input?: unknown }): unknown {
  return 'input' in state ? { ...state, input: redactedInput(state.type, state.input) } : state;
}

/** JSON as JSON.stringify writes it, and spelled with whitespace everywhere JSON allows it. */
function spellings(value: unknown): string[] {
  return [JSON.stringify(value), ` \n${JSON.stringify(value, null, '\t')}\r\n `];
}

const states = [
  { jobId: 'j', type: 'sleep', status: 'succeeded', input: { message: long }, result: { echoed: [long, 1, null] } },
  { type: 'command', input: { command: 'c', args: [long], env: { TOKEN: 'secret-token', B: '' } }, result: long },
  { type: 'command', input: { env: { TOKEN: 'secret-token' }, args: [long, '\\'], command: '\\"' }, result: null },
  { type: 'command', input: { args: [long], env: null }, result: [] },
  { type: 'command', input: [long, { env: { TOKEN: 'secret-token' } }] },
  { input: { a: long }, type: 'command', result: { '': long, '}': '{', ']': '[' } },
  { type: 'sleep', input: { a: 1 }, result: { b: 2 }, note: long },
  { type: 'sleep', input: -1.5e-7, result: true, attempt: 0 },
];

describe('Big JSON read without being parsed whole', () => {
  it('writes the value as the job JSON shows it (redacted), with the bytes JSON.stringify writes', () => {
    for (const state of states)
      for (const text of spellings(state)) {
        const shown = parseShown(utf8.encode(text), holdBytes);
        // Held text written with line breaks is written again: an event stream's data line ends at one.
        assert.equal(writtenJson(shown).toString('utf8'), JSON.stringify(shownOf(state)), text.slice(0, 80));
        assert.deepEqual(JSON.parse(JSON.stringify(shown)), shownOf(state));
      }
  });

  it('keeps the bytes of held text that has no line break, whitespace and all', () => {
    const text = `{"type":"sleep","input":{ "message" : "${'m'.repeat(300)}" }}`;
    const shown = parseShown(utf8.encode(text), holdBytes) as { input: JsonText };
    assert.equal(Buffer.from(shown.input.bytes).toString('utf8'), `{ "message" : "${'m'.repeat(300)}" }`);
  });

  it('holds only a big input or result as text; everything else is what JSON.parse makes', () => {
    const [sleep, command] = states;
    const shown = parseShown(utf8.encode(JSON.stringify(sleep)), holdBytes) as Record<string, unknown>;
    assert.ok(shown['input'] instanceof JsonText);
    assert.ok(shown['result'] instanceof JsonText);
    assert.deepEqual({ ...shown, input: null, result: null }, { ...sleep, input: null, result: null });
    const small = { type: 'command', input: { env: { TOKEN: 'kept' } }, result: null };
    assert.deepEqual(parseShown(utf8.encode(JSON.stringify(small)), holdBytes), small);
    const held = parseShown(utf8.encode(JSON.stringify(command)), holdBytes) as { input: JsonText };
    const heldText = Buffer.from(held.input.bytes).toString('utf8');
    assert.ok(!heldText.includes('secret-token'));
    assert.deepEqual(JSON.parse(heldText), { ...(command!.input as object), env: { TOKEN: redacted, B: redacted } });
  });

  it('reads members as JSON.parse does: "__proto__" an own member, a repeated name its last value', () => {
    const text = `{"__proto__":{"polluted":1},"type":"command","input":{"env":{"A":"first-secret"},"env":{"B":"x"},"pad":"${'p'.repeat(300)}"},"input2":1}`;
    const shown = parseShown(utf8.encode(text), holdBytes) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(shown), Object.prototype);
    assert.deepEqual(shown['__proto__'], { polluted: 1 });
    const input = shown['input'] as JsonText;
    assert.ok(!Buffer.from(input.bytes).toString('utf8').includes('first-secret'));
    assert.deepEqual(JSON.parse(JSON.stringify(shown)), shownOf(JSON.parse(text) as { type: string; input: unknown }));
  });

  it('refuses JSON with strings or brackets not closed, members not separated, a raw line break, text after it', () => {
    const input = `{"a":"${'x'.repeat(300)}"}`;
    for (const broken of [
      `{"type":"sleep","input":${input}`,
      `{"type":"sleep","input":${input.slice(0, -2)}}`,
      `{"type":"sleep" "input":${input}}`,
      `{"type":"sleep","input":${input}}}`,
      `{"type","input":${input}}`,
      `{"type":,"input":${input}}`,
      `{"type":"sleep","input":{"a":"line\nbreak ${'x'.repeat(300)}"}}`,
      `{}${' '.repeat(300)}garbage`,
    ])
      assert.throws(() => parseShown(utf8.encode(broken), holdBytes), SyntaxError, broken.slice(0, 40));
  });
});
