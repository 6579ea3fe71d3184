import { startTestApp, type TestApp } from '../support/app';
import { signUp } from '../support/auth';

const badSignIn = (app: TestApp, forwardedFor: string) =>
  app.request('POST', '/api/auth/sign-in', { body: { email: 'nobody@example.test', password: 'wrong-password-123' }, headers: { 'x-forwarded-for': forwardedFor } });

describe('client address for per-address limits', () => {
  it('ignores X-Forwarded-For by default, so a client cannot mint itself fresh sign-in budgets', async () => {
    const app = await startTestApp('addr_untrusted', { THODARE_AUTH_RATE_LIMIT_PER_MIN: '3' });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await badSignIn(app, `203.0.113.${i}`)).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
    } finally {
      await app.close();
    }
  });

  it('uses X-Forwarded-For behind a trusted proxy (THODARE_TRUST_PROXY=true): each client its own budget', async () => {
    const app = await startTestApp('addr_trusted', { THODARE_AUTH_RATE_LIMIT_PER_MIN: '3', THODARE_TRUST_PROXY: 'true' });
    try {
      for (let i = 0; i < 3; i++) expect((await badSignIn(app, '203.0.113.7')).status).toBe(401);
      expect((await badSignIn(app, '203.0.113.7')).status).toBe(429);
      expect((await badSignIn(app, '203.0.113.8')).status).toBe(401);
    } finally {
      await app.close();
    }
  });
});

describe('sessions', () => {
  it("purges a user's expired sessions when they sign in again", async () => {
    const app = await startTestApp('session_purge');
    try {
      const user = await signUp(app);
      await app.db.pool.query(`UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE user_id = $1`, [user.userId]);
      const again = await app.request('POST', '/api/auth/sign-in', { body: { email: user.email, password: user.password } });
      expect(again.status).toBe(200);
      const { rows } = await app.db.pool.query('SELECT expires_at > now() AS live FROM sessions WHERE user_id = $1', [user.userId]);
      expect(rows).toEqual([{ live: true }]);
    } finally {
      await app.close();
    }
  });
});
