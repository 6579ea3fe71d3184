import { startTestApp, type TestApp } from '../support/app';
import { createApiKey, signIn, signUp, uniqueEmail } from '../support/auth';

let app: TestApp;
beforeAll(async () => {
  // Principals kept 0.9 s: some rows here change behind the API in ways that notify nobody (a
  // session's `last_seen_at`, as its sliding renewal writes it), and must reach a lookup soon.
  app = await startTestApp('auth', { THODARE_AUTH_RATE_LIMIT_PER_MIN: '10000', THODARE_AUTH_CACHE_MS: '900' });
});
afterAll(() => app.close());

describe('sign-up', () => {
  it('creates a user, a personal organization they own, and a working session', async () => {
    const email = uniqueEmail('alice');
    const res = await app.request('POST', '/api/auth/sign-up', { body: { email: `  ${email.toUpperCase()} `, password: 'correct horse battery', name: 'Alice' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ user: { id: expect.any(String), email, name: 'Alice' }, organization: { id: expect.any(String), name: "Alice's organization", slug: 'alices-organization' } });
    expect(res.body.token).toMatch(/^ths_[A-Za-z0-9_-]{43}$/);
    const session = await app.request('GET', '/api/auth/session', { headers: { authorization: `Bearer ${res.body.token}` } });
    expect(session.status).toBe(200);
    expect(session.body).toEqual({ user: res.body.user, organizationId: res.body.organization.id, role: 'owner', authMode: 'session' });
  });

  it('gives every organization a unique slug', async () => {
    const a = await signUp(app, { name: 'Same Name' });
    const b = await signUp(app, { name: 'Same Name' });
    expect(a.organizationSlug).toBe('same-names-organization');
    expect(b.organizationSlug).toMatch(/^same-names-organization-[0-9a-f]{6}$/);
  });

  it('refuses a password under 12 characters with 400 weak_password', async () => {
    const res = await app.request('POST', '/api/auth/sign-up', { body: { email: uniqueEmail(), password: 'short-pw-11' } });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('weak_password');
  });

  it('refuses a taken email, whatever its case and spacing, with 409 email_taken', async () => {
    const user = await signUp(app);
    const res = await app.request('POST', '/api/auth/sign-up', { body: { email: ` ${user.email.toUpperCase()}`, password: 'another long password' } });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('email_taken');
  });

  it('stores the password only as a salted scrypt hash', async () => {
    const user = await signUp(app);
    const { rows } = await app.db.pool.query('SELECT password_hash FROM users WHERE id = $1', [user.userId]);
    expect(rows[0].password_hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(rows[0].password_hash).not.toContain(user.password);
  });
});

describe('sign-in', () => {
  it('answers with a new session, the organizations and the active one', async () => {
    const user = await signUp(app);
    const res = await app.request('POST', '/api/auth/sign-in', { body: { email: user.email.toUpperCase(), password: user.password } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      user: { id: user.userId, email: user.email },
      organizations: [{ id: user.organizationId, role: 'owner' }],
      activeOrganizationId: user.organizationId,
    });
    expect(res.body.token).not.toBe(user.token);
  });

  it('gives the same 401 invalid_credentials for a wrong password and an unknown email', async () => {
    const user = await signUp(app);
    const wrong = await app.request('POST', '/api/auth/sign-in', { body: { email: user.email, password: 'not the password at all' } });
    const unknown = await app.request('POST', '/api/auth/sign-in', { body: { email: uniqueEmail('nobody'), password: 'not the password at all' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error).toBe('invalid_credentials');
  });
});

describe('sessions', () => {
  it('sets an HttpOnly SameSite=Lax cookie that authenticates on its own', async () => {
    const res = await app.request('POST', '/api/auth/sign-up', { body: { email: uniqueEmail(), password: 'cookie monster password' } });
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^thodare_session=ths_[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+/);
    const pair = cookie.split(';')[0]!;
    const session = await app.request('GET', '/api/auth/session', { headers: { cookie: `other=1; ${pair}` } });
    expect(session.status).toBe(200);
    expect(session.body.user.id).toBe(res.body.user.id);
  });

  it('sign-out revokes the token at once, and clears the cookie', async () => {
    const user = await signUp(app);
    const other = await signIn(app, user.email, user.password);
    const out = await app.request('POST', '/api/auth/sign-out', { headers: user.headers });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^thodare_session=; .*Max-Age=0/);
    const after = await app.request('GET', '/api/auth/session', { headers: user.headers });
    expect(after.status).toBe(401);
    expect(after.body.error).toBe('unauthorized');
    expect((await app.request('GET', '/api/auth/session', { headers: { cookie: `thodare_session=${user.token}` } })).status).toBe(401);
    // Only that session: the user's other session still works.
    expect((await app.request('GET', '/api/auth/session', { headers: other.headers })).status).toBe(200);
  });

  it('refuses an expired session, and renews an active one at most every few minutes', async () => {
    // Rows changed behind the API's back reach a lookup once the cached principal's time is up
    // (THODARE_AUTH_CACHE_MS, 0.9 s here) or at once when the change notifies: each step asks
    // until its lookup has happened.
    const eventually = async (check: () => Promise<boolean>) => {
      for (let tries = 0; !(await check()); tries += 1) {
        if (tries > 100) throw new Error('never happened');
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const user = await signUp(app);
    const before = await app.db.pool.query('SELECT expires_at FROM sessions WHERE user_id = $1', [user.userId]);
    expect((await app.request('GET', '/api/auth/session', { headers: user.headers })).status).toBe(200);
    const unchanged = await app.db.pool.query('SELECT expires_at FROM sessions WHERE user_id = $1', [user.userId]);
    expect(unchanged.rows[0].expires_at).toEqual(before.rows[0].expires_at);
    // As if the session had last been seen 10 minutes ago: the next lookup slides its expiry.
    await app.db.pool.query(`UPDATE sessions SET last_seen_at = now() - interval '10 minutes', expires_at = now() + interval '1 hour' WHERE user_id = $1`, [user.userId]);
    await eventually(async () => {
      expect((await app.request('GET', '/api/auth/session', { headers: user.headers })).status).toBe(200);
      const renewed = await app.db.pool.query(`SELECT expires_at > now() + interval '100 hours' AS slid FROM sessions WHERE user_id = $1`, [user.userId]);
      return renewed.rows[0].slid === true;
    });
    // A browser's cookie slides with it: the renewing response re-sends the cookie, once.
    await app.db.pool.query(`UPDATE sessions SET last_seen_at = now() - interval '10 minutes' WHERE user_id = $1`, [user.userId]);
    await eventually(async () => {
      const viaCookie = await app.request('GET', '/api/auth/session', { headers: { cookie: `thodare_session=${user.token}` } });
      const cookie = viaCookie.headers.get('set-cookie');
      if (cookie) expect(cookie).toMatch(new RegExp(`^thodare_session=${user.token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=(\\d+)`));
      return cookie !== null;
    });
    expect((await app.request('GET', '/api/auth/session', { headers: { cookie: `thodare_session=${user.token}` } })).headers.get('set-cookie')).toBeNull();
    await app.db.pool.query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [user.userId]);
    await eventually(async () => (await app.request('GET', '/api/auth/session', { headers: user.headers })).status === 401);
  });

  it('stores only the SHA-256 of session tokens', async () => {
    const user = await signUp(app);
    const { rows } = await app.db.pool.query('SELECT token_hash FROM sessions WHERE user_id = $1', [user.userId]);
    expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(user.token);
  });

  it('answers 401 unauthorized for missing, malformed and made-up credentials', async () => {
    for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: 'Bearer ths_madeup' }, { authorization: 'Bearer thd_madeup' }, { 'x-api-key': 'thd_madeup' }] as Record<string, string>[]) {
      const res = await app.request('GET', '/api/auth/session', { headers });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('unauthorized');
    }
  });
});

describe('active organization', () => {
  it('switches to an organization the user belongs to, and 404s for any other', async () => {
    const user = await signUp(app);
    const stranger = await signUp(app);
    const created = await app.request('POST', '/api/organizations', { headers: user.headers, body: { name: 'Second', slug: `second-${Date.now()}` } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Second', role: 'owner' });
    const switched = await app.request('POST', '/api/auth/active-organization', { headers: user.headers, body: { organizationId: created.body.id } });
    expect(switched.status).toBe(200);
    expect(switched.body).toEqual({ organizationId: created.body.id, role: 'owner' });
    expect((await app.request('GET', '/api/auth/session', { headers: user.headers })).body.organizationId).toBe(created.body.id);
    const foreign = await app.request('POST', '/api/auth/active-organization', { headers: user.headers, body: { organizationId: stranger.organizationId } });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toBe('not_found');
    const list = await app.request('GET', '/api/organizations', { headers: user.headers });
    expect(list.body.next).toBeNull();
    expect(list.body.data.map((o: { id: string; active: boolean }) => [o.id, o.active])).toEqual([
      [user.organizationId, false],
      [created.body.id, true],
    ]);
  });

  it('is for sessions only: an API key gets 403', async () => {
    const user = await signUp(app);
    const key = await createApiKey(app, user.headers, { role: 'owner' });
    const res = await app.request('POST', '/api/auth/active-organization', { headers: key.headers, body: { organizationId: user.organizationId } });
    expect(res.status).toBe(403);
  });

  it('refuses a taken slug with 409 slug_taken', async () => {
    const user = await signUp(app);
    const res = await app.request('POST', '/api/organizations', { headers: user.headers, body: { name: 'Taken', slug: user.organizationSlug } });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('slug_taken');
  });
});
