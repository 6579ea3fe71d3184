import { startTestApp, type TestApp } from '../support/app';
import { addMember, createApiKey, signUp } from '../support/auth';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp('auth_api_keys', { THODARE_AUTH_RATE_LIMIT_PER_MIN: '10000' });
});
afterAll(() => app.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('API keys', () => {
  it('creates a thd_ key shown once, usable as Bearer and as x-api-key, listed without the secret', async () => {
    const owner = await signUp(app);
    const res = await app.request('POST', '/api/api-keys', { headers: owner.headers, body: { name: 'ci', role: 'admin' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: expect.any(String), name: 'ci', role: 'admin', expiresAt: null, createdAt: expect.any(String) });
    expect(res.body.key).toMatch(/^thd_[A-Za-z0-9_-]{43}$/);
    expect(res.body.key.startsWith(res.body.prefix)).toBe(true);
    expect(res.body.prefix).toHaveLength(12);

    for (const headers of [{ authorization: `Bearer ${res.body.key}` }, { 'x-api-key': res.body.key }] as Record<string, string>[]) {
      const session = await app.request('GET', '/api/auth/session', { headers });
      expect(session.status).toBe(200);
      expect(session.body).toEqual({ user: null, organizationId: owner.organizationId, role: 'admin', authMode: 'api_key', apiKeyId: res.body.id });
    }
    const list = await app.request('GET', '/api/api-keys', { headers: owner.headers });
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(res.body.key);
    expect(list.body.data).toEqual([
      expect.objectContaining({ id: res.body.id, prefix: res.body.prefix, role: 'admin', revokedAt: null, lastUsedAt: expect.any(String), createdBy: { type: 'user', id: owner.userId } }),
    ]);
    expect(list.body.data[0]).not.toHaveProperty('key');
    const { rows } = await app.db.pool.query('SELECT key_hash FROM api_key_credentials WHERE api_key_id = $1', [res.body.id]);
    expect(rows[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a revoked key is refused with 401 on its very next request', async () => {
    const owner = await signUp(app);
    const key = await createApiKey(app, owner.headers, { role: 'admin' });
    expect((await app.request('GET', '/api/members', { headers: key.headers })).status).toBe(200);
    const revoked = await app.request('DELETE', `/api/api-keys/${key.id}`, { headers: owner.headers });
    expect(revoked.status).toBe(204);
    const next = await app.request('GET', '/api/members', { headers: key.headers });
    expect(next.status).toBe(401);
    expect(next.body.error).toBe('unauthorized');
    const list = await app.request('GET', '/api/api-keys', { headers: owner.headers });
    expect(list.body.data[0].revokedAt).toEqual(expect.any(String));
    // Revoking again is a no-op.
    expect((await app.request('DELETE', `/api/api-keys/${key.id}`, { headers: owner.headers })).status).toBe(204);
  });

  it('an expired key is refused with 401', async () => {
    const owner = await signUp(app);
    const key = await createApiKey(app, owner.headers, { expiresAt: new Date(Date.now() + 3000).toISOString() });
    expect((await app.request('GET', '/api/members', { headers: key.headers })).status).toBe(200);
    await sleep(3100);
    const after = await app.request('GET', '/api/members', { headers: key.headers });
    expect(after.status).toBe(401);
  });

  it('refuses an expiry in the past with 400 invalid_expiry', async () => {
    const owner = await signUp(app);
    const res = await app.request('POST', '/api/api-keys', { headers: owner.headers, body: { name: 'old', expiresAt: '2001-01-01T00:00:00Z' } });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_expiry');
  });

  it('a key acts with its own role: a member key cannot manage keys or members (403)', async () => {
    const owner = await signUp(app);
    const memberKey = await createApiKey(app, owner.headers, { role: 'member' });
    for (const [method, path, body] of [
      ['POST', '/api/api-keys', { name: 'x' }],
      ['GET', '/api/api-keys', undefined],
      ['POST', '/api/invitations', { email: 'x@example.test', role: 'viewer' }],
    ] as const) {
      const res = await app.request(method, path, { headers: memberKey.headers, ...(body ? { body } : {}) });
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('forbidden');
    }
    expect((await app.request('GET', '/api/members', { headers: memberKey.headers })).status).toBe(200);
  });

  it('a member (session) managing keys gets 403 forbidden', async () => {
    const owner = await signUp(app);
    const member = await addMember(app, owner, 'member');
    const create = await app.request('POST', '/api/api-keys', { headers: member.headers, body: { name: 'mine' } });
    expect(create.status).toBe(403);
    expect(create.body.error).toBe('forbidden');
    const key = await createApiKey(app, owner.headers);
    expect((await app.request('DELETE', `/api/api-keys/${key.id}`, { headers: member.headers })).status).toBe(403);
  });

  it('nobody creates a key above their own role', async () => {
    const owner = await signUp(app);
    const admin = await addMember(app, owner, 'admin');
    const res = await app.request('POST', '/api/api-keys', { headers: admin.headers, body: { name: 'too strong', role: 'owner' } });
    expect(res.status).toBe(403);
    expect((await app.request('POST', '/api/api-keys', { headers: admin.headers, body: { name: 'fine', role: 'admin' } })).status).toBe(201);
    const adminKey = await createApiKey(app, owner.headers, { role: 'admin' });
    expect((await app.request('POST', '/api/api-keys', { headers: adminKey.headers, body: { name: 'too strong', role: 'owner' } })).status).toBe(403);
  });

  it("another organization's key id is 404 not_found", async () => {
    const a = await signUp(app);
    const b = await signUp(app);
    const bKey = await createApiKey(app, b.headers);
    const res = await app.request('DELETE', `/api/api-keys/${bKey.id}`, { headers: a.headers });
    expect(res.status).toBe(404);
    expect((await app.request('GET', '/api/auth/session', { headers: bKey.headers })).status).toBe(200);
  });

  it('records lastUsedAt at most once a minute', async () => {
    const owner = await signUp(app);
    const key = await createApiKey(app, owner.headers);
    await app.request('GET', '/api/members', { headers: key.headers });
    const first = (await app.db.pool.query('SELECT last_used_at FROM api_key_credentials WHERE api_key_id = $1', [key.id])).rows[0].last_used_at;
    expect(first).toBeInstanceOf(Date);
    await app.request('GET', '/api/members', { headers: key.headers });
    const second = (await app.db.pool.query('SELECT last_used_at FROM api_key_credentials WHERE api_key_id = $1', [key.id])).rows[0].last_used_at;
    expect(second).toEqual(first);
  });
});
