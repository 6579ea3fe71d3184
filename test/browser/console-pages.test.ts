import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { readUntil } from '../support/database';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';
import { assertConsoleBuilt, launchChromium, screenshot, seriousAxeViolations, signInThroughForm } from './browser-support';

/**
 * The console in a real browser (Debian's chromium): sign in through the form, switch
 * organization, read workflows (blocks, history with skipped ops and their reason codes) and
 * runs, manage API keys, read the audit trail the test caused. Every page is screenshotted
 * and passes axe-core with no serious or critical violation.
 */
let app: TestApp;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let owner: SignedUp;
let workflowId: string;
let runId: string;
let secondOrganizationId: string;

beforeAll(async () => {
  app = await startTestApp('console_pages');
  await assertConsoleBuilt(app);
  owner = await signUp(app, { name: 'Ada Console' });
  workflowId = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), add('greet', 'transform', { template: 'Hello {{trigger.name}}' }), connect('start', 'greet')]);
  // An agent's patch with a typo: recorded as a skipped op with its reason code.
  const agent = { ...owner.headers, 'x-thodare-agent': 'console-test-agent/1.0' };
  await app.request('POST', `/api/workflows/${workflowId}/operations`, { headers: agent, body: { ops: [{ operation_type: 'add', block_id: 'shout', type: 'transfrom', params: {} }] } });
  const started = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: owner.headers, body: { input: { name: 'Ada' } } });
  runId = started.body.runId;
  await waitForRun(app, owner.headers, runId);
  secondOrganizationId = (await app.request('POST', '/api/organizations', { headers: owner.headers, body: { name: 'Second org' } })).body.id;
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Screenshot and accessibility check of the page as it is now; every status is also a word, never a colour alone. */
async function check(name: string): Promise<void> {
  await screenshot(page, name);
  expect([name, await seriousAxeViolations(page)]).toEqual([name, []]);
  const statuses = await page.locator('.status').allTextContents();
  expect([name, statuses.filter((text) => !/[a-z]{2,}/.test(text))]).toEqual([name, []]);
}

const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name });

describe('the console', () => {
  it('signs in through the form', async () => {
    await page.goto(`${app.url}/console/`);
    await heading('Sign in').waitFor();
    await check('sign-in');
    await page.getByLabel('Password').fill('not the password');
    await page.getByLabel('Email').fill(owner.email);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'invalid_credentials' }).waitFor();
    await signInThroughForm(page, app, owner);
    await page.getByText(owner.email).waitFor();
    const cookies = await context.cookies(app.url);
    expect(cookies.find((c) => c.name === 'thodare_session')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
  });

  it('works from the keyboard: the skip link first, then the sections, each page focusing its heading', async () => {
    const focused = () => page.evaluate('document.activeElement.tagName + " " + document.activeElement.textContent');
    // Hold every workflow list back, so each page's heading is there (and focused) well before
    // the data: the keyboard must not lose its place when the data arrives.
    await page.route('**/api/workflows?*', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await route.continue();
    });
    await page.goto(`${app.url}/console/runs`);
    await heading('Runs').waitFor();
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('A Skip to content');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    expect(await focused()).toMatch(/^SELECT All workflows/); // the first control of the page, past the header
    // The workflow names arrive in the filter: the focus stays on it.
    await page.getByRole('option', { name: 'runs test' }).waitFor({ state: 'attached' });
    expect(await focused()).toMatch(/^SELECT All workflows.*runs test/);
    const nav = page.getByRole('navigation', { name: 'Sections' });
    await nav.getByRole('link', { name: 'Workflows' }).focus();
    await page.keyboard.press('Enter');
    await heading('Workflows').waitFor();
    expect(await focused()).toBe('H1 Workflows');
    // The list arrives after the heading: Tab before it lands past the page, back on the skip link.
    await page.getByRole('link', { name: 'runs test', exact: true }).waitFor();
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('A runs test');
    await page.unroute('**/api/workflows?*');
    await nav.getByRole('link', { name: 'Runs' }).focus();
    await page.keyboard.press('Enter');
    await heading('Runs').waitFor();
  });

  it('lists runs, filtered by workflow and status', async () => {
    await page.goto(`${app.url}/console/runs`);
    await page.getByRole('cell', { name: 'runs test' }).first().waitFor();
    await page.getByLabel('Workflow').selectOption(workflowId);
    await page.getByLabel('Status').selectOption('completed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=completed/);
    await page.locator(`a[href="/console/runs/${runId}"]`).waitFor();
    await page.getByRole('row').filter({ hasText: 'completed' }).first().waitFor();
    await check('runs');
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No runs match.').waitFor();
  });

  it("shows a workflow's blocks in run order, and which ops each actor and agent applied or skipped, with reason codes", async () => {
    await page.getByRole('link', { name: 'Workflows' }).click();
    await heading('Workflows').waitFor();
    await check('workflows');
    await page.getByRole('link', { name: 'runs test', exact: true }).click();
    await heading('Workflow runs test').waitFor();
    const blocks = page.getByRole('region', { name: 'Blocks and connections' }).locator('ol.blocks > li');
    await blocks.nth(1).waitFor();
    expect(await blocks.locator('code').allTextContents()).toEqual(['trigger_manual', 'transform']);
    await blocks.first().getByText('Then: greet').waitFor();
    const skipped = page.locator('tr[data-event="EditOpSkipped"]');
    await skipped.waitFor();
    expect(await skipped.textContent()).toContain('block_type_not_registered');
    expect(await skipped.textContent()).toContain('console-test-agent/1.0');
    await page.getByRole('row').filter({ hasText: 'console-test-agent/1.0' }).filter({ hasText: `user:${owner.userId}` }).first().waitFor();
    await page.getByRole('combobox', { name: 'Version' }).selectOption('1');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('heading', { name: 'As it was at version 1' }).waitFor();
    await check('workflow');
  });

  it('reverts a workflow to a past version from its page', async () => {
    const first = [add('start', 'trigger_manual'), add('first', 'transform', { template: 'one' }), connect('start', 'first'), { operation_type: 'set_metadata', name: 'revert test' }];
    const id = await createWorkflow(app, owner.headers, first);
    await app.request('POST', `/api/workflows/${id}/operations`, { headers: owner.headers, body: { ops: [add('second', 'transform', { template: 'two' }), connect('first', 'second')] } });
    await page.goto(`${app.url}/console/workflows/${id}`);
    await page.getByText('Version 3 ·').waitFor();
    await page.getByRole('combobox', { name: 'Version' }).selectOption('2');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('heading', { name: 'As it was at version 2' }).waitFor();
    // A change the page has not seen (version 4, by an agent): the revert is refused, not made over it.
    await app.request('POST', `/api/workflows/${id}/operations`, { headers: owner.headers, body: { ops: [add('third', 'transform', { template: 'three' })] } });
    await page.getByRole('button', { name: 'Revert to version 2' }).click();
    await page.getByRole('alert').filter({ hasText: /^Could not revert: .*\(version_mismatch\)$/ }).waitFor();
    expect((await app.request('GET', `/api/workflows/${id}`, { headers: owner.headers })).body).toMatchObject({ version: 4 });

    await page.reload();
    await page.getByText('Version 4 ·').waitFor();
    await page.getByRole('combobox', { name: 'Version' }).selectOption('2');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByRole('button', { name: 'Revert to version 2' }).click();
    await page.getByRole('status').filter({ hasText: 'Reverted to the content of version 2: now version 5 (it was version 4).' }).waitFor();
    await page.getByText('Version 5 ·').waitFor();
    const blocks = page.getByRole('region', { name: 'Blocks and connections' }).locator('ol.blocks > li');
    await blocks.nth(1).waitFor();
    expect(await blocks.count()).toBe(2);
    expect((await app.request('GET', `/api/workflows/${id}`, { headers: owner.headers })).body).toMatchObject({ version: 5 });
    // The history shows the revert's ops as version 5.
    await page.getByRole('row').filter({ hasText: 'remove' }).filter({ hasText: 'third' }).waitFor();
    await check('workflow-reverted');
  });

  it('creates an API key, shows it once, and revokes it', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await heading('API keys').waitFor();
    await page.getByLabel('Name').fill('browser-key');
    await page.getByLabel('Role').selectOption('viewer');
    await page.getByRole('button', { name: 'Create key' }).click();
    const shown = (await page.getByTestId('new-key').textContent()) ?? '';
    expect(shown).toMatch(/^thd_/);
    expect((await app.request('GET', '/api/workflows', { headers: { authorization: `Bearer ${shown}` } })).status).toBe(200);
    await page.getByRole('row').filter({ hasText: 'browser-key' }).getByText('active').waitFor();
    await check('api-keys');
    await page.getByRole('button', { name: 'Revoke browser-key' }).click();
    await page.getByRole('row').filter({ hasText: 'browser-key' }).getByText('revoked').waitFor();
    expect((await app.request('GET', '/api/workflows', { headers: { authorization: `Bearer ${shown}` } })).status).toBe(401);
  });

  it('lists the audit events the test caused, with filters, and verifies the trail', async () => {
    // The trail is read below the server's oldest open writing transaction, and other test files
    // hold some open for a while: the page reads it once, so the key's revocation, just written,
    // must be readable first (see `readUntil`).
    const revoked = () => app.request('GET', '/api/audit/events?type=ApiKeyRevoked', { headers: owner.headers });
    expect((await readUntil(revoked, (read) => read.body.data?.length > 0)).body.data).toEqual([expect.objectContaining({ type: 'ApiKeyRevoked' })]);
    await page.getByRole('link', { name: 'Audit' }).click();
    await heading('Audit trail').waitFor();
    for (const type of ['UserSignedIn', 'EditOpSkipped', 'RunStarted', 'ApiKeyCreated', 'ApiKeyRevoked']) await page.locator(`tr[data-event="${type}"]`).first().waitFor();
    await page.getByLabel('Types (comma-separated)').fill('ApiKeyCreated,ApiKeyRevoked');
    await page.getByLabel('Actor').fill(`user:${owner.userId}`);
    await page.getByRole('button', { name: 'Filter' }).click();
    const shown = () => page.locator('table.audit tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')).join());
    await page.locator('table.audit tr[data-event="UserSignedIn"]').first().waitFor({ state: 'detached' });
    expect(await shown()).toBe('ApiKeyCreated,ApiKeyRevoked');
    await page.getByRole('button', { name: 'Verify the trail' }).click();
    await page.getByTestId('verify-result').getByText('Events checked').waitFor();
    await check('audit');
  });

  it('switches organization, and shows that organization only', async () => {
    await page.getByLabel('Organization').selectOption(secondOrganizationId);
    await page.getByRole('link', { name: 'Workflows' }).click();
    await page.getByText('No workflows yet').waitFor();
    const session = (await page.evaluate(async () => (await fetch('/api/auth/session')).json())) as { organizationId: string };
    expect(session.organizationId).toBe(secondOrganizationId);
    await page.getByLabel('Organization').selectOption(owner.organizationId);
    await page.getByRole('link', { name: 'runs test', exact: true }).waitFor();
  });

  it('signs out, and the session is gone', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading('Sign in').waitFor();
    expect(await page.evaluate(async () => (await fetch('/api/auth/session')).status)).toBe(401);
  });
});
