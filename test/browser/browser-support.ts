import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { TestApp } from '../support/app';
import type { SignedUp } from '../support/auth';

/**
 * What every browser test needs: Debian's chromium (installed by scripts/ensure-chromium.sh,
 * never downloaded), screenshots as test artifacts, and an axe-core check.
 */
const ROOT = join(__dirname, '..', '..');
export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'console');

/**
 * Headless chromium with a fresh profile (Playwright makes a new user-data dir per launch). The
 * background-networking flags matter: on a closed network chromium's own update, sync and
 * component traffic is refused and slows or breaks start-up.
 */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh as root (npm test does, in pretest)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Fails fast, with the fix, when `npm run build` has not built the console. */
export async function assertConsoleBuilt(app: TestApp): Promise<void> {
  const res = await app.request('GET', '/console/');
  if (res.status !== 200 || !res.text.includes('id="root"')) throw new Error(`the console is not built: run \`npm run build\` first (${res.status} ${res.text.slice(0, 200)})`);
}

/** Writes the page as `test-artifacts/console/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * Runs axe-core in the page (evaluated through the DevTools protocol, which the console's CSP
 * does not block, where a <script> tag would be) and returns the serious and critical
 * violations as `rule: help @ targets`, for `expect(...).toEqual([])`.
 */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  // Page-side code as text: this project compiles for Node, without the DOM's types.
  const violations = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)")) as AxeViolation[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} @ ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

/** Opens the console signed out and signs `user` in through the form, as a person would. */
export async function signInThroughForm(page: Page, app: TestApp, user: Pick<SignedUp, 'email' | 'password'>): Promise<void> {
  await page.goto(`${app.url}/console/`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Runs' }).waitFor();
}

/** A browser with one page of the console, `user` signed in through the form (close the browser after). */
export async function signedInConsole(app: TestApp, user: Pick<SignedUp, 'email' | 'password'>): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signInThroughForm(page, app, user);
  return { browser, page };
}

/** The run page's timeline row of one attempt of a block (its `data-status` says how it went). */
export function timelineRow(page: Page, blockId: string, attempt: number) {
  return page.locator(`.timeline-row[data-block="${blockId}"][data-attempt="${attempt}"]`);
}
