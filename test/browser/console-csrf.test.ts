import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';
import { assertConsoleBuilt, launchChromium, signInThroughForm } from './browser-support';

/**
 * A real cross-origin attack on a signed-in browser. A page served by another server tries to
 * cancel the user's run with the user's session cookie: a bodiless `fetch` (the one write a
 * page can send with the cookie and no preflight) and a form post. The API refuses both and the
 * run goes on; only the console, which sends X-Thodare-CSRF, can cancel it.
 *
 * The attacker is at 127.0.0.1:<other port>: another origin but the same site, so the
 * SameSite=Lax cookie IS sent — which is why SameSite alone is not enough. From another site
 * (`localhost`) the browser does not send the cookie at all.
 */
let app: TestApp;
let browser: Browser;
let context: BrowserContext;
let owner: SignedUp;
let attacker: Server;
let attackerPort: number;
let runId: string;

/** The attacker's page: it knows the run's id (ids leak through URLs, logs, screenshots). */
function attackPage(target: string): string {
  return `<!doctype html><html lang="en"><head><title>Free prizes</title></head><body>
<form id="form" method="POST" action="${target}"><input type="hidden" name="reason" value="pwned"></form>
<script>
window.bodilessPost = (mode) => fetch(${JSON.stringify(target)}, { method: 'POST', mode, credentials: 'include' }).then(() => 'sent', () => 'failed');
</script></body></html>`;
}

beforeAll(async () => {
  app = await startTestApp('console_csrf_browser');
  await assertConsoleBuilt(app);
  owner = await signUp(app);
  const workflowId = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), add('hold', 'wait_for_event', { eventName: 'never' }), connect('start', 'hold')]);
  runId = (await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: owner.headers, body: {} })).body.runId;
  await waitForRun(app, owner.headers, runId, ['waiting']);
  const target = `${app.url}/api/runs/${runId}/cancel`;
  attacker = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(attackPage(target)));
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerPort = (attacker.address() as AddressInfo).port;
  browser = await launchChromium();
  context = await browser.newContext();
  await signInThroughForm(await context.newPage(), app, owner);
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => attacker?.close(resolve));
  await app?.close();
});

interface Observed {
  status: number;
  body: string;
  /** Whether the browser attached the session cookie to the forged request. */
  cookieSent: boolean;
}

/** Opens the attacker's page, served from `host`. */
async function attackerPage(host: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`http://${host}:${attackerPort}/`);
  return page;
}

/**
 * The attacker's page at `host` sends the bodiless POST with `fetch` in `mode`. The request is
 * observed through the DevTools protocol as the browser really sent it: the cookie header it
 * carried, and the API's answer, paused at the response stage to read the body, which the page
 * is not allowed to read and an opaque `no-cors` response hides even from Playwright.
 */
async function forgeFetch(host: string, mode: 'cors' | 'no-cors'): Promise<Observed> {
  const page = await attackerPage(host);
  const cdp = await context.newCDPSession(page);
  // The headers as sent (cookies included) come in their own event, keyed by the request's id.
  const sentCookies = new Map<string, string>();
  const waiting = new Map<string, (cookie: string) => void>();
  cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
    const cookie = String(e.headers.Cookie ?? e.headers.cookie ?? '');
    sentCookies.set(e.requestId, cookie);
    waiting.get(e.requestId)?.(cookie);
  });
  const cookieOf = (id: string) => (sentCookies.has(id) ? Promise.resolve(sentCookies.get(id) ?? '') : new Promise<string>((resolve) => waiting.set(id, resolve)));
  await cdp.send('Network.enable');
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: `*/api/runs/${runId}/cancel`, requestStage: 'Response' }] });
  const answered = new Promise<{ status: number; body: string; networkId: string }>((resolve) => {
    cdp.on('Fetch.requestPaused', (e) => {
      void cdp.send('Fetch.getResponseBody', { requestId: e.requestId }).then(async ({ body, base64Encoded }) => {
        await cdp.send('Fetch.continueResponse', { requestId: e.requestId });
        resolve({ status: e.responseStatusCode ?? 0, body: base64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body, networkId: e.networkId ?? '' });
      });
    });
  });
  await page.evaluate(`window.bodilessPost(${JSON.stringify(mode)})`);
  const { networkId, ...answer } = await answered;
  const cookie = await cookieOf(networkId);
  await page.close();
  return { ...answer, cookieSent: cookie.includes('thodare_session=') };
}

/** The attacker's page at `host` submits its form: a top-level navigation, which Playwright observes whole. */
async function forgeForm(host: string): Promise<Observed> {
  const page = await attackerPage(host);
  const answered = page.waitForResponse((r) => r.url().endsWith(`/api/runs/${runId}/cancel`) && r.request().method() === 'POST');
  await page.evaluate('document.getElementById("form").submit()');
  const response = await answered;
  const observed = { status: response.status(), body: await response.text(), cookieSent: ((await response.request().allHeaders()).cookie ?? '').includes('thodare_session=') };
  await page.close();
  return observed;
}

async function runIsUntouched(): Promise<void> {
  const run = await app.request('GET', `/api/runs/${runId}`, { headers: owner.headers });
  expect(run.body.status).toBe('waiting');
  const events = await app.request('GET', `/api/runs/${runId}/events`, { headers: owner.headers });
  expect(events.body.data.map((e: { type: string }) => e.type)).not.toContain('RunCancelRequested');
}

describe('a cross-site POST without the CSRF proof', () => {
  it('is refused with 403 csrf_required although the browser sent the session cookie, and the run goes on', async () => {
    // A simple CORS request (no body, no custom header) is sent without a preflight: the page cannot
    // read the answer, but the server acts on the request — unless something refuses it.
    const forged = await forgeFetch('127.0.0.1', 'cors');
    expect([forged.cookieSent, forged.status, JSON.parse(forged.body).error]).toEqual([true, 403, 'csrf_required']);
    const opaque = await forgeFetch('127.0.0.1', 'no-cors');
    expect([opaque.cookieSent, opaque.status]).toEqual([true, 403]);
    await runIsUntouched();
  });

  it('is refused as a form post too (not JSON, and no proof), and the run goes on', async () => {
    const forged = await forgeForm('127.0.0.1');
    expect([forged.cookieSent, forged.status, JSON.parse(forged.body).error]).toEqual([true, 415, 'unsupported_media_type']);
    await runIsUntouched();
  });

  it('does not even carry the cookie from another site (SameSite=Lax): 401', async () => {
    const forged = await forgeFetch('localhost', 'cors');
    expect([forged.cookieSent, forged.status, JSON.parse(forged.body).error]).toEqual([false, 401, 'unauthorized']);
    await runIsUntouched();
  });

  it('while the console itself, same origin and with the proof, cancels the run', async () => {
    const page = await context.newPage();
    await page.goto(`${app.url}/console/runs/${runId}`);
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.getByTestId('run-status').getByText('cancelled').waitFor();
    expect((await app.request('GET', `/api/runs/${runId}`, { headers: owner.headers })).body.status).toBe('cancelled');
  });
});
