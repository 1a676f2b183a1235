// A schedule for a test to act on, removed when the test is done with it.
import assert from 'node:assert/strict';
import { uniqueJobId, type TestService } from './service.js';

/** Runs `act` with a new schedule of the service's tenant (an hourly, instant sleep job), deleted afterwards. */
export async function withHourlySchedule(
  service: TestService,
  label: string,
  act: (scheduleId: string) => Promise<void>,
): Promise<void> {
  const scheduleId = uniqueJobId(label);
  const created = await service.request('POST', '/api/v1/schedules', {
    scheduleId,
    intervalSeconds: 3600,
    job: { type: 'sleep', input: { seconds: 0 } },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  try {
    await act(scheduleId);
  } finally {
    await service.request('DELETE', `/api/v1/schedules/${scheduleId}`);
  }
}
