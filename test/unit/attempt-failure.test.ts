import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { describeFailure } from '../../src/workflows/attempt-failure.js';

describe("An attempt's failure as the job's error", function () {
  const logs = { logs: { dropped: 0, lines: [] } };

  it('leaves out the log lines a worker appends as the last detail', function () {
    const failure = ApplicationFailure.create({ type: 'UnrecoverableError', message: 'no', details: [logs] });
    assert.deepEqual(describeFailure(failure).error, { type: 'UnrecoverableError', message: 'no' });
  });

  it("keeps the failure's own object detail before the log lines, and without them", function () {
    const own = { exitCode: 3, stdoutTail: 'out', stderrTail: 'err' };
    for (const details of [[own, logs], [own]]) {
      const failure = ApplicationFailure.create({ type: 'CommandFailed', message: 'exit 3', details });
      assert.deepEqual(describeFailure(failure).error, { type: 'CommandFailed', message: 'exit 3', details: own });
    }
  });
});
