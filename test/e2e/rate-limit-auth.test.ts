import { request as httpRequest } from 'node:http';
import { startTestApp, type TestApp, type TestResponse } from '../support/app';

const AUTH_BUDGET = 5;
const GENERAL_BUDGET = 100;

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp('rate_limit_auth', {
    THODARE_AUTH_RATE_LIMIT_PER_MIN: String(AUTH_BUDGET),
    THODARE_RATE_LIMIT_PER_MIN: String(GENERAL_BUDGET),
  });
});
afterAll(() => app?.close());

const email = 'brute@example.com';
const password = 'correct horse battery staple';

/** A POST from another loopback address (Linux routes all of 127/8 to lo): another client. */
function postFrom(localAddress: string, path: string, body: unknown): Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }> {
  const url = new URL(path, app.url);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function expectAuthLimited(res: TestResponse): void {
  expect(res.status).toBe(429);
  expect(res.body.error).toBe('rate_limited');
  expect(res.body.retryAfterMs).toBeGreaterThan(0);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(res.headers.get('x-ratelimit-limit')).toBe(String(AUTH_BUDGET));
  expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
}

describe('sign-in and sign-up budget per client address', () => {
  let token: string;

  it('counts sign-up and failed sign-ins against one budget, then answers 429 whatever the credentials', async () => {
    const created = await app.request('POST', '/api/auth/sign-up', { body: { email, password } });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-ratelimit-limit')).toBe(String(AUTH_BUDGET));
    expect(created.headers.get('x-ratelimit-remaining')).toBe(String(AUTH_BUDGET - 1));
    token = created.body.token;

    const left: number[] = [];
    for (let i = 1; i < AUTH_BUDGET; i++) {
      const bad = await app.request('POST', '/api/auth/sign-in', { body: { email, password: `wrong password ${i}` } });
      expect(bad.status).toBe(401);
      expect(bad.body.error).toBe('invalid_credentials');
      left.push(Number(bad.headers.get('x-ratelimit-remaining')));
    }
    expect(left).toEqual([3, 2, 1, 0]);

    expectAuthLimited(await app.request('POST', '/api/auth/sign-in', { body: { email, password: 'yet another guess' } }));
    expectAuthLimited(await app.request('POST', '/api/auth/sign-in', { body: { email: 'nobody@example.com', password } }));
    expectAuthLimited(await app.request('POST', '/api/auth/sign-in', { body: { email, password } }));
    expectAuthLimited(await app.request('POST', '/api/auth/sign-up', { body: { email: 'late@example.com', password } }));
  });

  it('refuses before the handler runs: the refused sign-up created no account', async () => {
    const probe = await postFrom('127.0.0.2', '/api/auth/sign-in', { email: 'late@example.com', password });
    expect(probe.status).toBe(401);
    expect(probe.body.error).toBe('invalid_credentials');
  });

  it('leaves other addresses their own budget', async () => {
    const res = await postFrom('127.0.0.3', '/api/auth/sign-in', { email, password });
    expect(res.status).toBe(200);
    expect(res.headers['x-ratelimit-limit']).toBe(String(AUTH_BUDGET));
    expect(res.headers['x-ratelimit-remaining']).toBe(String(AUTH_BUDGET - 1));
  });

  it('does not touch the general budget: the signed-up user still works from the limited address', async () => {
    const res = await app.request('GET', '/api/auth/session', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit')).toBe(String(GENERAL_BUDGET));
    expect(res.headers.get('x-ratelimit-remaining')).toBe(String(GENERAL_BUDGET - 1));
  });
});
