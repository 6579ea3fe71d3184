import { EventStore } from '../../src/event-store/event-store';
import { createAdmin } from '../../src/cli/admin';
import { ALL_PROJECTIONS } from '../../src/app/projections';
import { startTestApp, type TestApp } from '../support/app';
import { signIn, uniqueEmail } from '../support/auth';

/** THODARE_SIGNUP=closed and =invite; the first account comes from `thodare admin create`. */
let closed: TestApp;
let invite: TestApp;
beforeAll(async () => {
  // Two apps in one process: also proves each app authenticates with its own strategies.
  [closed, invite] = await Promise.all([
    startTestApp('signup_closed', { THODARE_SIGNUP: 'closed', THODARE_AUTH_RATE_LIMIT_PER_MIN: '10000' }),
    startTestApp('signup_invite', { THODARE_SIGNUP: 'invite', THODARE_AUTH_RATE_LIMIT_PER_MIN: '10000' }),
  ]);
});
afterAll(() => Promise.all([closed.close(), invite.close()]));

const adminOf = (app: TestApp, password?: string) =>
  createAdmin(app.db.pool, new EventStore(app.db.pool, 'unused', ALL_PROJECTIONS), { email: uniqueEmail('admin'), org: 'Acme', ...(password ? { password } : {}) });

describe('THODARE_SIGNUP=closed', () => {
  it('refuses every sign-up with 403 signup_closed, even for an invited email', async () => {
    const admin = await adminOf(closed);
    const headers = { 'x-api-key': admin.apiKey.key };
    const email = uniqueEmail();
    expect((await closed.request('POST', '/api/invitations', { headers, body: { email, role: 'member' } })).status).toBe(201);
    const res = await closed.request('POST', '/api/auth/sign-up', { body: { email, password: 'a perfectly long password' } });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('signup_closed');
  });

  it('lets the admin-created owner sign in with the generated password', async () => {
    const admin = await adminOf(closed);
    expect(admin.generatedPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const session = await signIn(closed, admin.user.email, admin.generatedPassword!);
    expect(session.body.organizations).toEqual([{ id: admin.organization.id, name: 'Acme', slug: expect.stringMatching(/^acme/), role: 'owner' }]);
    const viaKey = await closed.request('GET', '/api/auth/session', { headers: { authorization: `Bearer ${admin.apiKey.key}` } });
    expect(viaKey.body).toMatchObject({ organizationId: admin.organization.id, role: 'admin', authMode: 'api_key' });
    // Other apps of this process do not know this key: each app has its own strategies and database.
    expect((await invite.request('GET', '/api/auth/session', { headers: { authorization: `Bearer ${admin.apiKey.key}` } })).status).toBe(401);
  });
});

describe('THODARE_SIGNUP=invite', () => {
  it('lets only emails with a pending invitation sign up', async () => {
    const admin = await adminOf(invite, 'the admin password');
    expect(admin.generatedPassword).toBeUndefined();
    const invited = uniqueEmail('invited');
    expect((await invite.request('POST', '/api/invitations', { headers: { 'x-api-key': admin.apiKey.key }, body: { email: invited, role: 'viewer' } })).status).toBe(201);
    const stranger = await invite.request('POST', '/api/auth/sign-up', { body: { email: uniqueEmail('stranger'), password: 'a perfectly long password' } });
    expect(stranger.status).toBe(403);
    expect(stranger.body.error).toBe('signup_closed');
    const ok = await invite.request('POST', '/api/auth/sign-up', { body: { email: invited.toUpperCase(), password: 'a perfectly long password' } });
    expect(ok.status).toBe(201);
  });
});
