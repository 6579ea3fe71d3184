import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';
import { assertConsoleBuilt, screenshot, seriousAxeViolations, signedInConsole } from './browser-support';

/**
 * Triggers in a real browser: a schedule an agent defined with a trigger_schedule block, listed
 * with its next fire time, paused with a note, resumed, fired by hand, its ledger showing the
 * run; a workflow's webhook URL, its deliveries, and a replay that starts a new run.
 */
let app: TestApp;
let browser: Browser;
let page: Page;
let owner: SignedUp;

beforeAll(async () => {
  app = await startTestApp('console_triggers');
  await assertConsoleBuilt(app);
  owner = await signUp(app);
  ({ browser, page } = await signedInConsole(app, owner));
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function check(name: string): Promise<void> {
  await screenshot(page, name);
  expect([name, await seriousAxeViolations(page)]).toEqual([name, []]);
}

describe('triggers in the console', () => {
  it('lists a schedule, pauses it with a note, resumes it, fires it by hand and shows the tick with its run', async () => {
    // Once a year: nothing fires on its own while the test runs.
    const workflowId = await createWorkflow(app, owner.headers, [
      add('yearly', 'trigger_schedule', { cron: '0 9 1 1 *', timezone: 'Europe/Rome' }),
      add('note', 'transform', { template: 'fired at {{trigger.scheduledAt}}' }),
      connect('yearly', 'note'),
      { operation_type: 'set_metadata', timeout_ms: 90_000, concurrency: { limit: 3, key_path: 'scheduleId' } },
    ]);
    const listed = await app.request('GET', `/api/schedules?workflowId=${workflowId}`, { headers: owner.headers });
    const schedule = listed.body.data[0];
    expect(schedule).toMatchObject({ source: 'workflow', blockId: 'yearly', state: 'active' });

    await page.getByRole('link', { name: 'Schedules' }).click();
    const row = page.getByRole('row').filter({ hasText: 'block yearly' });
    await row.getByText('0 9 1 1 *').waitFor();
    await row.getByText('active').waitFor();
    await check('schedules');

    await row.getByRole('link', { name: 'block yearly' }).click();
    await page.getByRole('heading', { level: 1, name: 'Schedule of block yearly' }).waitFor();
    expect(await page.getByRole('list', { name: 'Next fire times' }).getByRole('listitem').count()).toBe(5);
    await page.getByRole('list', { name: 'Next fire times' }).getByText(/^20\d\d-01-01 08:00:00 UTC$/).first().waitFor(); // 09:00 in Rome, in winter

    await page.getByLabel('Note').fill('quiet week');
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByTestId('schedule-state').getByText('paused').waitFor();
    await page.getByTestId('schedule-state').getByText('quiet week', { exact: false }).waitFor();
    expect((await app.request('GET', `/api/schedules/${schedule.id}`, { headers: owner.headers })).body).toMatchObject({ state: 'paused', note: 'quiet week', nextFireAt: null });
    await check('schedule-paused');

    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByTestId('schedule-state').getByText('active').waitFor();

    await page.getByRole('button', { name: 'Fire now' }).click();
    await page.getByRole('status').filter({ hasText: /^Fire now: fired, run / }).waitFor();
    const fired = page.locator('tr[data-outcome="fired"]');
    await fired.getByText('trigger').waitFor();
    await fired.getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: /^Run / }).waitFor();
    const runId = new URL(page.url()).pathname.split('/').at(-1)!;
    const run = await waitForRun(app, owner.headers, runId);
    expect(run).toMatchObject({ status: 'completed', workflowId, input: { scheduleId: schedule.id } });
    // The workflow's timeout, on the run (its deadline) and on the workflow.
    await page.getByText(`${run.deadline.slice(0, 19).replace('T', ' ')} UTC (the workflow's timeout`).waitFor();
    // Its concurrency line, on the run and on the workflow.
    await page.getByText(`holds a place in its line "${schedule.id}" (at most 3 at once)`).waitFor();
    await page.goto(`${app.url}/console/workflows/${workflowId}`);
    await page.getByText('runs time out after 1 min 30 s').waitFor();
    await page.getByText('at most 3 runs at once per scheduleId').waitFor();
  });

  it("shows a workflow's webhook and its deliveries, and replays one as a new run", async () => {
    const workflowId = await createWorkflow(app, owner.headers, [add('hook', 'trigger_webhook', {}), add('echo', 'transform', { template: 'got {{trigger.body.order}}' }), connect('hook', 'echo')]);
    const hook = (await app.request('GET', `/api/workflows/${workflowId}/webhooks`, { headers: owner.headers })).body.data[0];
    const delivered = await fetch(hook.url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'order-7' }, body: JSON.stringify({ order: 7 }) });
    expect(delivered.status).toBe(202);
    const { runId: firstRun } = (await delivered.json()) as { runId: string };

    await page.goto(`${app.url}/console/workflows/${workflowId}`);
    const card = page.getByRole('article', { name: 'Webhook hook' });
    expect(await card.getByTestId('webhook-url').textContent()).toBe(hook.url);
    await card.getByText('the Idempotency-Key header').waitFor();
    await card.getByRole('button', { name: 'Show deliveries' }).click();
    const row = card.getByRole('row').filter({ hasText: 'order-7' });
    await row.getByRole('link', { name: firstRun.slice(0, 13) + '…' }).waitFor();
    await check('workflow-webhooks');

    await row.getByRole('button', { name: /^Replay/ }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/console/runs/') && !url.pathname.endsWith(firstRun));
    const replayRun = new URL(page.url()).pathname.split('/').at(-1)!;
    expect(await waitForRun(app, owner.headers, replayRun)).toMatchObject({ status: 'completed', workflowId, outputs: { echo: { value: 'got 7' } } });
  });

  it("shows a workflow's concurrency lines: per key, the runs holding a place and those queued", async () => {
    // A run waiting for an event keeps its place: the second run of the same region queues.
    const workflowId = await createWorkflow(app, owner.headers, [
      add('start', 'trigger_manual'),
      add('hold', 'wait_for_event', { eventName: 'never' }),
      connect('start', 'hold'),
      { operation_type: 'set_metadata', concurrency: { limit: 1, key_path: 'region' } },
    ]);
    const start = (region: string) => app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: owner.headers, body: { input: { region } } });
    const first = (await start('eu-west')).body.runId as string;
    await waitForRun(app, owner.headers, first, ['waiting']);
    const second = (await start('eu-west')).body.runId as string;
    const queued = async () => (await app.request('GET', `/api/runs/${second}`, { headers: owner.headers })).body.concurrency?.admitted === false;
    for (let tries = 0; tries < 200 && !(await queued()); tries++) await new Promise((r) => setTimeout(r, 25));

    await page.goto(`${app.url}/console/workflows/${workflowId}`);
    await page.getByText('at most 1 runs at once per region').waitFor();
    const row = page.getByRole('table', { name: 'Lines that hold or queue runs, by key' }).getByRole('row').filter({ hasText: 'eu-west' });
    await row.getByRole('cell', { name: '1' }).first().waitFor();
    expect(await row.getByRole('cell').allTextContents()).toEqual(['eu-west', '1', '1', expect.stringMatching(/ UTC$/)]);
    await check('workflow-concurrency');
    await page.goto(`${app.url}/console/runs/${second}`);
    await page.getByText('waits for a place in its line "eu-west" (at most 1 at once)').waitFor();
    const stopped = await app.request('POST', `/api/workflows/${workflowId}/runs/cancel`, { headers: owner.headers, body: {} });
    expect(stopped.body.cancelled).toHaveLength(2);
  });

  it("reruns a workflow's failed runs from the workflow page", async () => {
    // Two runs fail (their timeout cuts the wait short); a third completes. Three seconds, not
    // one: in a full run (two test files, a browser) the third run's start, the event and its
    // delivery once took longer than one, and that run timed out too.
    const workflowId = await createWorkflow(app, owner.headers, [
      add('start', 'trigger_manual'),
      add('hold', 'wait_for_event', { eventName: '{{trigger.event}}' }),
      connect('start', 'hold'),
      { operation_type: 'set_metadata', timeout_ms: 3000 },
    ]);
    const start = async (event: string) => (await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: owner.headers, body: { input: { event } } })).body.runId as string;
    const failed = [await start('never'), await start('never')];
    const ok = await start('soon');
    await app.request('POST', '/api/events', { headers: owner.headers, body: { name: 'soon' } });
    expect((await waitForRun(app, owner.headers, ok)).status).toBe('completed');
    for (const runId of failed) expect(await waitForRun(app, owner.headers, runId)).toMatchObject({ status: 'failed', error: { code: 'run_timed_out' } });

    await page.goto(`${app.url}/console/workflows/${workflowId}`);
    await page.getByRole('button', { name: 'Rerun the failed runs' }).click();
    const status = page.getByRole('status').filter({ hasText: 'Rerun 2 failed runs.' });
    await status.waitFor();
    for (const runId of failed) await status.getByText(`reruns ${runId.slice(0, 13)}…`).waitFor();
    await check('workflow-replay');
    const { body } = await app.request('GET', `/api/runs?workflowId=${workflowId}&limit=10`, { headers: owner.headers });
    const reruns = (body.data as { id: string; rerunOf?: string | null }[]).filter((run) => !failed.includes(run.id) && run.id !== ok);
    expect(reruns).toHaveLength(2);
    for (const rerun of reruns) expect(await waitForRun(app, owner.headers, rerun.id)).toMatchObject({ status: 'failed', rerunOf: expect.any(String) });
  });
});
