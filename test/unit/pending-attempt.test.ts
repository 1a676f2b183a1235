// A read of a running job (src/jobs/workflow-reads.ts): the workflow hears of an attempt's start only once it has run
// 250 ms, so a read takes the start from the pending attempt that describe shows.
import assert from 'node:assert/strict';
import { msNumberToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import type { JobState } from '../../src/contract/job.js';
import { withAttemptStarted, type PendingActivity } from '../../src/jobs/workflow-reads.js';
import { attemptFailed, initialJobState } from '../../src/workflows/job-state.js';
import { sampleJobRequest } from '../support/job-request.js';

const { PendingActivityState } = proto.temporal.api.enums.v1;

const queued: JobState = initialJobState(sampleJobRequest());

function pending(state: proto.temporal.api.enums.v1.PendingActivityState): PendingActivity {
  return {
    activityType: { name: 'sleep' },
    state,
    lastStartedTime: msNumberToTs(Date.parse('2025-01-01T00:00:05.250Z')),
  };
}

describe('A read says running from the attempt’s start, before the workflow hears of it', function () {
  it('reads a queued job whose attempt has started as running, attempt 1, started when the attempt started', function () {
    assert.deepEqual(withAttemptStarted(queued, pending(PendingActivityState.PENDING_ACTIVITY_STATE_STARTED)), {
      ...queued,
      status: 'running',
      attempt: 1,
      startedAt: '2025-01-01T00:00:05.250Z',
    });
  });

  it('counts a retry’s attempt after the failed one, and keeps the first start time', function () {
    const retrying = attemptFailed({ ...queued, startedAt: '2025-01-01T00:00:01.000Z' }, 1, {
      type: 'TransientError',
      message: 'boom',
    });
    const read = withAttemptStarted(retrying, pending(PendingActivityState.PENDING_ACTIVITY_STATE_STARTED));
    assert.equal(read.status, 'running');
    assert.equal(read.attempt, 2);
    assert.equal(read.startedAt, '2025-01-01T00:00:01.000Z');
  });

  it('leaves a job queued while its attempt waits for a worker, or has none (a delay, a backoff)', function () {
    assert.equal(withAttemptStarted(queued, pending(PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED)), queued);
    assert.equal(withAttemptStarted(queued, undefined), queued);
  });

  it('changes nothing once the workflow knows: a running or finished job is as the workflow says', function () {
    const running = { ...queued, status: 'running' as const, attempt: 1 };
    assert.equal(withAttemptStarted(running, pending(PendingActivityState.PENDING_ACTIVITY_STATE_STARTED)), running);
    const cancelled = { ...queued, status: 'cancelled' as const };
    assert.equal(
      withAttemptStarted(cancelled, pending(PendingActivityState.PENDING_ACTIVITY_STATE_STARTED)),
      cancelled,
    );
  });
});
