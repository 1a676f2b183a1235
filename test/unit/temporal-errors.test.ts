import assert from 'node:assert/strict';
import { ServiceError } from '@temporalio/client';
import { toApiError } from '../../src/api/errors.js';
import { TemporalUnavailableError } from '../../src/jobs/errors.js';

/** gRPC's status codes (grpc-js's `status`, which this project does not depend on directly). */
enum status {
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  ABORTED = 10,
  INTERNAL = 13,
  UNAVAILABLE = 14,
}

/** A failed call as the client surfaces it: the SDK's ServiceError around grpc-js's status error (code, details,
 * metadata). */
function failedCall(code: status, details: string): ServiceError {
  const grpcError = Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: {} });
  return new ServiceError('Failed to query workflow', { cause: grpcError });
}

describe('A Temporal call that failed, as the API answers it', function () {
  const answered = [
    [status.RESOURCE_EXHAUSTED, 'namespace rate limit exceeded', 'Temporal is busy and refused the call for now'],
    [status.ABORTED, 'workflow is busy', 'Temporal is busy and refused the call for now'],
    [status.DEADLINE_EXCEEDED, 'context deadline exceeded', 'Temporal did not answer in time'],
    [status.CANCELLED, 'call cancelled', 'Temporal did not answer in time'],
    [status.UNAVAILABLE, 'connection refused', 'Temporal is unreachable'],
  ] as const;
  for (const [code, details, why] of answered) {
    it(`answers ${status[code]} with 503 unavailable, Retry-After and "${why}"`, function () {
      const answer = toApiError(failedCall(code, details));
      assert.ok(answer instanceof TemporalUnavailableError);
      assert.equal(answer.status, 503);
      assert.equal(answer.message, `${why}; try again shortly`);
      assert.equal(answer.headers['Retry-After'], '5');
    });
  }

  it('leaves any other failure to the 500 of an unexpected error (a bug of ours, logged)', function () {
    for (const code of [status.INVALID_ARGUMENT, status.UNKNOWN, status.INTERNAL, status.PERMISSION_DENIED]) {
      assert.equal(toApiError(failedCall(code, 'no')), undefined, status[code]);
    }
  });
});
