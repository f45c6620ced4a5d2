/**
 * What every browser test shares: Debian's Chromium launched headless, a mid-range phone's
 * viewport, screenshots under test-results/ for a person to look at, and the accessibility check
 * (axe-core; serious or critical violations fail the test).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';

const axeSource: string = createRequire(import.meta.url)('axe-core').source;
export const resultsDir = fileURLToPath(new URL('../../test-results/', import.meta.url));
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A mid-range phone: 390×844 CSS pixels, Japanese locale. */
export const phone: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'ja-JP',
};

/**
 * Browser tests test the pages, not the database under them. CI runs the suite twice (.ci/run); to
 * stay within its time they run in the PostgreSQL pass only, where a test database is cheap, and are
 * reported as skipped in the embedded-database pass. Outside CI they always run.
 */
export const browserSuite = {
  skip: process.env.MACHI_CI_PASS === 'embedded' ? 'browser tests run in the PostgreSQL pass of CI' : false,
};

export function launchChromium(): Promise<Browser> {
  mkdirSync(resultsDir, { recursive: true });
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

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${resultsDir}${name}.png`, fullPage: true });
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe-core in the page; prints and fails on any violation of impact serious or critical. */
export async function assertAccessible(page: Page, name: string): Promise<void> {
  // Evaluated rather than added as a <script>, which the server's CSP (script-src 'self') would block.
  await page.evaluate(axeSource);
  // A string, not a function: the test code is type-checked without the DOM library.
  const violations = await page.evaluate<AxeViolation[]>(`
    axe.run(document, { resultTypes: ['violations'] }).then((result) =>
      result.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')),
      })))`);
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (serious.length > 0) console.error(`axe violations on ${name}:`, JSON.stringify(serious, null, 2));
  assert.deepEqual(serious, [], `${name} has serious or critical accessibility violations`);
}
