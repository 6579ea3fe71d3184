import { startTestApp, type TestApp } from '../support/app';
import { createApiKey, signUp, uniqueEmail, type SignedUp } from '../support/auth';

/**
 * CSRF: a write authenticated by the session cookie must carry X-Thodare-CSRF (a cross-site
 * form cannot send it) or it is 403 `csrf_required` and changes nothing; API keys and bearer
 * tokens are unaffected. Sign-in and sign-up refuse pages of another site (login CSRF), yet
 * clients that are not browsers (no Sec-Fetch-Site, no Origin) sign in as before.
 */
const PUBLIC_URL = 'https://console.example.test';
let app: TestApp;
let owner: SignedUp;
let cookie: { cookie: string };

beforeAll(async () => {
  app = await startTestApp('console_csrf', { THODARE_PUBLIC_URL: PUBLIC_URL }, { api: true, worker: false });
  owner = await signUp(app);
  cookie = { cookie: `thodare_session=${owner.token}` };
});
afterAll(() => app?.close());

const workflowNames = async () => ((await app.request('GET', '/api/workflows', { headers: owner.headers })).body.data as { name: string }[]).map((w) => w.name);

describe('cookie-authenticated writes', () => {
  it('refuses a write without the CSRF header with 403 csrf_required, and stores nothing', async () => {
    const res = await app.request('POST', '/api/workflows', { headers: cookie, body: { name: 'forged' } });
    expect([res.status, res.body.error]).toEqual([403, 'csrf_required']);
    expect(res.body.message).toContain('X-Thodare-CSRF');
    expect(await workflowNames()).not.toContain('forged');
    const bodiless = await app.request('POST', '/api/auth/sign-out', { headers: cookie });
    expect([bodiless.status, bodiless.body.error]).toEqual([403, 'csrf_required']);
    expect((await app.request('GET', '/api/auth/session', { headers: cookie })).status).toBe(200); // still signed in
  });

  it('accepts the same write with the header, and reads without it', async () => {
    const res = await app.request('POST', '/api/workflows', { headers: { ...cookie, 'x-thodare-csrf': '1' }, body: { name: 'from the console' } });
    expect(res.status).toBe(201);
    expect(await workflowNames()).toContain('from the console');
    expect((await app.request('GET', '/api/workflows', { headers: cookie })).status).toBe(200);
    const removed = await app.request('DELETE', `/api/workflows/${res.body.id}`, { headers: cookie });
    expect([removed.status, removed.body.error]).toEqual([403, 'csrf_required']);
    expect((await app.request('DELETE', `/api/workflows/${res.body.id}`, { headers: { ...cookie, 'x-thodare-csrf': '1' } })).status).toBe(204);
  });

  it('leaves API keys and bearer sessions alone: a page cannot make a browser send them', async () => {
    const key = await createApiKey(app, owner.headers, { role: 'member' });
    expect((await app.request('POST', '/api/workflows', { headers: key.headers, body: { name: 'by key' } })).status).toBe(201);
    expect((await app.request('POST', '/api/workflows', { headers: { 'x-api-key': key.key }, body: { name: 'by x-api-key' } })).status).toBe(201);
    expect((await app.request('POST', '/api/workflows', { headers: owner.headers, body: { name: 'by bearer' } })).status).toBe(201);
    // A key beside the cookie is what authenticates, so no proof is asked for.
    expect((await app.request('POST', '/api/workflows', { headers: { ...key.headers, ...cookie }, body: { name: 'key and cookie' } })).status).toBe(201);
    expect(await workflowNames()).toEqual(expect.arrayContaining(['by key', 'by x-api-key', 'by bearer', 'key and cookie']));
  });

  it('still answers 401 to a bad cookie, before any CSRF question', async () => {
    const res = await app.request('POST', '/api/workflows', { headers: { cookie: 'thodare_session=ths_not-a-session' }, body: { name: 'x' } });
    expect([res.status, res.body.error]).toEqual([401, 'unauthorized']);
  });
});

describe('sign-in and sign-up from another site (login CSRF)', () => {
  const signIn = (headers: Record<string, string>) => app.request('POST', '/api/auth/sign-in', { headers, body: { email: owner.email, password: owner.password } });

  it('refuses them when the browser says the page is of another site', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const res = await signIn({ 'sec-fetch-site': site });
      expect([site, res.status, res.body.error, res.headers.get('set-cookie')]).toEqual([site, 403, 'cross_site_request', null]);
    }
    const email = uniqueEmail('forged');
    const signUpRes = await app.request('POST', '/api/auth/sign-up', { headers: { 'sec-fetch-site': 'cross-site' }, body: { email, password: 'a long enough password' } });
    expect([signUpRes.status, signUpRes.body.error]).toEqual([403, 'cross_site_request']);
    expect((await app.request('POST', '/api/auth/sign-in', { body: { email, password: 'a long enough password' } })).status).toBe(401); // no account was made
  });

  it('refuses an Origin naming another origin when the browser sends no Sec-Fetch-Site', async () => {
    for (const origin of ['https://evil.example', 'null', 'http://127.0.0.1:1']) {
      const res = await signIn({ origin });
      expect([origin, res.status, res.body.error]).toEqual([origin, 403, 'cross_site_request']);
    }
  });

  it('accepts this origin, THODARE_PUBLIC_URL, a typed address, and clients that are not browsers', async () => {
    const allowed: Record<string, string>[] = [{ 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }, { origin: app.url }, { origin: PUBLIC_URL }, {}];
    for (const headers of allowed) {
      const res = await signIn(headers);
      expect([headers, res.status]).toEqual([headers, 200]);
    }
  });
});
