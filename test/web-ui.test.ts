import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TestService, uniqueJobId } from './support/service.js';

/** Debian's Chromium; `npm test` installs it where it can (root with apt-get), and .ci/run always does. */
const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

describe('The Temporal Web UI', function () {
  let service: TestService;
  let browser: Browser;
  let page: Page;
  before(async function () {
    if (!existsSync(chromiumPath)) {
      // CI installs Chromium: there a missing browser is a broken install, not a reason to test less.
      if (process.env['CI']) assert.fail(`no Chromium at ${chromiumPath} in CI (set CHROMIUM_PATH)`);
      console.warn(`skipping the Web UI tests: no Chromium at ${chromiumPath} (set CHROMIUM_PATH)`);
      this.skip();
    }
    service = await TestService.start({ webUi: true });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
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
    assert.match(await page.content(), /UnrecoverableError|planned failure/);
  });

  it('finds the job in the workflow list filtered by its JobStatus search attribute', async function () {
    const failedId = uniqueJobId('ui-list-failed');
    const succeededId = uniqueJobId('ui-list-ok');
    await service.submit(
      { type: 'sleep', input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' }, jobId: failedId },
      '?wait=10',
    );
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: succeededId }, '?wait=10');
    const query = encodeURIComponent('JobStatus="failed"');
    await page.goto(`${service.config.TEMPORAL_UI_URL}/namespaces/default/workflows?query=${query}`, {
      waitUntil: 'load',
    });
    await page.getByText(failedId).first().waitFor({ timeout: 20_000 });
    assert.equal(await page.getByText(succeededId).count(), 0, 'a succeeded job is not in the failed list');
  });
});
