// Debian's Chromium, as the browser tests drive it through playwright-core.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { buildDashboard } from '../../dev/build-ui.js';

const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Chromium with the dashboard built, for a suite, or a skipped suite where there is none (never in CI). */
export async function launchChromium(suite: Mocha.Context): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    if (process.env['CI']) assert.fail(`no Chromium at ${chromiumPath} in CI (set CHROMIUM_PATH)`);
    console.warn(`skipping the browser tests: no Chromium at ${chromiumPath} (set CHROMIUM_PATH)`);
    suite.skip();
  }
  await buildDashboard();
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  });
}
