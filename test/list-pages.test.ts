// Lists bounded by bytes as well as by count: a page of jobs with big inputs ends early with a cursor to the rest,
// and `include` leaves the big fields out.
import assert from 'node:assert/strict';
import type { Job } from '../src/contract/job.js';
import { listPageBudgetBytes } from '../src/jobs/list.js';
import { TestService, uniqueJobId } from './support/service.js';

interface JobListBody {
  jobs: Job[];
  nextCursor: string | null;
}

const bigJobs = 12;
// 15 arguments of 32,000 characters: ≈ 480 KB of input each, so that 12 of them pass the page's budget.
const bigInput = { command: 'echo-args', args: Array.from({ length: 15 }, (_, i) => String(i % 10).repeat(32_000)) };

describe('Listing jobs with big inputs', function () {
  let service: TestService;
  let prefix: string;
  before(async function () {
    this.timeout(120_000);
    service = await TestService.start();
    prefix = uniqueJobId('big');
    for (let i = 0; i < bigJobs; i++) {
      const { status } = await service.submit(
        { type: 'command', input: bigInput, jobId: `${prefix}-${i}` },
        '?wait=20',
      );
      assert.equal(status, 200);
    }
    // Visibility is eventually consistent: wait until it has every job's final status.
    const deadline = Date.now() + 20_000;
    while ((await service.countWorkflows(`JobStatus = 'succeeded'`)) < bigJobs && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
  after(async function () {
    await service.teardown();
  });

  async function listAll(query: string): Promise<{ pages: JobListBody[]; bytes: number[] }> {
    const pages: JobListBody[] = [];
    const bytes: number[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/api/v1/jobs?limit=100${query}${cursor ? `&cursor=${cursor}` : ''}`;
      const response = await service.request<JobListBody>('GET', path);
      assert.equal(response.status, 200);
      pages.push(response.body);
      bytes.push(JSON.stringify(response.body).length);
      cursor = response.body.nextCursor;
    } while (cursor);
    return { pages, bytes };
  }

  it(`ends a page after the job that takes it past ${listPageBudgetBytes / 1024 / 1024} MiB, with a cursor to the rest`, async function () {
    this.timeout(60_000);
    const { pages, bytes } = await listAll('');
    assert.ok(pages.length >= 2, `one page of ${pages[0]?.jobs.length} jobs`);
    const budgetJobs = Math.ceil(listPageBudgetBytes / 480_000);
    assert.ok(pages[0]!.jobs.length <= budgetJobs + 1, `the first page has ${pages[0]!.jobs.length} jobs`);
    for (const size of bytes) assert.ok(size < listPageBudgetBytes + 700_000, `a page of ${size} bytes`);
    const ids = pages.flatMap((page) => page.jobs.map((job) => job.jobId));
    assert.equal(new Set(ids).size, ids.length, 'no job twice');
    assert.equal(ids.filter((id) => id.startsWith(prefix)).length, bigJobs, 'every job once');
    const first = pages[0]!.jobs[0]!;
    assert.equal((first.input as { args: string[] }).args.length, 15, 'by default a listed job carries its input');
    assert.ok(first.result, 'and its result');
  });

  it('leaves input and result out (null) unless include names them', async function () {
    const none = await listAll('&include=');
    assert.equal(none.pages.length, 1, 'without the big fields every job fits one page');
    assert.ok(none.bytes[0]! < 100_000);
    for (const job of none.pages[0]!.jobs) {
      assert.equal(job.input, null);
      assert.equal(job.result, null);
    }
    const results = await service.request<JobListBody>('GET', '/api/v1/jobs?limit=100&include=result');
    assert.equal(results.status, 200);
    const job = results.body.jobs.find(({ jobId }) => jobId.startsWith(prefix))!;
    assert.equal(job.input, null);
    assert.match((job.result as { stdout: string }).stdout, /^0{100}/);
    const refused = await service.request('GET', '/api/v1/jobs?include=stdout');
    assert.equal(refused.status, 400);
  });
});
