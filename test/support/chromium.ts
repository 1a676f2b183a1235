// Debian's Chromium, as the browser tests drive it through playwright-core; `npm test` installs it where it can (root
// with apt-get), and .ci/run always does.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { buildDashboard } from '../../dev/build-ui.js';

const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * Chromium for a suite, with the dashboard built for the API to serve (unless `dashboard` is false: the Temporal Web
 * UI's suites), or a skipped suite where there is none (never in CI, where a missing browser is a broken install).
 */
export async function launchChromium(suite: Mocha.Context, { dashboard = true } = {}): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    if (process.env['CI']) assert.fail(`no Chromium at ${chromiumPath} in CI (set CHROMIUM_PATH)`);
    console.warn(`skipping the browser tests: no Chromium at ${chromiumPath} (set CHROMIUM_PATH)`);
    suite.skip();
  }
  if (dashboard) await buildDashboard();
  return chromium.launch({
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
}
