import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { dashboard } from '../src/api/ui.js';
import { launchChromium } from './support/chromium.js';
import { commandScratchDir } from './support/command-scratch.js';
import { withHourlySchedule } from './support/schedules.js';
import { TestService, uniqueJobId } from './support/service.js';
import { asTenant, startWithTenants } from './support/tenants.js';

// README's pictures are refreshed only when asked (UPDATE_SCREENSHOTS=1): every run would otherwise change them.
const screenshots = new URL(
  process.env.UPDATE_SCREENSHOTS === '1' ? '../docs/images/' : '../.cache/screenshots/',
  import.meta.url,
);
const keys = {
  acme: 'acme-dashboard-key-0123456789',
  globex: 'globex-dashboard-key-0123456789',
  initech: 'initech-dashboard-key-0123456789',
};

/** Waits until `locator` finds exactly `count` elements (the page's CSP forbids waitForFunction's string eval). */
async function untilCount(locator: Locator, count: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await locator.count();
    if (found === count) return;
    assert.ok(Date.now() < deadline, `found ${found}, not ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Waits until `locator`'s element is the one the keyboard acts on. */
async function untilFocused(locator: Locator): Promise<void> {
  await locator.and(locator.page().locator(':focus')).waitFor({ timeout: 5_000 });
}

/** The job ids of the list's rows, in order. */
async function jobIdsShown(rows: Locator): Promise<(string | null)[]> {
  return Promise.all((await rows.all()).map((row) => row.getAttribute('data-job-id')));
}

describe('The job dashboard', function () {
  this.timeout(120_000);
  let service: TestService;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  const statusOn = (on: Page) => on.locator('.page-head .status');

  async function signIn(on: Page, key: string): Promise<void> {
    await on.goto(`${service.baseUrl}/`);
    await on.getByLabel('API key').fill(key);
    await on.getByRole('button', { name: 'Sign in' }).click();
    await on.getByTestId('tenant').waitFor();
  }

  /** Clicks one of the job page's actions and confirms it in the dialog. */
  async function confirmAction(action: 'cancel' | 'retry'): Promise<void> {
    await page.locator(`button[data-action="${action}"]`).click();
    await page.locator(`dialog[open] button[data-confirm="${action}"]`).click();
    await page.locator('dialog[open]').waitFor({ state: 'detached' });
  }

  before(async function () {
    browser = await launchChromium(this);
    service = await startWithTenants(keys, { workers: { high: 4, normal: 4 } });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    await mkdir(screenshots, { recursive: true });
  });
  afterEach(async function () {
    // What the page showed when a test failed: a timeout alone does not say.
    if (this.currentTest?.state === 'failed' && page) {
      const shown = await page
        .locator('body')
        .innerText({ timeout: 2000 })
        .catch((err: unknown) => String(err));
      console.log(`      the page at ${page.url()} showed:\n${shown.replace(/^/gm, '        | ')}`);
    }
  });
  after(async function () {
    await browser?.close();
    await service?.teardown();
  });

  it('serves the HTML shell and its assets without a key, and nothing else', async function () {
    for (const path of [
      '/ui/',
      '/ui/jobs/some-job',
      '/ui/queues',
      '/ui/schedules',
      '/ui/run',
      '/ui/assets/app.js',
      '/ui/assets/app.css',
    ]) {
      const answer = await fetch(service.baseUrl + path);
      assert.equal(answer.status, 200, path);
      assert.doesNotMatch(await answer.text(), /acme|globex/);
    }
    const root = await fetch(`${service.baseUrl}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/ui/');
    for (const path of ['/api/v1/whoami', '/UI/', '/ui/elsewhere', '/ui/jobs/a/b', '/ui/assets/__proto__']) {
      assert.equal((await fetch(service.baseUrl + path)).status, 401, path);
    }
  });

  it('signs in with a key, kept in sessionStorage and never in the address, and shows the tenant', async function () {
    await page.goto(`${service.baseUrl}/`);
    assert.equal(new URL(page.url()).pathname, '/ui/');
    await page.getByLabel('API key').fill('not-a-key-of-anybody-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
    await page.getByLabel('API key').fill(keys.acme);
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.equal(await page.getByTestId('tenant').textContent(), 'acme');
    assert.equal(await page.evaluate('Object.values(sessionStorage).join()'), keys.acme);
    assert.ok(!page.url().includes(keys.acme));
  });

  it('shows a submitted job in the list without a reload', async function () {
    const failed = uniqueJobId('dash-failed');
    await service.submit(
      { type: 'sleep', input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' }, jobId: failed },
      '?wait=10',
    );
    await service.submit({ type: 'sleep', input: { seconds: 1 }, jobId: uniqueJobId('dash-done') }, '?wait=10');
    await service.submit({
      type: 'sleep',
      input: { seconds: 1 },
      jobId: uniqueJobId('dash-later'),
      delaySeconds: 3600,
    });
    await page.goto(`${service.baseUrl}/ui/`);
    await page.locator(`tr[data-job-id="${failed}"]`).waitFor();
    const jobId = uniqueJobId('dash-new');
    await service.submit({
      type: 'sleep',
      input: { seconds: 20, message: 'appears live' },
      jobId,
      priority: 'high',
      tags: ['team:media'],
    });
    const row = page.locator(`tr[data-job-id="${jobId}"]`);
    await row.waitFor({ timeout: 30_000 });
    await row.locator('.status', { hasText: 'running' }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: new URL('dashboard-jobs.png', screenshots).pathname });
    await page
      .getByRole('navigation', { name: 'Status' })
      .getByRole('link', { name: /^Failed( \d+)?$/ })
      .click();
    await page.locator(`tr[data-job-id="${failed}"]`).waitFor();
    assert.equal(await row.count(), 0, 'a running job under the failed tab');
    assert.equal(new URL(page.url()).search, '?status=failed');
  });

  it("advances a running job's progress bar on its page", async function () {
    const jobId = uniqueJobId('dash-progress');
    // Long enough to outlast the page's steps on a busy machine (the list, the link, two advances of the bar), which
    // an 8 s job might not: it would end at 100 with no advance left to see. Cancelled once seen.
    await service.submit({ type: 'sleep', input: { seconds: 30, message: 'step by step' }, jobId });
    await page.goto(`${service.baseUrl}/ui/`);
    await page.getByRole('link', { name: jobId }).click();
    assert.equal(new URL(page.url()).pathname, `/ui/jobs/${jobId}`);
    const bar = page.getByRole('progressbar', { name: 'Progress', exact: true });
    /** The bar's aria-valuenow once it is above `floor`. */
    const valueAbove = async (floor: number): Promise<number> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const value = Number((await bar.getAttribute('aria-valuenow')) ?? -1);
        if (value > floor) return value;
        assert.ok(Date.now() < deadline, `the progress bar stayed at ${value}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    const first = await valueAbove(0);
    const later = await valueAbove(first);
    assert.ok(later > first && later <= 100);
    await page.screenshot({ path: new URL('dashboard-job.png', screenshots).pathname, fullPage: true });
    await service.cancel(jobId);
  });

  it('cancels a running job when Cancel is confirmed: it ends cancelled', async function () {
    const jobId = uniqueJobId('dash-cancel');
    await service.submit({ type: 'sleep', input: { seconds: 60 }, jobId });
    await page.goto(`${service.baseUrl}/ui/jobs/${jobId}`);
    await statusOn(page).filter({ hasText: 'running' }).waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('button[data-action="retry"]').count(), 0, 'Retry on a running job');
    await page.locator('button[data-action="cancel"]').click();
    await page.getByRole('button', { name: 'Keep it' }).click();
    assert.equal((await service.getJob(jobId)).body.status, 'running', 'cancelled without confirmation');
    await confirmAction('cancel');
    await statusOn(page).filter({ hasText: 'cancelled' }).waitFor({ timeout: 30_000 });
    assert.equal((await service.waitFor(jobId, ['cancelled'])).status, 'cancelled');
    await page.locator('button[data-action="retry"]').waitFor();
  });

  it('retries a failed job when Retry is confirmed: run 2', async function () {
    const jobId = uniqueJobId('dash-retry');
    const { body } = await service.submit(
      { type: 'sleep', input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' }, jobId },
      '?wait=10',
    );
    assert.equal(body.status, 'failed');
    await page.goto(`${service.baseUrl}/ui/jobs/${jobId}`);
    await page.locator('.panel-error').filter({ hasText: 'planned failure' }).waitFor();
    assert.equal(await page.getByTestId('run').textContent(), '1');
    await confirmAction('retry');
    await page.getByTestId('run').filter({ hasText: '2' }).waitFor({ timeout: 30_000 });
    const job = await service.waitFor(jobId, (seen) => seen.run === 2 && seen.status !== 'queued');
    assert.equal(job.run, 2);
  });

  it('reloads a deep link to a job on the same page, still signed in', async function () {
    const jobId = uniqueJobId('dash-deep');
    await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId }, '?wait=10');
    await page.goto(`${service.baseUrl}/ui/jobs/${jobId}`);
    await page.getByRole('heading', { name: jobId }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: jobId }).waitFor();
    await statusOn(page).filter({ hasText: 'succeeded' }).waitFor();
    assert.equal(await page.getByTestId('tenant').textContent(), 'acme');
  });

  it('pages through a long list with the cursor: Older, then Newer', async function () {
    // A tenant of its own, so that the page holds exactly these jobs.
    const jobs = Array.from({ length: 27 }, (_, index) => ({
      type: 'sleep',
      input: { seconds: 0 },
      jobId: uniqueJobId(`dash-page-${index}`),
    }));
    await asTenant(service, keys.initech, async () => {
      const { status } = await service.request('POST', '/api/v1/job-batches', { jobs });
      assert.equal(status, 200);
      for (const { jobId } of jobs) await service.waitFor(jobId, ['succeeded'], 60_000);
    });
    const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const initech = await other.newPage();
      await signIn(initech, keys.initech);
      const rows = initech.locator('tbody tr');
      await initech.locator('tbody tr .status', { hasText: 'succeeded' }).nth(24).waitFor({ timeout: 30_000 });
      assert.equal(await rows.count(), 25);
      const older = initech.getByRole('button', { name: 'Older →' });
      await initech.locator('button:not([disabled])', { hasText: 'Older →' }).waitFor({ timeout: 30_000 });
      const firstPage = await jobIdsShown(rows);
      await older.click();
      await initech.getByText('Page 2').waitFor();
      await untilCount(rows, 2);
      const secondPage = await jobIdsShown(rows);
      assert.deepEqual(
        [...firstPage, ...secondPage].sort(),
        jobs.map(({ jobId }) => jobId).sort(),
        'the two pages hold each job once',
      );
      assert.ok(await older.isDisabled());
      await initech.getByRole('button', { name: '← Newer' }).click();
      await initech.getByText('Page 1').waitFor();
      await untilCount(rows, 25);
    } finally {
      await other.close();
    }
  });

  describe('filters by a tag and sees counts on the tabs', function () {
    it("lists only the tag's jobs, and each tab counts them", async function () {
      const tag = `team:${uniqueJobId('dash-tag')}`;
      const failed = uniqueJobId('dash-tag-failed');
      const done = uniqueJobId('dash-tag-done');
      await service.submit(
        { type: 'sleep', input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' }, jobId: failed, tags: [tag] },
        '?wait=10',
      );
      await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: done, tags: [tag] }, '?wait=10');
      await page.goto(`${service.baseUrl}/ui/`);
      await page.getByLabel('Tag', { exact: true }).fill(tag);
      await page.getByLabel('Tag', { exact: true }).press('Enter');
      await page.waitForURL((url) => url.searchParams.get('tag') === tag);
      const rows = page.locator('tbody tr');
      await untilCount(rows, 2);
      assert.deepEqual((await jobIdsShown(rows)).sort(), [done, failed].sort());
      const tabs = page.getByRole('navigation', { name: 'Status' });
      // Visibility counts lag writes by about a second: the tabs read again every 2 s.
      await tabs.getByRole('link', { name: 'All 2', exact: true }).waitFor({ timeout: 30_000 });
      await tabs.getByRole('link', { name: 'Failed 1', exact: true }).waitFor({ timeout: 30_000 });
      await tabs.getByRole('link', { name: 'Succeeded 1', exact: true }).waitFor();
      await tabs.getByRole('link', { name: 'Running 0', exact: true }).waitFor();
      await tabs.getByRole('link', { name: 'Failed 1', exact: true }).click();
      await untilCount(rows, 1);
      assert.deepEqual(await jobIdsShown(rows), [failed]);
      assert.equal(new URL(page.url()).searchParams.get('tag'), tag, 'the tag stays with the tab');
    });

    it("shows a job's tags in the list and on its page, each a link to the jobs that share it", async function () {
      const tag = `team:${uniqueJobId('dash-chip')}`;
      const tagged = uniqueJobId('dash-chip-a');
      const sharing = uniqueJobId('dash-chip-b');
      const other = uniqueJobId('dash-chip-other');
      await service.submit(
        { type: 'sleep', input: { seconds: 0 }, jobId: tagged, tags: [tag, 'path:a/b+c=d@e'] },
        '?wait=10',
      );
      await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: sharing, tags: [tag] }, '?wait=10');
      await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: other }, '?wait=10');
      await page.goto(`${service.baseUrl}/ui/`);
      const row = page.locator(`tr[data-job-id="${tagged}"]`);
      await row.waitFor({ timeout: 30_000 });
      assert.deepEqual(await row.getByRole('list', { name: 'Tags' }).getByRole('link').allTextContents(), [
        tag,
        'path:a/b+c=d@e',
      ]);
      assert.equal(await page.locator(`tr[data-job-id="${other}"] .tags`).count(), 0, 'a job without tags shows none');
      await row.getByRole('link', { name: tag, exact: true }).click();
      await page.waitForURL((url) => url.searchParams.get('tag') === tag);
      const rows = page.locator('tbody tr');
      await untilCount(rows, 2);
      assert.deepEqual((await jobIdsShown(rows)).sort(), [tagged, sharing].sort());
      assert.equal(await page.getByLabel('Tag', { exact: true }).inputValue(), tag, 'the filter field shows the tag');

      await page.goto(`${service.baseUrl}/ui/jobs/${tagged}`);
      const tags = page.getByRole('list', { name: 'Tags' });
      await tags.waitFor();
      assert.deepEqual(await tags.getByRole('link').allTextContents(), [tag, 'path:a/b+c=d@e']);
      await tags.getByRole('link', { name: 'path:a/b+c=d@e', exact: true }).click();
      await page.waitForURL((url) => url.searchParams.get('tag') === 'path:a/b+c=d@e');
      await untilCount(rows, 1);
      assert.deepEqual(await jobIdsShown(rows), [tagged]);
    });
  });

  describe('sees attempts on a timeline', function () {
    it("draws each attempt's run as a bar, the backoff between them, and each attempt's error", async function () {
      const jobId = uniqueJobId('dash-attempts');
      await service.submit({
        type: 'sleep',
        input: { seconds: 0.5, failAttempts: 2 },
        retry: { maxAttempts: 3, initialIntervalSeconds: 1, backoffCoefficient: 1 },
        jobId,
      });
      await page.goto(`${service.baseUrl}/ui/jobs/${jobId}`);
      await statusOn(page).filter({ hasText: 'succeeded' }).waitFor({ timeout: 30_000 });
      const runs = page.locator('.timeline-track [data-kind="run"]');
      await untilCount(runs, 3);
      assert.deepEqual(await Promise.all((await runs.all()).map((bar) => bar.getAttribute('data-outcome'))), [
        'failed',
        'failed',
        'succeeded',
      ]);
      assert.equal(
        await page.locator('.timeline-track [data-kind="backoff"]').count(),
        2,
        'a gap before attempts 2 and 3',
      );
      // Bars are placed in time order, left to right, and none overlaps the next.
      const boxes = await Promise.all((await runs.all()).map((bar) => bar.boundingBox()));
      for (let i = 1; i < boxes.length; i++) assert.ok(boxes[i]!.x >= boxes[i - 1]!.x + boxes[i - 1]!.width - 1);
      assert.match(
        (await page.getByRole('img', { name: /^3 attempts over/ }).getAttribute('aria-label')) ?? '',
        /failed, failed, succeeded$/,
      );
      const list = page.locator('.attempt-list li[data-attempt]');
      await untilCount(list, 3);
      assert.match(await list.nth(0).innerText(), /planned failure of attempt 1/);
      assert.match(await list.nth(2).innerText(), /succeeded/);
      await page.locator('.attempts').screenshot({ path: new URL('dashboard-attempts.png', screenshots).pathname });
    });
  });

  describe('reads what a job printed in each attempt', function () {
    it("shows the latest attempt's lines, and the first attempt's when its tab is chosen", async function () {
      const jobId = uniqueJobId('dash-logs');
      // Outside /tmp, which is private to each attempt of a root worker: the second attempt must see the first's marker.
      const scratch = await commandScratchDir();
      try {
        await service.submit({
          type: 'command',
          input: { command: 'fail-first-time', env: { MARKER: join(scratch, `${jobId}.marker`) } },
          retry: { maxAttempts: 2, initialIntervalSeconds: 1 },
          jobId,
        });
        await page.goto(`${service.baseUrl}/ui/jobs/${jobId}`);
        await statusOn(page).filter({ hasText: 'succeeded' }).waitFor({ timeout: 30_000 });
        const lines = page.getByTestId('log-lines');
        await lines.filter({ hasText: 'second time' }).waitFor();
        assert.equal(await lines.getAttribute('data-attempt'), '2');
        assert.match(await lines.locator('.log-info').innerText(), /second time/);
        await page.locator('button[data-log-attempt="1"]').click();
        await page.locator('[data-testid="log-lines"][data-attempt="1"]').filter({ hasText: 'first time' }).waitFor();
        assert.equal(await page.locator('[data-testid="log-lines"] .log-warn').count(), 1, 'stderr, at warn');
        await page.locator('.logs').screenshot({ path: new URL('dashboard-logs.png', screenshots).pathname });
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    });
  });

  describe('cancels three jobs at once', function () {
    it('ticks three running jobs in the list, confirms, and they end cancelled while a fourth runs on', async function () {
      const jobIds = Array.from({ length: 4 }, () => uniqueJobId('dash-bulk'));
      for (const jobId of jobIds) await service.submit({ type: 'sleep', input: { seconds: 60 }, jobId });
      for (const jobId of jobIds) await service.waitFor(jobId, ['running']);
      const [kept, ...chosen] = jobIds;
      await page.goto(`${service.baseUrl}/ui/?status=running`);
      for (const jobId of chosen) {
        await page.locator(`tr[data-job-id="${jobId}"] input[type="checkbox"]`).check({ timeout: 30_000 });
      }
      assert.equal(await page.getByTestId('selected-count').textContent(), '3 selected');
      assert.ok(await page.locator('button[data-bulk="retry"]').isDisabled(), 'Retry does not apply to running jobs');
      await page.locator('button[data-bulk="cancel"]').click();
      await page.getByRole('button', { name: 'Keep them' }).click();
      assert.equal((await service.getJob(chosen[0]!)).body.status, 'running', 'cancelled without confirmation');
      await page.locator('button[data-bulk="cancel"]').click();
      await page.locator('dialog[open] button[data-confirm-bulk="cancel"]').click();
      await page.getByTestId('bulk-outcome').filter({ hasText: '3 jobs cancelled' }).waitFor();
      await untilFocused(page.getByTestId('bulk-outcome'));
      for (const jobId of chosen) assert.equal((await service.waitFor(jobId, ['cancelled'])).status, 'cancelled');
      assert.equal((await service.getJob(kept!)).body.status, 'running', 'the job not ticked runs on');
      await service.cancel(kept!);
    });
  });

  describe('retries every failed job of one type matching the filter', function () {
    it('selects all matching jobs beyond the page, retries them, and leaves other types alone', async function () {
      const failedSleeps = Array.from({ length: 27 }, (_, index) => ({
        type: 'sleep',
        input: { seconds: 0, failAttempts: 1, failure: 'non_retryable' },
        jobId: uniqueJobId(`dash-all-${index}`),
      }));
      const otherType = uniqueJobId('dash-all-command');
      await asTenant(service, keys.globex, async () => {
        assert.equal((await service.request('POST', '/api/v1/job-batches', { jobs: failedSleeps })).status, 200);
        await service.submit({
          type: 'command',
          input: { command: 'fail-loudly', env: { SECRET: 'not-a-secret-at-all' } },
          retry: { maxAttempts: 1 },
          jobId: otherType,
        });
        for (const { jobId } of failedSleeps) await service.waitFor(jobId, ['failed'], 60_000);
        await service.waitFor(otherType, ['failed'], 60_000);
      });
      const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      try {
        const globex = await other.newPage();
        await signIn(globex, keys.globex);
        await globex.goto(`${service.baseUrl}/ui/?status=failed&type=sleep`);
        await untilCount(globex.locator('tbody tr'), 25);
        await globex.getByLabel('Select every job of this page').check();
        const selectAll = globex.locator('button[data-select-matching]');
        await selectAll.filter({ hasText: 'Select all 27 matching' }).waitFor({ timeout: 30_000 });
        await selectAll.click();
        assert.equal(await globex.getByTestId('selected-count').textContent(), 'all 27 matching selected');
        await globex.locator('button[data-bulk="retry"]').click();
        await globex.locator('dialog[open] button[data-confirm-bulk="retry"]').click();
        await globex.getByTestId('bulk-outcome').filter({ hasText: '27 jobs retried' }).waitFor({ timeout: 60_000 });
      } finally {
        await other.close();
      }
      await asTenant(service, keys.globex, async () => {
        for (const { jobId } of failedSleeps) assert.equal((await service.getJob(jobId)).body.run, 2, jobId);
        const untouched = (await service.getJob(otherType)).body;
        assert.equal(untouched.run, 1, 'the failed job of another type is not retried');
        assert.equal(untouched.status, 'failed');
      });
    });
  });

  describe('confirms an action from the keyboard', function () {
    it('opens on Keep it, closes on Escape with the focus back on Cancel, confirms with Tab and Enter', async function () {
      const jobId = uniqueJobId('dash-keys');
      await service.submit({ type: 'sleep', input: { seconds: 60 }, jobId });
      await page.goto(`${service.baseUrl}/ui/jobs/${jobId}`);
      const cancel = page.locator('button[data-action="cancel"]');
      await cancel.focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: `Cancel ${jobId}?` });
      await dialog.waitFor();
      // It opens on the answer that changes nothing.
      await untilFocused(dialog.getByRole('button', { name: 'Keep it' }));
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      await untilFocused(cancel);
      assert.notEqual((await service.getJob(jobId)).body.status, 'cancelled', 'Escape cancelled the job');
      await page.keyboard.press('Enter');
      await dialog.waitFor();
      await page.keyboard.press('Tab');
      await untilFocused(dialog.locator('button[data-confirm="cancel"]'));
      await page.keyboard.press('Enter');
      await statusOn(page).filter({ hasText: 'cancelled' }).waitFor({ timeout: 30_000 });
      // Cancel is gone with the running job: the focus waits on its heading, one Tab before Retry.
      await untilFocused(page.getByRole('heading', { name: jobId }));
      await page.keyboard.press('Tab');
      await untilFocused(page.locator('button[data-action="retry"]'));
    });
  });

  describe("shows the API's refusal with its message", function () {
    it('says why the list is empty when the API refuses its filter', async function () {
      await page.goto(`${service.baseUrl}/ui/?tag=no-colon`);
      const refusal = page.getByRole('main').getByRole('alert');
      await refusal.waitFor();
      assert.match(await refusal.innerText(), /^tag: .*key:value/);
      assert.equal(await page.locator('tbody tr').count(), 0);
    });
  });

  describe('stops asking when the refusal will not change, and asks again when told', function () {
    /** Fails if `page` asks for a URL `matches` accepts within `ms`: the refused page reads no more. */
    async function noRequestFor(ms: number, matches: (url: URL) => boolean): Promise<void> {
      await assert.rejects(
        page.waitForRequest((request) => matches(new URL(request.url())), { timeout: ms }),
        /Timeout/,
        'the page asked again after a refusal that will not change',
      );
    }

    it('shows a job that does not exist once, with Try again, and reads it again when it is clicked', async function () {
      const jobId = uniqueJobId('dash-gone');
      const isJobRead = (url: URL) => url.pathname === `/api/v1/jobs/${jobId}`;
      await page.goto(`${service.baseUrl}/ui/jobs/${jobId}`);
      const refusal = page.getByRole('main').getByRole('alert');
      await refusal.waitFor();
      assert.match(await refusal.innerText(), /not found|no job/i);
      // The page read every second before: three intervals without a read show that it stopped.
      await noRequestFor(3_000, isJobRead);
      const readAgain = page.waitForRequest((request) => isJobRead(new URL(request.url())));
      await refusal.getByRole('button', { name: 'Try again' }).click();
      await readAgain;
      await refusal.getByRole('button', { name: 'Try again' }).waitFor();
    });

    it('keeps reading a job while the API cannot be reached', async function () {
      const jobId = uniqueJobId('dash-unreachable');
      const isJobRead = (url: URL) => url.pathname === `/api/v1/jobs/${jobId}`;
      await page.route(`**/api/v1/jobs/${jobId}`, (route) => route.abort('connectionrefused'));
      try {
        await page.goto(`${service.baseUrl}/ui/jobs/${jobId}`);
        const refusal = page.getByRole('main').getByRole('alert');
        await refusal.waitFor();
        assert.match(await refusal.innerText(), /the API did not answer/);
        await page.waitForRequest((request) => isJobRead(new URL(request.url())), { timeout: 10_000 });
        assert.equal(await refusal.getByRole('button', { name: 'Try again' }).count(), 0);
      } finally {
        await page.unroute(`**/api/v1/jobs/${jobId}`);
      }
    });

    it("shows the list's refused filter once, and reads again with a corrected one", async function () {
      const isListRead = (url: URL) => url.pathname === '/api/v1/jobs' || url.pathname === '/api/v1/jobs/counts';
      await page.goto(`${service.baseUrl}/ui/?tag=no-colon`);
      const refusal = page.getByRole('main').getByRole('alert');
      await refusal.waitFor();
      assert.match(await refusal.innerText(), /^tag: .*key:value/);
      // The list reads every 2 s: two and a half intervals without a read show that it stopped.
      await noRequestFor(5_000, isListRead);
      const readAgain = page.waitForRequest((request) => isListRead(new URL(request.url())));
      await page.getByLabel('Tag').fill('team:none');
      await page.getByLabel('Tag').press('Enter');
      await readAgain;
      await refusal.waitFor({ state: 'detached' });
    });
  });

  describe('runs a job from the form', function () {
    it("shows the API's validation message beside the field, then submits and opens the job", async function () {
      await page.goto(`${service.baseUrl}/ui/`);
      await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Run a job' }).click();
      await page.getByLabel('Job type').selectOption('sleep');
      const seconds = page.locator('[data-field="seconds"]');
      await seconds.getByRole('spinbutton').fill('-1');
      await page.getByLabel('Priority').selectOption('high');
      await page.getByRole('button', { name: 'Run job' }).click();
      await seconds.locator('.field-error').waitFor();
      assert.match(await seconds.locator('.field-error').innerText(), /0|small|minimum/i);
      assert.equal(await seconds.getByRole('spinbutton').getAttribute('aria-invalid'), 'true');
      await seconds.getByRole('spinbutton').fill('0.2');
      await page.locator('[data-field="message"] input').fill('from the form');
      await page.getByRole('button', { name: 'Run job' }).click();
      await page.waitForURL(/\/ui\/jobs\//);
      await statusOn(page).filter({ hasText: 'succeeded' }).waitFor({ timeout: 30_000 });
      const jobId = decodeURIComponent(new URL(page.url()).pathname.slice('/ui/jobs/'.length));
      const { body } = await service.getJob(jobId);
      assert.equal(body.priority, 'high');
      assert.deepEqual(body.input, { seconds: 0.2, message: 'from the form' });
    });
  });

  describe('sees queues', function () {
    it('shows each priority with its running jobs, and each job type with its workers', async function () {
      const jobId = uniqueJobId('dash-queue');
      await service.submit({ type: 'sleep', input: { seconds: 60 }, jobId, priority: 'high' });
      await service.waitFor(jobId, ['running']);
      await page.goto(`${service.baseUrl}/ui/queues`);
      for (const priority of ['high', 'normal', 'low'])
        await page.locator(`[data-priority="${priority}"]`).first().waitFor();
      const runningHigh = page.getByTestId('running-high');
      const deadline = Date.now() + 30_000;
      while (Number(await runningHigh.textContent()) < 1) {
        assert.ok(Date.now() < deadline, 'the running high job is never counted');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const sleepHigh = page.locator('tr[data-type="sleep"][data-priority="high"]');
      assert.ok(Number(await sleepHigh.locator('td').nth(2).textContent()) >= 1, 'a worker serves sleep at high');
      await page.screenshot({ path: new URL('dashboard-queues.png', screenshots).pathname });
      await service.cancel(jobId);
    });
  });

  describe("sees schedules and a job's schedule of origin", function () {
    it('pauses and resumes a schedule, runs it now, and links its job back to it', async function () {
      await withHourlySchedule(service, 'dash-sched', async (scheduleId) => {
        await page.goto(`${service.baseUrl}/ui/schedules`);
        const card = page.locator(`[data-schedule-id="${scheduleId}"]`);
        await card.getByTestId('schedule-state').filter({ hasText: 'active' }).waitFor();
        assert.match(await card.innerText(), /every 1 h 0 min/);
        await card.locator('button[data-schedule-action="pause"]').click();
        await card.getByTestId('schedule-state').filter({ hasText: 'paused' }).waitFor();
        assert.equal(
          (await service.request<{ paused: boolean }>('GET', `/api/v1/schedules/${scheduleId}`)).body.paused,
          true,
        );
        await card.locator('button[data-schedule-action="unpause"]').click();
        await card.getByTestId('schedule-state').filter({ hasText: 'active' }).waitFor();
        await card.locator('button[data-schedule-action="trigger"]').click();
        const recent = card.locator('.recent-jobs a').first();
        await recent.waitFor({ timeout: 30_000 });
        await recent.click();
        await page.waitForURL(/\/ui\/jobs\//);
        const origin = page.getByTestId('schedule-origin');
        await origin.waitFor({ timeout: 30_000 });
        assert.equal(await origin.textContent(), scheduleId);
        await origin.click();
        await page.locator(`[data-schedule-id="${scheduleId}"][aria-current="true"]`).waitFor();
        assert.equal(new URL(page.url()).searchParams.get('id'), scheduleId);
      });
    });
  });

  it("shows a second tenant none of the first's jobs, in the list or by a deep link", async function () {
    const jobId = uniqueJobId('dash-acme-only');
    await service.submit({ type: 'sleep', input: { seconds: 0, message: 'acme only' }, jobId }, '?wait=10');
    // A phone's width in dark mode: the same page, laid out as cards.
    const other = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    try {
      const globex = await other.newPage();
      await signIn(globex, keys.globex);
      assert.equal(await globex.getByTestId('tenant').textContent(), 'globex');
      await globex.getByText('No jobs yet').waitFor();
      const mine = uniqueJobId('dash-globex');
      await asTenant(service, keys.globex, () =>
        service.submit({ type: 'sleep', input: { seconds: 0 }, jobId: mine }, '?wait=10'),
      );
      await globex.locator(`tr[data-job-id="${mine}"]`).waitFor();
      assert.doesNotMatch(await globex.content(), /dash-acme-only|dash-failed|dash-new/);
      await globex.goto(`${service.baseUrl}/ui/jobs/${jobId}`);
      await globex.getByRole('alert').filter({ hasText: 'no job' }).waitFor();
      assert.doesNotMatch(await globex.content(), /acme only/);
    } finally {
      await other.close();
    }
  });
});

describe('The dashboard of an API without keys', function () {
  this.timeout(120_000);
  let service: TestService;
  let browser: Browser;
  before(async function () {
    browser = await launchChromium(this);
    service = await TestService.start({ workers: false });
  });
  after(async function () {
    await browser?.close();
    await service?.teardown();
  });

  it('needs no sign-in and shows tenant default', async function () {
    const page = await browser.newPage();
    await page.goto(`${service.baseUrl}/ui/`);
    await page.getByText('No jobs yet').waitFor();
    assert.equal(await page.getByTestId('tenant').textContent(), 'default');
    assert.equal(await page.getByLabel('API key').count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
  });

  it('says how to make the first schedule when there is none', async function () {
    const page = await browser.newPage();
    await page.goto(`${service.baseUrl}/ui/schedules`);
    await page.getByText('No schedules yet.').waitFor();
    assert.match(await page.getByRole('main').innerText(), /POST \/api\/v1\/schedules/);
  });

  it('answers the shell for any page under /ui/ and 404 for any file it did not build', async function () {
    const page = await fetch(`${service.baseUrl}/ui/queues`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<div id="app">/);
    for (const path of [
      '/ui/assets/__proto__',
      '/ui/assets/constructor',
      '/ui/assets/%2e%2e%2findex.html',
      '/ui/assets/a/b.js',
    ]) {
      assert.equal((await fetch(service.baseUrl + path)).status, 404, path);
    }
  });
});

describe('The dashboard as the gateway serves it', function () {
  this.timeout(60_000);

  it('answers 503 naming the build command when the dashboard is not built, rather than failing', async function () {
    const koa = new Koa();
    koa.use(dashboard('/nonexistent/dashboard'));
    const server = koa.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await fetch(`http://127.0.0.1:${port}/ui/jobs/x`);
      assert.equal(answer.status, 503);
      assert.match(await answer.text(), /not built.*npm run build:ui/);
    } finally {
      server.close();
    }
  });
});
