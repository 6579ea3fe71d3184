import { z } from 'zod';
import type { Browser, Page } from 'playwright-core';
import { ConnectorError } from '../../src/domain/connectors/connector-error';
import { defineConnector } from '../../src/domain/connectors/define-connector';
import { hidden } from '../../src/domain/connectors/visibility';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';
import { assertConsoleBuilt, screenshot, seriousAxeViolations, signedInConsole, timelineRow } from './browser-support';

/**
 * A run's page while the run executes, and human approvals, in a real browser: the timeline
 * fills in from the run's event stream without a reload; the approval link opened by a person
 * with no account decides once and the run completes; the inbox decides with a note.
 */
const SECRET = 'flaky-secret-value-7f3a';

/** Fails its first attempt (retryably), succeeds on the next; its API key is a hidden param. */
const flaky = defineConnector({
  type: 'flaky_lookup',
  name: 'Flaky lookup',
  description: 'Fails once, then answers.',
  category: 'test',
  kind: 'action',
  params: z.object({ query: z.string(), apiKey: hidden(z.string()) }),
  secrets: { apiKey: 'FLAKY_KEY' },
  outputs: z.object({ answer: z.string() }),
  retry: { maxAttempts: 3, initialIntervalMs: 200, backoffCoefficient: 1, maxIntervalMs: 200 },
  run: async ({ query }, ctx) => {
    if (ctx.attempt === 1) throw new ConnectorError('upstream_unavailable', 'the first attempt always fails', { retryable: true });
    return { answer: `found ${query}` };
  },
});

let app: TestApp;
let browser: Browser;
let page: Page;
let owner: SignedUp;

beforeAll(async () => {
  app = await startTestApp('console_live', {}, undefined, undefined, [flaky]);
  await assertConsoleBuilt(app);
  owner = await signUp(app);
  await app.request('POST', '/api/secrets', { headers: owner.headers, body: { name: 'FLAKY_KEY', value: SECRET } });
  ({ browser, page } = await signedInConsole(app, owner));
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function startRun(ops: unknown[]): Promise<string> {
  const workflowId = await createWorkflow(app, owner.headers, ops);
  const started = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: owner.headers, body: { input: { order: 42 } } });
  if (started.status !== 202) throw new Error(`start: ${started.status} ${started.text}`);
  return started.body.runId;
}

const approvalFlow = (prompt: string) => [add('start', 'trigger_manual'), add('ask', 'human_approval', { prompt }), add('after', 'transform', { template: 'decided' }), connect('start', 'ask'), connect('ask', 'after')];
const runStatus = (p: Page, status: string) => p.getByTestId('run-status').getByText(status).waitFor();

describe('a run in the console', () => {
  it("fills in the timeline live while the run executes: retries, the wait, and what comes after the signal", async () => {
    const runId = await startRun([
      add('start', 'trigger_manual'),
      add('lookup', 'flaky_lookup', { query: 'order {{trigger.order}}' }),
      add('hold', 'wait_for_event', { eventName: 'go' }),
      add('done', 'transform', { template: 'after {{lookup.answer}}' }),
      connect('start', 'lookup'),
      connect('lookup', 'hold'),
      connect('hold', 'done'),
    ]);
    await page.goto(`${app.url}/console/runs/${runId}`);
    await timelineRow(page, 'lookup', 1).and(page.locator('[data-status="failed"]')).waitFor();
    await timelineRow(page, 'lookup', 2).and(page.locator('[data-status="succeeded"]')).waitFor();
    await timelineRow(page, 'hold', 1).and(page.locator('[data-status="waiting"]')).waitFor();
    await runStatus(page, 'waiting');
    await page.getByRole('region', { name: 'Waiting for' }).getByText('go', { exact: true }).waitFor();
    expect(await timelineRow(page, 'done', 1).count()).toBe(0);
    await page.evaluate('window.stillTheSamePage = true'); // gone if the page reloaded

    const signal = await app.request('POST', `/api/runs/${runId}/signals`, { headers: owner.headers, body: { name: 'go', payload: { by: 'test' } } });
    expect(signal.status).toBe(202);
    await timelineRow(page, 'done', 1).and(page.locator('[data-status="succeeded"]')).waitFor();
    await timelineRow(page, 'hold', 1).and(page.locator('[data-status="succeeded"]')).waitFor();
    await runStatus(page, 'completed');
    await page.getByRole('list', { name: "The run's events as they arrive" }).getByText('RunCompleted').waitFor();
    expect(await page.evaluate('window.stillTheSamePage')).toBe(true);

    // The hidden param arrives masked; its value is nowhere on the page.
    await page.getByText('lookup (flaky_lookup), attempt 2: succeeded').click();
    await page.getByLabel('Input of lookup attempt 2').getByText('"apiKey": "[hidden]"').waitFor();
    expect(await page.content()).not.toContain(SECRET);
    await page.getByLabel('Output of done attempt 1').waitFor({ state: 'attached' });
    await screenshot(page, 'run');
    expect(await seriousAxeViolations(page)).toEqual([]);

    // Rerun from a chosen step: the lookup before it keeps its output, the wait begins again.
    await page.getByRole('combobox', { name: /Step to rerun from/ }).selectOption('hold');
    await page.getByRole('button', { name: 'Rerun from this step' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/console/runs/') && !url.pathname.endsWith(runId));
    await runStatus(page, 'waiting');
    const rerunId = new URL(page.url()).pathname.split('/').at(-1)!;
    const events = (await app.request('GET', `/api/runs/${rerunId}/events`, { headers: owner.headers })).body.data as { type: string; data: { blockId?: string } }[];
    expect(events.map((event) => `${event.type}${event.data.blockId ? `:${event.data.blockId}` : ''}`)).toEqual(['RunStarted', 'StepReused:lookup', 'RunWaitingForEvent:hold']);
  });

  it('cancels a waiting run from its page', async () => {
    const runId = await startRun([add('start', 'trigger_manual'), add('hold', 'wait_for_event', { eventName: 'never' }), connect('start', 'hold')]);
    await page.goto(`${app.url}/console/runs/${runId}`);
    await runStatus(page, 'waiting');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await runStatus(page, 'cancelled');
    await timelineRow(page, 'hold', 1).and(page.locator('[data-status="cancelled"]')).waitFor();
    expect((await app.request('GET', `/api/runs/${runId}`, { headers: owner.headers })).body.status).toBe('cancelled');

    // Rerun from the failure: the page shows the new run, which names this one and waits again.
    await page.getByRole('button', { name: 'Rerun from the failure' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/console/runs/') && !url.pathname.endsWith(runId));
    await page.getByRole('link', { name: runId }).waitFor();
    await runStatus(page, 'waiting');
    const rerunId = new URL(page.url()).pathname.split('/').at(-1)!;
    expect((await app.request('GET', `/api/runs/${rerunId}`, { headers: owner.headers })).body).toMatchObject({ status: 'waiting', rerunOf: runId });
    await screenshot(page, 'run-rerun');
    expect(await seriousAxeViolations(page)).toEqual([]);

    // The original again, after a repair of its workflow: rerun on the current version.
    const { workflowId } = (await app.request('GET', `/api/runs/${runId}`, { headers: owner.headers })).body;
    await app.request('POST', `/api/workflows/${workflowId}/operations`, { headers: owner.headers, body: { ops: [{ operation_type: 'update', block_id: 'hold', params: { eventName: 'now-never-either' } }] } });
    await page.goto(`${app.url}/console/runs/${runId}`);
    await runStatus(page, 'cancelled');
    await page.getByLabel(/Rerun on the workflow.s current version/).check();
    await screenshot(page, 'run-ended');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Rerun from the start' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/console/runs/') && !url.pathname.endsWith(runId) && !url.pathname.endsWith(rerunId));
    await runStatus(page, 'waiting');
    const onCurrent = new URL(page.url()).pathname.split('/').at(-1)!;
    expect((await app.request('GET', `/api/runs/${onCurrent}`, { headers: owner.headers })).body).toMatchObject({ rerunOf: runId, workflowVersion: 3, waitingFor: { eventName: 'now-never-either' } });
  });
});

describe('approvals in the console', () => {
  it('decides from the approval link with no account, once, and the run completes', async () => {
    const runId = await startRun(approvalFlow('Ship release 1.2 to production?'));
    const run = await waitForRun(app, owner.headers, runId, ['waiting']);
    const approvalUrl: string = run.waitingFor.approvalUrl;
    expect(approvalUrl).toBe(`${app.url}/console/approvals/${run.waitingFor.approvalToken}`);
    const stranger = await browser.newContext({ viewport: { width: 1000, height: 800 } }); // no cookie: no account
    const [first, second] = [await stranger.newPage(), await stranger.newPage()];
    for (const p of [first, second]) {
      await p.goto(approvalUrl);
      await p.getByText('Ship release 1.2 to production?').waitFor();
      await p.getByRole('button', { name: 'Approve' }).waitFor();
    }
    await screenshot(first, 'approval-link');
    expect(await seriousAxeViolations(first)).toEqual([]);

    await first.getByLabel('Note (optional)').fill('Checked the changelog');
    await first.getByRole('button', { name: 'Approve' }).click();
    await first.getByTestId('decision-outcome').getByText('approved').waitFor();
    await second.getByRole('button', { name: 'Reject' }).click();
    await second.getByTestId('already-decided').waitFor();
    await second.getByTestId('approval-status').getByText('approved').waitFor();
    await screenshot(second, 'approval-already-decided');
    await stranger.close();

    await page.goto(`${app.url}/console/runs/${runId}`);
    await runStatus(page, 'completed');
    const events = (await app.request('GET', `/api/runs/${runId}/events`, { headers: owner.headers })).body.data as { type: string; data: Record<string, unknown> }[];
    expect(events.filter((e) => e.type === 'ApprovalDecided').map((e) => [e.data.approved, e.data.note, e.data.by])).toEqual([[true, 'Checked the changelog', null]]);
  });

  it("approves from the organization's inbox with a note, as the signed-in user", async () => {
    const runId = await startRun(approvalFlow('Refund order 42?'));
    await waitForRun(app, owner.headers, runId, ['waiting']);
    await page.getByRole('link', { name: 'Approvals' }).click();
    const card = page.getByRole('article', { name: 'Refund order 42?' });
    await card.waitFor();
    await screenshot(page, 'approvals-inbox');
    expect(await seriousAxeViolations(page)).toEqual([]);
    // From the keyboard: type the note, Tab to Approve, Enter.
    await card.getByLabel('Note (optional)').focus();
    await page.keyboard.type('Customer called twice');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.getAttribute("aria-label")')).toBe('Approve “Refund order 42?”');
    await page.keyboard.press('Enter');
    await page.getByRole('status').getByText('Recorded approved').waitFor();
    await card.waitFor({ state: 'detached' });
    expect((await waitForRun(app, owner.headers, runId)).status).toBe('completed');
    const events = (await app.request('GET', `/api/runs/${runId}/events`, { headers: owner.headers })).body.data as { type: string; data: Record<string, unknown> }[];
    expect(events.filter((e) => e.type === 'ApprovalDecided').map((e) => [e.data.note, e.data.by])).toEqual([['Customer called twice', owner.userId]]);
  });
});
