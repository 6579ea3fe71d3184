import { startTestApp, type TestApp, type TestResponse } from '../support/app';
import { createApiKey, signUp } from '../support/auth';

/**
 * Budgets of 10/min: GCRA earns one request back every 6 s, far longer than the few
 * milliseconds the bursts below take, so every count here is exact.
 */
const BUDGET = 10;
const env = { THODARE_RATE_LIMIT_PER_MIN: String(BUDGET), THODARE_AUTH_RATE_LIMIT_PER_MIN: '50' };

let one: TestApp;
let two: TestApp;
beforeAll(async () => {
  one = await startTestApp('rate_limit', env);
  two = await startTestApp('rate_limit', env, { api: true, worker: false }, one.db);
});
afterAll(async () => {
  await two?.close();
  await one?.close();
});

const session = (app: TestApp, headers: Record<string, string>) => app.request('GET', '/api/auth/session', { headers });
const remaining = (res: TestResponse) => Number(res.headers.get('x-ratelimit-remaining'));

function expectRateLimited(res: TestResponse): void {
  expect(res.status).toBe(429);
  expect(res.body).toEqual({ error: 'rate_limited', message: expect.any(String), retryAfterMs: expect.any(Number) });
  expect(res.body.retryAfterMs).toBeGreaterThan(0);
  expect(Number(res.headers.get('retry-after'))).toBe(Math.ceil(res.body.retryAfterMs / 1000));
  expect(res.headers.get('x-ratelimit-limit')).toBe(String(BUDGET));
  expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
  expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
}

describe('per-organization budgets shared by every instance', () => {
  it('spends one budget across two instances: the 11th call is 429 with Retry-After and retryAfterMs', async () => {
    const tenant = await signUp(one);
    const seen: number[] = [];
    for (let i = 0; i < BUDGET; i++) {
      const res = await session(i % 2 ? two : one, tenant.headers);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBe(String(BUDGET));
      expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
      seen.push(remaining(res));
    }
    expect(seen).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expectRateLimited(await session(two, tenant.headers));
    expectRateLimited(await session(one, tenant.headers));
  });

  it("exhausting tenant A's budget leaves tenant B, and A's own API key, untouched", async () => {
    const a = await signUp(one);
    const b = await signUp(two);
    const aKey = await createApiKey(one, a.headers, { role: 'member' }); // spends one of A's user budget
    for (let i = 1; i < BUDGET; i++) expect((await session(i % 2 ? one : two, a.headers)).status).toBe(200);
    expectRateLimited(await session(one, a.headers));

    const bFirst = await session(two, b.headers);
    expect(bFirst.status).toBe(200);
    expect(remaining(bFirst)).toBe(BUDGET - 1);
    const keyFirst = await session(one, aKey.headers);
    expect(keyFirst.status).toBe(200);
    expect(keyFirst.body.authMode).toBe('api_key');
    expect(remaining(keyFirst)).toBe(BUDGET - 1);
  });

  it('keys buckets by organization and principal, not by route or address', async () => {
    const tenant = await signUp(one);
    await session(one, tenant.headers);
    const keys = await one.db.pool.query<{ key: string }>(`SELECT key FROM rate_limit_buckets WHERE key LIKE $1`, [`api:org:${tenant.organizationId}:%`]);
    expect(keys.rows).toHaveLength(1);
    expect(keys.rows[0]!.key).toMatch(new RegExp(`^api:org:${tenant.organizationId}:user:[^:]+$`));
  });
});

describe('routes that are never limited', () => {
  it('answers /health, /ready and the docs far beyond the budget, without rate-limit headers', async () => {
    for (const path of ['/health', '/ready', '/openapi.json', '/docs']) {
      for (let i = 0; i < BUDGET * 2 + 1; i++) {
        const res = await (i % 2 ? two : one).request('GET', path);
        expect(res.status).toBe(200);
        expect(res.headers.get('x-ratelimit-limit')).toBeNull();
      }
    }
  });
});

describe('when the limiter storage fails', () => {
  it('serves API requests unmetered (fails open), refuses sign-in (fails closed) and logs the failure', async () => {
    const tenant = await signUp(one);
    await one.db.pool.query('ALTER TABLE rate_limit_buckets RENAME TO rate_limit_buckets_away');
    try {
      const res = await session(one, tenant.headers);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBeNull();
      // Both instances run in this process, and Nest's logger is the process's: the line lands in
      // the capture of the instance started last.
      expect([...one.logs, ...two.logs].join('')).toContain('rate-limit storage failed');
      // …except sign-in and sign-up, which fail closed rather than allow unmetered guessing.
      const signIn = await one.request('POST', '/api/auth/sign-in', { body: { email: tenant.email, password: tenant.password } });
      expect(signIn.status).toBe(503);
      expect(signIn.body.error).toBe('not_ready');
    } finally {
      await one.db.pool.query('ALTER TABLE rate_limit_buckets_away RENAME TO rate_limit_buckets');
    }
    expect((await session(one, tenant.headers)).headers.get('x-ratelimit-limit')).toBe(String(BUDGET));
  });
});
