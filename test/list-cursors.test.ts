// List cursors are signed with the API's key (JOBS_CURSOR_KEY): one the API did not give for this tenant and these
// filters is a 400 before Temporal is asked (issue 21, item 5: a forged one reached Temporal and came back a 503).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { ErrorBody } from '../src/contract/errors.js';
import type { Job } from '../src/contract/job.js';
import { ListCursors } from '../src/jobs/cursor.js';
import { jobListQuery } from '../src/jobs/list.js';
import { TestService, uniqueJobId } from './support/service.js';

interface JobListBody {
  jobs: Job[];
  nextCursor: string | null;
}

const cursorKey = randomBytes(32);
const keys = { acme: 'acme-key-0123456789abcdef', globex: 'globex-key-0123456789abcdef' };

describe('List cursors', function () {
  let service: TestService;
  let cursor: string;
  before(async function () {
    service = await TestService.start({
      env: {
        API_KEYS: `acme:${keys.acme},globex:${keys.globex}`,
        JOBS_CURSOR_KEY: cursorKey.toString('base64'),
      },
    });
    for (const apiKey of [keys.acme, keys.globex]) {
      service.apiKey = apiKey;
      for (let i = 0; i < 3; i++)
        await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: uniqueJobId('cursor') }, '?wait=10');
    }
    service.apiKey = keys.acme;
    const first = await service.request<JobListBody>('GET', '/api/v1/jobs?status=succeeded&limit=2');
    assert.equal(first.status, 200);
    assert.ok(first.body.nextCursor, 'a first page of 2 of 3 jobs has a next cursor');
    cursor = first.body.nextCursor;
  });
  after(async function () {
    await service.teardown();
  });

  /** Lists with `cursor` as `apiKey`'s tenant: a 400 that names the cursor, with no call to Temporal. */
  async function assertRefused(query: string, apiKey = keys.acme): Promise<void> {
    service.apiKey = apiKey;
    const before = await service.temporalReads('list');
    const reply = await service.request<ErrorBody>('GET', `/api/v1/jobs?${query}`);
    assert.equal(reply.status, 400, JSON.stringify(reply.body));
    assert.equal(reply.body.error.code, 'invalid_request');
    assert.match(reply.body.error.message, /^cursor: /);
    assert.equal(await service.temporalReads('list'), before, 'Temporal was asked');
    service.apiKey = keys.acme;
  }

  it('pages with a cursor it gave', async function () {
    const next = await service.request<JobListBody>(
      'GET',
      `/api/v1/jobs?status=succeeded&limit=2&cursor=${encodeURIComponent(cursor)}`,
    );
    assert.equal(next.status, 200);
    assert.equal(next.body.jobs.length, 1);
    assert.ok((await service.temporalReads('list')) >= 2, 'the metric counts the lists');
  });

  it('refuses a forged cursor: another token under the old unkeyed check, or the real tag on another token', async function () {
    const query = jobListQuery('acme', { status: 'succeeded' });
    const token = Buffer.from('a page token made up by a client');
    const unkeyed = createHash('sha256').update(token).update(query).digest('base64url').slice(0, 12);
    await assertRefused(`status=succeeded&limit=2&cursor=${token.toString('base64url')}.${unkeyed}`);
    const tag = cursor.split('.')[1]!;
    await assertRefused(`status=succeeded&limit=2&cursor=${token.toString('base64url')}.${tag}`);
  });

  it('refuses a truncated cursor', async function () {
    const [encoded, tag] = cursor.split('.') as [string, string];
    await assertRefused(`status=succeeded&limit=2&cursor=${encoded.slice(0, -4)}.${tag}`);
  });

  it("refuses another tenant's cursor", async function () {
    await assertRefused(`status=succeeded&limit=2&cursor=${cursor}`, keys.globex);
  });

  it("refuses another filter's cursor", async function () {
    await assertRefused(`status=failed&limit=2&cursor=${cursor}`);
    await assertRefused(`limit=2&cursor=${cursor}`);
  });

  it('refuses a cursor signed under another key', async function () {
    const token = Buffer.from(cursor.split('.')[0]!, 'base64url');
    const foreign = new ListCursors(randomBytes(32)).cursorOf(token, jobListQuery('acme', { status: 'succeeded' }));
    await assertRefused(`status=succeeded&limit=2&cursor=${foreign}`);
    const same = new ListCursors(cursorKey).cursorOf(token, jobListQuery('acme', { status: 'succeeded' }));
    assert.equal(same, cursor, 'the configured key signs as the API does');
  });
});
