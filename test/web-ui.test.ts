import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/chromium.js';
import { TestService, uniqueJobId } from './support/service.js';
import { until } from './support/until.js';

describe('The Temporal Web UI', function () {
  let service: TestService;
  let browser: Browser;
  let page: Page;
  before(async function () {
    browser = await launchChromium(this, { dashboard: false });
    service = await TestService.start({ webUi: true });
    page = await browser.newPage();
  });
  after(async function () {
    await browser?.close();
    await service?.teardown();
  });

  it("opens a finished job's links.ui on its workflow page, showing its id and status", async function () {
    const jobId = uniqueJobId('ui-failed');
    const { body } = await service.submit(
      { type: 'sleep', input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' }, jobId },
      '?wait=10',
    );
    assert.equal(body.status, 'failed');
    // The page long-polls its history, so it never goes network-idle: wait for load, then for the text.
    await page.goto(body.links.ui, { waitUntil: 'load' });
    await page.getByText(jobId).first().waitFor({ timeout: 20_000 });
    await page
      .getByText(/^failed$/i)
      .first()
      .waitFor({ timeout: 20_000 });
    // The failure's details render after the status does.
    await until(
      "the job's failure on its page",
      async () => /UnrecoverableError|planned failure/.test(await page.content()),
      (shown) => shown,
    );
  });

  it('finds the job in the workflow list filtered by its JobStatus search attribute', async function () {
    const failedId = uniqueJobId('ui-list-failed');
    const succeededId = uniqueJobId('ui-list-ok');
    await service.submit(
      { type: 'sleep', input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' }, jobId: failedId },
      '?wait=10',
    );
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: succeededId }, '?wait=10');
    // The page lists what visibility has when it loads, and visibility lags writes by about a second.
    await until(
      'visibility has the failed job',
      () => service.countWorkflows(`WorkflowId = '${failedId}' AND JobStatus = 'failed'`),
      (count) => count === 1,
      10_000,
    );
    const query = encodeURIComponent('JobStatus="failed"');
    await page.goto(`${service.config.TEMPORAL_UI_URL}/namespaces/default/workflows?query=${query}`, {
      waitUntil: 'load',
    });
    await page.getByText(failedId).first().waitFor({ timeout: 20_000 });
    assert.equal(await page.getByText(succeededId).count(), 0, 'a succeeded job is not in the failed list');
  });
});
