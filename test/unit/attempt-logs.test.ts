// What an attempt keeps of its log lines (packages/worker/src/attempt-logs.ts), how its failure carries them, and how
// a command's output becomes lines (src/activities/command/output.ts).
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { AttemptLogBuffer, cancellationWithLogs, failureWithLogs } from '../../packages/worker/src/attempt-logs.js';
import { attemptLogLimits } from '../../src/contract/job-type-declaration.js';
import { lineSplitter, masker } from '../../src/activities/command/output.js';

describe("An attempt's log lines are bounded, newest kept", function () {
  it('keeps the last 1,000 lines of a flood and counts the others as dropped', function () {
    const kept = new AttemptLogBuffer();
    for (let line = 1; line <= 5000; line++) kept.add('info', `line ${line}`);
    const { lines, dropped } = kept.snapshot();
    assert.equal(dropped, 4000);
    assert.equal(lines.length, attemptLogLimits.lines);
    assert.deepEqual([lines[0]!.seq, lines[0]!.message, lines.at(-1)!.seq], [4001, 'line 4001', 5000]);
  });

  it('keeps at most 256 KiB of messages, and cuts a message past 8 KiB saying so', function () {
    const kept = new AttemptLogBuffer();
    kept.add('warn', 'é'.repeat(10_000));
    const [cut] = kept.snapshot().lines;
    assert.ok(Buffer.byteLength(cut!.message) <= attemptLogLimits.messageBytes);
    assert.match(cut!.message, /é … \(cut at 8192 bytes\)$/);
    for (let line = 0; line < 100; line++) kept.add('info', 'x'.repeat(8000));
    const { lines, dropped } = kept.snapshot();
    assert.ok(lines.reduce((sum, line) => sum + Buffer.byteLength(line.message), 0) <= attemptLogLimits.bytes);
    assert.equal(dropped + lines.length, 101);
    assert.equal(lines[0]!.seq, dropped + 1);
  });
});

describe("An attempt's kept lines hold about their bounds in memory", function () {
  setFlagsFromString('--expose-gc');
  const collectGarbage = runInNewContext('gc') as () => void;
  const heapUsedBytes = (): number => {
    collectGarbage();
    collectGarbage();
    return process.memoryUsage().heapUsed;
  };

  it('holds the 256 KiB it keeps of a flood of 8 KiB lines, not the lines it let go', function () {
    const before = heapUsedBytes();
    const kept = new AttemptLogBuffer();
    // 32 lines of 8,000 bytes fit in 256 KiB: the first 1,000 of these are let go.
    for (let line = 0; line < 1032; line++) kept.add('info', `${line} `.padEnd(8000, 'x'));
    const held = heapUsedBytes() - before;
    assert.equal(kept.snapshot().lines.length, 32);
    assert.ok(held < 2 * 1024 * 1024, `${Math.round(held / 1024)} KiB held for 250 KiB of lines`);
  });
});

describe("An attempt's failure carries its lines as its last detail", function () {
  const logs = {
    lines: [{ seq: 1, time: new Date().toISOString(), level: 'info' as const, message: 'hi' }],
    dropped: 0,
  };

  it('keeps an ApplicationFailure’s type, retryability and details', function () {
    const failure = failureWithLogs(ApplicationFailure.nonRetryable('no', 'UnrecoverableError', { row: 3 }), logs);
    assert.deepEqual(
      [failure.message, failure.type, failure.nonRetryable, failure.details],
      ['no', 'UnrecoverableError', true, [{ row: 3 }, { logs }]],
    );
  });

  it('makes any other error the failure Temporal would: its name as the type, retryable', function () {
    class ReportMissingError extends Error {
      override readonly name = 'ReportMissingError';
    }
    const failure = failureWithLogs(new ReportMissingError('gone'), logs);
    assert.deepEqual(
      [failure.message, failure.type, failure.nonRetryable, failure.details],
      ['gone', 'ReportMissingError', false, [{ logs }]],
    );
  });
});

describe("An attempt's cancellation carries its lines as its last detail", function () {
  it('is the cancellation the SDK reports as cancelled, its reason kept', function () {
    const logs = { lines: [], dropped: 3 };
    const cancellation = cancellationWithLogs(new CancelledFailure('CANCELLED'), logs);
    assert.ok(cancellation instanceof CancelledFailure);
    assert.deepEqual([cancellation.message, cancellation.details], ['CANCELLED', [{ logs }]]);
    assert.equal(cancellationWithLogs('WORKER_SHUTDOWN', logs).message, 'WORKER_SHUTDOWN');
  });
});

describe("A command's output becomes lines", function () {
  it('splits chunks into lines, keeps a long line’s head marked cut, and gives the unfinished last one at the end', function () {
    const lines: [string, boolean][] = [];
    const split = lineSplitter(8, (line, cut) => lines.push([line, cut]));
    split.push(Buffer.from('one\ntw'));
    split.push(Buffer.from('o\nthree is long\nfour'));
    split.end();
    assert.deepEqual(lines, [
      ['one', false],
      ['two', false],
      ['three is', true],
      ['four', false],
    ]);
  });

  it('masks each line of an env value that spans lines', function () {
    const secret = 'first-half\nsecond-half';
    const mask = masker([secret, ...secret.split('\n')]);
    assert.deepEqual(
      ['before first-half', 'second-half after'].map((line) => mask(line)),
      ['before ***', '*** after'],
    );
  });
});
