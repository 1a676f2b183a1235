// What a refusal says back about a misspelt name (src/jobs/suggest.ts), and the end of a failed command's output as
// its error keeps it (src/activities/command/output.ts): bounded whatever was sent or printed, secrets masked.
import assert from 'node:assert/strict';
import { collect, masker, outputTailBytes } from '../../src/activities/command/output.js';
import { didYouMean, listOf, nearest, quoted } from '../../src/jobs/suggest.js';

describe('Suggesting the name a caller meant', function () {
  it('finds the known name a typo, a case or a separator away, and none for a different word', function () {
    const fields = ['seconds', 'message', 'failAttempts', 'failure'];
    assert.equal(nearest('second', fields), 'seconds');
    assert.equal(nearest('fail_attempts', fields), 'failAttempts');
    assert.equal(nearest('Message', fields), 'message');
    assert.equal(nearest('colour', fields), undefined);
    assert.equal(didYouMean('slep', ['command', 'sleep']), '; did you mean "sleep"?');
    assert.equal(didYouMean('sleep', ['sleep']), '');
  });

  it('quotes at most 64 characters of what was sent, lists at most 20 names, and suggests nothing for a long word', function () {
    assert.equal(quoted('x'.repeat(10_000)), JSON.stringify(`${'x'.repeat(64)}…`));
    const names = Array.from({ length: 500 }, (_, index) => `name${index}`);
    assert.equal(listOf(names), `${names.slice(0, 20).join(', ')} and 480 more`);
    assert.equal(nearest('seconds'.repeat(100), ['seconds']), undefined);
  });
});

describe("Keeping the end of a failed command's output", function () {
  it('keeps the last 4 KiB of everything printed, from a character boundary', function () {
    const output = collect(64 * 1024);
    for (let i = 0; i < 100; i++) output.push(Buffer.from('é'.repeat(1000)));
    // The last 4096 bytes begin with the second byte of an é (two bytes each): that byte is left out.
    output.push(Buffer.from('a'));
    const tail = output.tail();
    assert.equal(tail.cut, true);
    assert.equal(tail.text, `${'é'.repeat(outputTailBytes / 2 - 1)}a`);
  });

  it('masks a secret the tail begins inside, and a whole one', function () {
    const mask = masker(['hunter2-the-secret']);
    assert.equal(mask('secret and more', false, true), '*** and more');
    assert.equal(mask('t then hunter2-the-secret', false, true), '*** then ***');
    assert.equal(mask('plain text', false, true), 'plain text');
  });
});
